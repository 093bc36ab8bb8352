package cluster_test

import (
	"context"
	"encoding/binary"
	"errors"
	"math/rand/v2"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/squall-streams/squall/cluster"
	"github.com/squall-streams/squall/cluster/clustertest"
	"github.com/squall-streams/squall/cluster/transport"
	"github.com/squall-streams/squall/internal/poll"
	"github.com/squall-streams/squall/messages"
)

func frame(b []byte) []byte {
	f := make([]byte, 4+len(b))
	binary.BigEndian.PutUint32(f, uint32(len(b)))
	copy(f[4:], b)
	return f
}

// TestTransportRejectsMalformedInput sends a node's transport port what
// crashed protoactor-go's remote (a message for an unknown type, an
// out-of-range id), plus garbage, oversized and truncated frames, and
// checks the node keeps running a topology across nodes afterwards.
func TestTransportRejectsMalformedInput(t *testing.T) {
	const n = 2000
	src := newSource(n)
	c := clustertest.New(t, 2, map[string]cluster.Factory{"ids": factory(src)})
	var addr, boot string
	for _, m := range c.Node(0).Members() {
		if m.Name == c.Node(1).Name() {
			addr, boot = m.RemoteAddr, m.BootID
		}
	}
	if addr == "" {
		t.Fatal("no transport address for node 1")
	}
	if err := c.Node(0).Submit("ids", "ids", nil); err != nil {
		t.Fatal(err)
	}
	poll.Until(t, 60*time.Second, "some ids acked", func() bool { return src.Acked() > 100 })
	unknownTarget, _ := proto.Marshal(&messages.Envelope{ToTopology: "no-such-topology", ToBoot: boot, ToTask: 1, Payload: &messages.Envelope_Tuples{Tuples: &messages.TupleBatch{Topology: "x"}}})
	oldTarget, _ := proto.Marshal(&messages.Envelope{Payload: &messages.Envelope_Tuples{Tuples: &messages.TupleBatch{Topology: "ids"}}})
	oldTarget = append([]byte{0x0a, byte(len("ids/" + boot + "/t1"))}, append([]byte("ids/"+boot+"/t1"), oldTarget...)...) // field 1, reserved
	// Well-framed batches for every task of node 1 that lie: unknown source
	// tasks, wrong destinations, missing values, a stale epoch, bogus
	// tracker and completion updates.
	var lies [][]byte
	for task := 1; task <= 10; task++ {
		for _, env := range []*messages.Envelope{
			{ToTopology: "ids", ToBoot: boot, ToTask: int32(task), Payload: &messages.Envelope_Tuples{Tuples: &messages.TupleBatch{Topology: "ids", Epoch: 7, Tuples: []*messages.Tuple{{Stream: "default"}}}}},
			{ToTopology: "ids", ToBoot: boot, ToTask: int32(task), Payload: &messages.Envelope_Tracker{Tracker: &messages.TrackerBatch{Topology: "ids", Epoch: 7, Acks: []*messages.TrackerAck{{Root: 1, Xor: 2}}}}},
			{ToTopology: "ids", ToBoot: boot, ToTask: int32(task), Payload: &messages.Envelope_Completions{Completions: &messages.CompletionBatch{Topology: "ids", Epoch: 7, Completions: []*messages.Completion{{Root: 3}}}}},
		} {
			b, _ := proto.Marshal(env)
			lies = append(lies, frame(b))
		}
	}
	garbage := make([]byte, 4096)
	for i := range garbage {
		garbage[i] = byte(rand.IntN(256))
	}
	inputs := [][]byte{
		frame([]byte{0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f}), // truncated field
		frame([]byte{0xff}),      // an unknown wire type
		frame(nil),               // empty frame
		{0xff, 0xff, 0xff, 0xff}, // a 4 GiB length
		frame(unknownTarget),     // a target that does not exist
		frame(oldTarget),         // the old actor-name address, now reserved
		slices.Concat(lies...),   // lies, well framed
		garbage,
		frame(garbage),
	}
	// Every input on a tuple connection, and the garbage without a preface.
	for i := range inputs {
		inputs[i] = append([]byte{transport.PrefaceTuples}, inputs[i]...)
	}
	inputs = append(inputs, garbage)
	for _, in := range inputs {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = conn.Write(in)
		_ = conn.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
		var b [1]byte
		_, _ = conn.Read(b[:]) // the node closes the connection on bad input, or the deadline passes
		conn.Close()
	}
	// Both nodes still work together.
	poll.Until(t, 60*time.Second, "every id acked after the malformed input", func() bool { return src.Acked() == n })
}

