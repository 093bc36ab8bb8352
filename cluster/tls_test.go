package cluster_test

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/squall-streams/squall/cluster"
	clusterapi "github.com/squall-streams/squall/cluster/api"
	"github.com/squall-streams/squall/cluster/clustertest"
	"github.com/squall-streams/squall/cluster/transport"
	"github.com/squall-streams/squall/internal/certs"
	"github.com/squall-streams/squall/internal/gossipkey"
	"github.com/squall-streams/squall/internal/poll"
	"github.com/squall-streams/squall/messages"
	"github.com/squall-streams/squall/topology"
)

// newCerts makes a certs directory as `node cert` does: a CA, a node
// certificate for 127.0.0.1 and an admin client certificate.
func newCerts(t testing.TB) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "certs")
	if err := certs.CreateCA(dir, certs.Options{}); err != nil {
		t.Fatal(err)
	}
	if err := certs.CreateNode(dir, []string{"127.0.0.1", "localhost"}, certs.Options{}); err != nil {
		t.Fatal(err)
	}
	if err := certs.CreateClient(dir, certs.AdminUser, certs.Options{}); err != nil {
		t.Fatal(err)
	}
	return dir
}

func loadNode(t testing.TB, dir string) *certs.Node {
	t.Helper()
	n, err := certs.LoadNode(dir)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// withCerts configures clustertest's nodes with node certificates: their
// transport on 127.0.0.1, the address the certificate names.
func withCerts(n *certs.Node) func(int, *cluster.Config) {
	return func(_ int, c *cluster.Config) { c.Certs, c.Remote = n, "127.0.0.1:0" }
}

// httpsGet GETs path of the HTTPS API at addr with tc, and returns the
// status and body.
func httpsGet(t *testing.T, tc *tls.Config, addr, path string) (int, string) {
	t.Helper()
	tr := &http.Transport{TLSClientConfig: tc}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr, Timeout: 10 * time.Second}).Get("https://" + addr + path)
	if err != nil {
		t.Fatalf("GET https://%s%s: %v", addr, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// transportAddr is node i's transport address as node 0 sees it.
func transportAddr(t *testing.T, c *clustertest.Cluster, i int) string {
	t.Helper()
	for _, m := range c.Node(0).Members() {
		if m.Name == c.Node(i).Name() {
			return m.RemoteAddr
		}
	}
	t.Fatalf("no transport address for node %d", i)
	return ""
}

// rejected is node i's squall_transport_rejected_total, over HTTPS.
func rejected(t *testing.T, tc *tls.Config, c *clustertest.Cluster, i int) float64 {
	t.Helper()
	_, body := httpsGet(t, tc, c.Node(i).HTTPAddr(), "/metrics")
	return metricValue(body, "squall_transport_rejected_total")
}

// TestClusterWithCertsRunsATopologyAcrossNodes: two nodes with
// certificates of one CA run a topology across them over mutual TLS,
// fetch each other's reports (node-to-node calls, for kill), and serve
// their API over HTTPS only.
func TestClusterWithCertsRunsATopologyAcrossNodes(t *testing.T) {
	const n = 2000
	dir := newCerts(t)
	src := newSource(n)
	c := clustertest.NewWithConfig(t, 2, map[string]cluster.Factory{"ids": factory(src)}, withCerts(loadNode(t, dir)))
	if err := c.Node(0).Submit("ids", "ids", map[string]string{topology.MessageTimeoutSecs: "30"}); err != nil {
		t.Fatal(err)
	}
	poll.Until(t, 60*time.Second, "every id acked", func() bool { return src.Acked() == n })
	for _, m := range c.Node(1).Members() {
		if m.Tasks == 0 {
			t.Errorf("member %s runs no task: the topology did not cross nodes", m.Name)
		}
	}
	// Topologies sums every node's counts through node-to-node calls: the
	// node without the spout task learns its counts from the other.
	for i := range 2 {
		infos := c.Node(i).Topologies(context.Background())
		if len(infos) != 1 || len(infos[0].Spouts) != 1 || infos[0].Spouts[0].Acked < n || infos[0].Spouts[0].Failed != 0 {
			t.Fatalf("node %d: topologies = %+v", i, infos)
		}
	}

	admin, err := certs.LoadClient(dir, certs.AdminUser)
	if err != nil {
		t.Fatal(err)
	}
	if code, body := httpsGet(t, admin, c.Node(1).HTTPAddr(), "/api/v1/members"); code != http.StatusOK || !containsAll(body, c.Node(0).Name(), c.Node(1).Name()) {
		t.Errorf("GET /api/v1/members over HTTPS: %d %s", code, body)
	}
	// Plain HTTP to the API gets no answer of the API.
	if resp, err := http.Get("http://" + c.Node(0).HTTPAddr() + "/api/v1/members"); err == nil {
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			t.Error("the API answered plain HTTP with certs set")
		}
	}
	if err := c.Node(0).Kill(context.Background(), "ids", 10*time.Second); err != nil {
		t.Fatal(err)
	}
	if r := rejected(t, admin, c, 0) + rejected(t, admin, c, 1); r != 0 {
		t.Errorf("%v transport connections rejected between nodes of one CA", r)
	}
}

func containsAll(s string, subs ...string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}

// TestTransportWithCertsRefusesStrangers: a node certificate of the
// cluster's CA completes a TLS handshake with a node's transport; a node
// certificate of another CA, a client certificate of the cluster's own CA
// (not a node) and a plain TCP connection carrying a well-framed envelope
// (which a node without certs reads and keeps the connection for) are
// refused: each is closed at once and counted in
// squall_transport_rejected_total.
func TestTransportWithCertsRefusesStrangers(t *testing.T) {
	dir := newCerts(t)
	node := loadNode(t, dir)
	c := clustertest.NewWithConfig(t, 2, nil, withCerts(node))
	addr := transportAddr(t, c, 1)
	var boot string
	for _, m := range c.Node(0).Members() {
		if m.Name == c.Node(1).Name() {
			boot = m.BootID
		}
	}
	admin, err := certs.LoadClient(dir, certs.AdminUser)
	if err != nil {
		t.Fatal(err)
	}
	before := rejected(t, admin, c, 1)

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := node.DialTransport(ctx, addr)
	if err != nil {
		t.Fatalf("a node certificate of the cluster's CA: %v", err)
	}
	conn.Close()
	other := loadNode(t, newCerts(t))
	if conn, err := other.DialTransport(ctx, addr); err == nil {
		conn.Close()
		t.Error("a node certificate of another CA completed a TLS handshake with the transport")
	}
	// A client certificate is of the CA but not a node's.
	client := admin.Clone()
	client.ServerName = "127.0.0.1"
	if conn, err := dialTLS(ctx, addr, client); err == nil {
		if _, err = conn.Write([]byte{transport.PrefaceTuples}); err == nil {
			err = readClosed(conn)
		}
		conn.Close()
		if !closedByPeer(err) {
			t.Errorf("a client certificate opened a tuple connection (%v)", err)
		}
	}
	// A plain connection with a preface and a frame, as a forger sends.
	raw, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	env, _ := proto.Marshal(&messages.Envelope{ToTopology: "no-such-topology", ToBoot: boot, ToTask: 1, Payload: &messages.Envelope_Tuples{Tuples: &messages.TupleBatch{Topology: "no-such-topology"}}})
	_, _ = raw.Write(append([]byte{transport.PrefaceTuples}, frame(env)...))
	if err := readClosed(raw); !closedByPeer(err) {
		t.Errorf("the transport kept a plain connection open (%v)", err)
	}
	raw.Close()
	poll.Until(t, 10*time.Second, "three refused connections counted", func() bool { return rejected(t, admin, c, 1) >= before+3 })
}

// dialTLS dials addr and completes a TLS handshake with tc.
func dialTLS(ctx context.Context, addr string, tc *tls.Config) (*tls.Conn, error) {
	d := tls.Dialer{Config: tc}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	return conn.(*tls.Conn), nil
}

// readClosed reads a byte from conn, for at most 5 s, and returns the
// read's error: nil if the peer sent something.
func readClosed(conn net.Conn) error {
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	var b [1]byte
	_, err := conn.Read(b[:])
	return err
}

// closedByPeer reports whether err (of readClosed) is the peer closing
// the connection or refusing it with a TLS alert, not a timeout.
func closedByPeer(err error) bool {
	var ne net.Error
	return err != nil && !(errors.As(err, &ne) && ne.Timeout())
}

// TestGossipKeyringRotation: a cluster whose nodes send with key A and
// accept A and B lets in a node that sends with B and accepts A too
// (step 2 of a rotation), and both see each other.
func TestGossipKeyringRotation(t *testing.T) {
	a, b := gossipkey.Generate(), gossipkey.Generate()
	c := clustertest.NewWithConfig(t, 2, nil, func(i int, cfg *cluster.Config) {
		cfg.GossipKey, cfg.GossipKeys = nil, gossipkey.Keys{a, b}
		if i == 1 {
			cfg.GossipKeys = gossipkey.Keys{b, a}
		}
	})
	for i := range 2 {
		if got := len(c.Node(i).Members()); got != 2 {
			t.Errorf("node %d sees %d members, want 2", i, got)
		}
	}
	// A node that knows neither key stays out.
	stranger := cluster.LocalConfig()
	stranger.Insecure = true // a throwaway node
	stranger.Name, stranger.Bind, stranger.HTTP = "stranger", clustertest.FreeAddr(t), ""
	stranger.GossipKeys = gossipkey.Keys{gossipkey.Generate()}
	stranger.Join = []string{c.Node(0).GossipAddr()}
	if n, err := cluster.Start(context.Background(), stranger); err == nil {
		_ = n.Shutdown(context.Background())
		t.Error("a node with neither key joined")
	}
}

func TestConfigRefusesBadGossipKeys(t *testing.T) {
	for name, set := range map[string]func(*cluster.Config){
		"both": func(c *cluster.Config) {
			c.GossipKey, c.GossipKeys = cluster.Keygen(), gossipkey.Keys{cluster.Keygen()}
		},
		"short key": func(c *cluster.Config) { c.GossipKeys = gossipkey.Keys{cluster.Keygen(), []byte("short")} },
	} {
		cfg := cluster.LocalConfig()
		cfg.Insecure = true // a throwaway node
		cfg.Name, cfg.Bind, cfg.HTTP = "n", "127.0.0.1:0", ""
		set(&cfg)
		if n, err := cluster.Start(context.Background(), cfg); err == nil {
			_ = n.Shutdown(context.Background())
			t.Errorf("%s: started", name)
		}
	}
}

// TestNodeOfAnotherCACannotConnect: a node with a certificate of another
// CA that gets into gossip (it has the key) and is given tasks still
// exchanges no batch with the cluster's node: the node with the spout
// drops its frames for the other (its dials are refused), and no bolt of
// the other executes a tuple.
func TestNodeOfAnotherCACannotConnect(t *testing.T) {
	dirs := []string{newCerts(t), newCerts(t)} // node i's certs
	src := newSource(1000)
	c := clustertest.NewWithConfig(t, 1, map[string]cluster.Factory{"ids": factory(src)}, func(i int, cfg *cluster.Config) {
		withCerts(loadNode(t, dirs[i]))(i, cfg)
	})
	c.Add()
	c.WaitMembers(2)
	if err := c.Node(0).Submit("ids", "ids", nil); err != nil {
		t.Fatal(err)
	}
	var local [2][]clusterapi.TaskInfo
	poll.Until(t, 30*time.Second, "the topology running on both nodes", func() bool {
		for i := range 2 {
			lts := c.Node(i).LocalTopologies()
			if len(lts) != 1 || len(lts[0].TaskStats) == 0 {
				return false
			}
			local[i] = lts[0].TaskStats
		}
		return true
	})
	spouts, other := 0, 1
	if !slices.ContainsFunc(local[0], func(ti clusterapi.TaskInfo) bool { return ti.Kind == "spout" }) {
		spouts, other = 1, 0
	}
	admin, err := certs.LoadClient(dirs[spouts], certs.AdminUser)
	if err != nil {
		t.Fatal(err)
	}
	poll.Until(t, 30*time.Second, "frames for the other node dropped", func() bool {
		_, body := httpsGet(t, admin, c.Node(spouts).HTTPAddr(), "/metrics")
		return metricValue(body, "squall_transport_dropped_total") > 0
	})
	for _, ti := range c.Node(other).LocalTopologies()[0].TaskStats {
		if all := ti.Windows[len(ti.Windows)-1]; all.Executed != 0 {
			t.Errorf("task %d (%s) of the node of another CA executed %d tuples", ti.Task, ti.Component, all.Executed)
		}
	}
}
