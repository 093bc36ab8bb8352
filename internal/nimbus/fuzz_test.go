package nimbus

import (
	"bytes"
	"context"
	"encoding/binary"
	"io"
	"os"
	"runtime"
	"testing"
	"time"

	"github.com/apache/thrift/lib/go/thrift"

	"github.com/squall-streams/squall/internal/nimbus/storm"
)

func framed(msgs ...[]byte) []byte {
	var out []byte
	for _, m := range msgs {
		out = binary.BigEndian.AppendUint32(out, uint32(len(m)))
		out = append(out, m...)
	}
	return out
}

// FuzzProcess feeds bytes from the network to the server's decoder and
// handler, as serveConn does: no panic, and allocation bounded by the
// input (not by the lengths it claims).
func FuzzProcess(f *testing.F) {
	wc := storm.NewNimbusSubmitTopologyArgs()
	wc.Name, wc.UploadedJarLocation, wc.JsonConf = "wc", "/squall/inbox/stormjar-x.jar", "{}"
	wc.Topology = wordcountTopology(&testing.T{})
	f.Add(framed(message(&testing.T{}, "getClusterInfo", storm.NewNimbusGetClusterInfoArgs())))
	f.Add(framed(message(&testing.T{}, "submitTopology", wc)))
	f.Add(framed(message(&testing.T{}, "beginFileUpload", storm.NewNimbusBeginFileUploadArgs()),
		message(&testing.T{}, "isTopologyNameAllowed", &storm.NimbusIsTopologyNameAllowedArgs{Name: "wc"})))
	f.Add([]byte{0x7f, 0xff, 0xff, 0xff, 0x80, 0x01, 0x00, 0x01})
	f.Add(framed([]byte{0x80, 0x01, 0x00, 0x01, 0x7f, 0xff, 0xff, 0xff}))
	f.Add(framed([]byte{0x80, 0x01, 0x00, 0x01, 0, 0, 0, 1, 'x', 0, 0, 0, 1, 0x0d, 1, 0x0b, 0x0b, 0x7f, 0xff, 0xff, 0xff}))
	f.Fuzz(func(t *testing.T, data []byte) {
		dir, err := os.MkdirTemp("", "nimbus-fuzz-")
		if err != nil {
			t.Fatal(err)
		}
		defer os.RemoveAll(dir)
		cfg := LocalConfig()
		cfg.UploadDir = dir
		cfg.Now = nowForFuzz
		h := newHandler(&cfg, newFakeBackend(), DefaultPort)
		tcfg := &thrift.TConfiguration{MaxFrameSize: cfg.MaxFrameSize, MaxMessageSize: cfg.MaxFrameSize}
		trans := thrift.NewTFramedTransportConf(thrift.NewStreamTransport(bytes.NewReader(data), io.Discard), tcfg)
		proto := thrift.NewTBinaryProtocolConf(trans, tcfg)
		proc := storm.NewNimbusProcessor(h)
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		for range 32 {
			ok, err := proc.Process(context.Background(), proto, proto)
			if err != nil && !ok {
				break
			}
		}
		runtime.ReadMemStats(&after)
		if grew := after.TotalAlloc - before.TotalAlloc; grew > 16<<20+uint64(64*len(data)) {
			t.Errorf("%d bytes of input allocated %d bytes", len(data), grew)
		}
	})
}

func nowForFuzz() time.Time { return time.Unix(1_700_000_000, 0) }