// TestGossipRejectsStrangers: random bytes at the gossip port add no
// member, a node with the wrong key cannot join, and a node cannot take the
// name of a live one.
func TestGossipRejectsStrangers(t *testing.T) {
	c := clustertest.New(t, 2, nil)
	gossip := c.Node(0).GossipAddr()
	for range 50 {
		b := make([]byte, 1+rand.IntN(1400))
		for i := range b {
			b[i] = byte(rand.IntN(256))
		}
		if u, err := net.Dial("udp", gossip); err == nil {
			_, _ = u.Write(b)
			u.Close()
		}
		if tc, err := net.DialTimeout("tcp", gossip, time.Second); err == nil {
			_, _ = tc.Write(b)
			tc.Close()
		}
	}

	wrong := cluster.LocalConfig()
	wrong.Insecure = true // a throwaway node
	wrong.Name, wrong.Bind, wrong.HTTP = "intruder", "127.0.0.1:0", ""
	wrong.Bind = clustertest.FreeAddr(t)
	wrong.GossipKey = cluster.Keygen()
	wrong.Join = []string{gossip}
	if n, err := cluster.Start(context.Background(), wrong); err == nil {
		_ = n.Shutdown(context.Background())
		t.Error("a node with the wrong gossip key joined")
	} else if !strings.Contains(err.Error(), "gossip-key") {
		t.Errorf("wrong key error does not say what to check: %v", err)
	}

	// Whatever the strangers sent, the members are the two nodes.
	for _, m := range c.Node(1).Members() {
		if m.Name != c.Node(0).Name() && m.Name != c.Node(1).Name() {
			t.Errorf("phantom member %+v", m)
		}
	}
}

func TestNameOfALiveNodeIsRefused(t *testing.T) {
	c := clustertest.New(t, 1, nil)
	cfg := cluster.LocalConfig()
	cfg.Insecure = true // a throwaway node
	cfg.Name = c.Node(0).Name()
	cfg.Bind = clustertest.FreeAddr(t)
	cfg.HTTP = ""
	cfg.Join = []string{c.Node(0).GossipAddr()}
	// The key must match for the join to get as far as the name check.
	cfg.GossipKey = c.Key()
	n, err := cluster.Start(context.Background(), cfg)
	if err == nil {
		_ = n.Shutdown(context.Background())
		t.Fatal("a second node with a live node's name joined")
	}
	if !errors.Is(err, cluster.ErrNameInUse) {
		t.Fatalf("err = %v, want ErrNameInUse", err)
	}
}

// Without a gossip key nodes still join, and stray bytes at the gossip port
// add no member. (Random bytes rarely parse as gossip at all; the label's
// own effect, dropping well-formed gossip that lacks it, is memberlist's and
// is not re-tested here.)
func TestGossipWithoutKey(t *testing.T) {
	cfg := cluster.LocalConfig()
	cfg.Insecure = true // a throwaway node
	cfg.Name, cfg.Bind, cfg.HTTP = "plain", clustertest.FreeAddr(t), ""
	n, err := cluster.Start(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer n.Shutdown(context.Background())
	for range 50 {
		b := make([]byte, 1+rand.IntN(1400))
		for i := range b {
			b[i] = byte(rand.IntN(256))
		}
		if u, err := net.Dial("udp", cfg.Bind); err == nil {
			_, _ = u.Write(b)
			u.Close()
		}
		if tc, err := net.DialTimeout("tcp", cfg.Bind, time.Second); err == nil {
			_, _ = tc.Write(b)
			tc.Close()
		}
	}
	// A second key-less node joins fine.
	cfg2 := cluster.LocalConfig()
	cfg2.Insecure = true // a throwaway node
	cfg2.Name, cfg2.Bind, cfg2.HTTP, cfg2.Join = "plain2", clustertest.FreeAddr(t), "", []string{cfg.Bind}
	n2, err := cluster.Start(context.Background(), cfg2)
	if err != nil {
		t.Fatal(err)
	}
	defer n2.Shutdown(context.Background())
	poll.Until(t, 10*time.Second, "two members", func() bool { return len(n.Members()) == 2 })
	for _, m := range n.Members() {
		if m.Name != "plain" && m.Name != "plain2" {
			t.Errorf("phantom member %+v", m)
		}
	}
}
