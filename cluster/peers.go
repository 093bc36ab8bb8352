package cluster

import (
	"log/slog"

	"github.com/squall-streams/squall/cluster/transport"
)

// listenTransport starts the node's end of the node-to-node transport at
// addr: batches for this node's tasks go to deliver.
func (n *Node) listenTransport(addr string, logger *slog.Logger) (*transport.Transport, error) {
	cfg := transport.DefaultConfig()
	cfg.Addr, cfg.Logger, cfg.Deliver = addr, logger, n.deliver
	return transport.Listen(cfg)
}
