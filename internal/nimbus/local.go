package nimbus

import (
	"context"
	"fmt"

	"github.com/apache/thrift/lib/go/thrift"

	"github.com/squall-streams/squall/internal/nimbus/storm"
)

// ConvertThrift is Convert for a StormTopology in Thrift's binary encoding,
// as streamparse's Topology.write makes it: `node run topologies/x.py`
// has the project's Python write its topology class, and runs the Flux
// definition this returns in local mode.
func ConvertThrift(name string, conf map[string]any, data []byte) ([]byte, error) {
	t := storm.NewStormTopology()
	cfg := &thrift.TConfiguration{MaxMessageSize: MaxResourcesBytes}
	d := thrift.NewTDeserializer()
	d.Protocol = thrift.NewTBinaryProtocolConf(d.Transport, cfg)
	if err := d.Read(context.Background(), t, data); err != nil {
		return nil, fmt.Errorf("topology %q: decoding the StormTopology: %w", name, err)
	}
	return Convert(name, conf, t)
}
