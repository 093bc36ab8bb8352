package preflight

import (
	"errors"
	"fmt"
	"strings"
)

// ErrNotSecured: a node without its gossip key or certificates, and no
// --insecure. ErrConflict: --insecure with a key or certificates.
var (
	ErrNotSecured = errors.New("node: not secured")
	ErrConflict   = errors.New("node: --insecure with a gossip key or certificates")
)

// Security is what the node was started with.
type Security struct {
	GossipKeys int    // how many --gossip-key keys
	CertsDir   string // --certs-dir
	Insecure   bool   // --insecure
}

// InsecureWarning is what a node started with --insecure prints at start
// and the web UI shows.
const InsecureWarning = "running with --insecure: gossip is not encrypted, and the tuple transport and (without --admin-token) the HTTP API authenticate nobody; anyone who reaches this node's ports can join the cluster, read and forge tuples, and submit or kill topologies. Use it only for a throwaway cluster."

// howTo is the way to a secured cluster.
const howTo = `  node keygen                                   # a gossip key: --gossip-key KEY (env SQUALL_GOSSIP_KEY)
  node cert create-ca --certs-dir D
  node cert create-node --host HOST --certs-dir D   # HOST: the node's IP or DNS name; repeatable
  node cert create-client admin --certs-dir D       # for the client commands
then start every node with --gossip-key KEY --certs-dir D;
or pass --insecure to run a throwaway cluster with neither.`

// Check returns nil when s may start, or an error that says what to run.
func (s Security) Check() error {
	if s.Insecure {
		if s.GossipKeys > 0 || s.CertsDir != "" {
			return fmt.Errorf("%w: drop --insecure to use them, or drop --gossip-key and --certs-dir", ErrConflict)
		}
		return nil
	}
	var missing []string
	if s.GossipKeys == 0 {
		missing = append(missing, "a gossip key (--gossip-key)")
	}
	if s.CertsDir == "" {
		missing = append(missing, "certificates (--certs-dir)")
	}
	if len(missing) == 0 {
		return nil
	}
	return fmt.Errorf("%w: a cluster node needs %s:\n%s", ErrNotSecured, strings.Join(missing, " and "), howTo)
}
