package nimbus

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apache/thrift/lib/go/thrift"

	"github.com/squall-streams/squall/internal/nimbus/storm"
)

// fakeBackend is a node that keeps topologies in a map.
type fakeBackend struct {
	mu         sync.Mutex
	topologies map[string]*Topology
	submitted  []*Submission
	kills      map[string]time.Duration
	rebalances map[string]Rebalance
	// removeOnKill ends kills at once (the wait is the node's business).
	removeOnKill bool
}

func newFakeBackend() *fakeBackend {
	return &fakeBackend{topologies: map[string]*Topology{}, kills: map[string]time.Duration{}, rebalances: map[string]Rebalance{}}
}

var _ Backend = (*fakeBackend)(nil)

func (f *fakeBackend) Submit(_ context.Context, s *Submission) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.topologies[s.Name] != nil {
		return fmt.Errorf("topology %s: %w", s.Name, ErrAlreadyAlive)
	}
	status := "ACTIVE"
	if s.Inactive {
		status = "INACTIVE"
	}
	f.topologies[s.Name] = &Topology{ID: s.Name + "-1-1700000000", Name: s.Name, Status: status, Tasks: 3, Executors: 3, Nodes: 1,
		Conf:         map[string]any{"topology.workers": 1},
		ExecutorList: []Executor{{Component: "count_bolt", Task: 2, Host: "node1", Port: 6700, Uptime: time.Minute}},
		Errors:       map[string][]ComponentError{"count_bolt": {{Error: "Traceback ...", Time: time.Unix(1700000000, 0), Host: "node1"}}}}
	f.submitted = append(f.submitted, s)
	return nil
}

func (f *fakeBackend) with(name string, do func(t *Topology)) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	t := f.topologies[name]
	if t == nil {
		return fmt.Errorf("topology %s: %w", name, ErrNotAlive)
	}
	do(t)
	return nil
}

func (f *fakeBackend) Kill(_ context.Context, name string, wait time.Duration) error {
	err := f.with(name, func(t *Topology) {
		t.Status = "KILLED"
		f.kills[name] = wait
	})
	if err == nil && f.removeOnKill {
		f.remove(name)
	}
	return err
}

// remove is the end of a kill.
func (f *fakeBackend) remove(name string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.topologies, name)
}

func (f *fakeBackend) Activate(_ context.Context, name string) error {
	return f.with(name, func(t *Topology) { t.Status = "ACTIVE" })
}

func (f *fakeBackend) Deactivate(_ context.Context, name string) error {
	return f.with(name, func(t *Topology) { t.Status = "INACTIVE" })
}

func (f *fakeBackend) Rebalance(_ context.Context, name string, r Rebalance) error {
	if len(r.Parallelism) == 0 {
		if err := f.with(name, func(*Topology) {}); err != nil {
			return err
		}
		return fmt.Errorf("%w: rebalance %s: nothing squall can apply (num_workers %d is ignored)", ErrInvalidTopology, name, r.Workers)
	}
	return f.with(name, func(*Topology) { f.rebalances[name] = r })
}

func (f *fakeBackend) Cluster(context.Context) (*Cluster, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c := &Cluster{Nodes: []Node{{ID: "n1", Host: "node1", Self: true, Uptime: time.Hour, Slots: 8, UsedSlots: 1},
		{ID: "n2", Host: "node2", Uptime: time.Minute, Slots: 8}}}
	for _, t := range f.topologies {
		c.Topologies = append(c.Topologies, *t)
	}
	return c, nil
}

func startServer(t *testing.T, b Backend, adjust ...func(*Config)) *Server {
	t.Helper()
	cfg := LocalConfig()
	cfg.UploadDir = t.TempDir()
	for _, a := range adjust {
		a(&cfg)
	}
	s, err := Start(cfg, b)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := s.Stop(ctx); err != nil {
			t.Error(err)
		}
	})
	return s
}

// dial opens apache/thrift's Go client the way streamparse connects:
// framed transport, binary protocol.
func dial(t *testing.T, s *Server) *storm.NimbusClient {
	t.Helper()
	cfg := &thrift.TConfiguration{ConnectTimeout: 5 * time.Second, SocketTimeout: 7 * time.Second}
	sock := thrift.NewTSocketConf(s.Addr().String(), cfg)
	trans := thrift.NewTFramedTransportConf(sock, cfg)
	if err := trans.Open(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { trans.Close() })
	return storm.NewNimbusClientFactory(trans, thrift.NewTBinaryProtocolFactoryConf(cfg))
}

// uploadJar uploads a jar in streamparse's 307,200-byte chunks.
func uploadJar(t *testing.T, c *storm.NimbusClient, jar []byte) string {
	t.Helper()
	ctx := context.Background()
	loc, err := c.BeginFileUpload(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for rest := jar; len(rest) > 0; {
		n := min(len(rest), 307200)
		if err := c.UploadChunk(ctx, loc, rest[:n]); err != nil {
			t.Fatal(err)
		}
		rest = rest[n:]
	}
	if err := c.FinishFileUpload(ctx, loc); err != nil {
		t.Fatal(err)
	}
	return loc
}

// wordcountTopology is the captured quickstart topology, its scripts
// pointing into quickstartJar.
func wordcountTopology(t *testing.T) *storm.StormTopology {
	topo := readTopology(t, "wordcount")
	topo.Spouts["word_spout"].SpoutObject.Shell.Script = "-s json spouts.words.WordSpout"
	topo.Bolts["count_bolt"].BoltObject.Shell.Script = "-s json bolts.wordcount.WordCountBolt"
	return topo
}

// bigQuickstartJar is quickstartJar with an incompressible file, so it
// goes up in several chunks.
func bigQuickstartJar(t *testing.T) []byte {
	noise := make([]byte, 700_000)
	for i := range noise {
		noise[i] = byte(i*7919 + i/251)
	}
	return makeZip(t,
		zipEntry{name: "resources/bolts/wordcount.py", body: "class WordCountBolt: pass\n"},
		zipEntry{name: "resources/spouts/words.py", body: "class WordSpout: pass\n"},
		zipEntry{name: "resources/data.bin", body: string(noise)})
}

func wantException[E error](t *testing.T, err error, msg string) E {
	t.Helper()
	var e E
	if !errors.As(err, &e) || !strings.Contains(err.Error(), msg) {
		t.Fatalf("err = %v (%T), want %T with %q", err, err, e, msg)
	}
	return e
}

func TestServerSubmitSequence(t *testing.T) {
	b := newFakeBackend()
	s := startServer(t, b)
	c := dial(t, s)
	ctx := context.Background()

	// sparse submit's calls (spec §2.2), on one connection.
	info, err := c.GetClusterInfo(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(info.Supervisors) != 2 || info.Supervisors[0].Host != "node1" || info.Supervisors[0].Version != StormVersion {
		t.Errorf("supervisors %v", info.Supervisors)
	}
	if len(info.Nimbuses) != 2 || !info.Nimbuses[0].IsLeader || info.Nimbuses[1].IsLeader || info.Nimbuses[0].Version != "2.8.8" ||
		int(info.Nimbuses[0].Port) != s.Addr().(*net.TCPAddr).Port {
		t.Errorf("nimbuses %v", info.Nimbuses)
	}
	confText, err := c.GetNimbusConf(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var conf map[string]any
	if err := json.Unmarshal([]byte(confText), &conf); err != nil || conf["storm.log.dir"] == nil || conf["topology.message.timeout.secs"] != 30.0 {
		t.Errorf("nimbus conf %s (%v)", confText, err)
	}

	jar := bigQuickstartJar(t)
	loc := uploadJar(t, c, jar)
	if !strings.HasPrefix(loc, "/squall/inbox/stormjar-") {
		t.Errorf("location %q", loc)
	}
	if ok, err := c.IsTopologyNameAllowed(ctx, "wordcount"); err != nil || !ok {
		t.Fatalf("isTopologyNameAllowed = %v, %v", ok, err)
	}
	opts := &storm.SubmitOptions{InitialStatus: storm.TopologyInitialStatus_INACTIVE}
	if err := c.SubmitTopologyWithOpts(ctx, "wordcount", loc, submitConf, wordcountTopology(t), opts); err != nil {
		t.Fatal(err)
	}
	if len(b.submitted) != 1 {
		t.Fatalf("backend got %d submissions", len(b.submitted))
	}
	sub := b.submitted[0]
	if sub.Kind != FluxKind || !sub.Inactive || !strings.Contains(sub.Conf[ConfFluxYAML], "script: -s json bolts.wordcount.WordCountBolt") {
		t.Errorf("submission %+v", sub)
	}
	if files := untar(t, sub.Resources); len(files["data.bin"]) != 700_000 {
		t.Errorf("resources lost data.bin: %d bytes", len(files["data.bin"]))
	}
	if n := s.handler.uploads.open(); n != 0 {
		t.Errorf("%d uploads left after submit", n)
	}

	// The name is alive now: Storm answers false, and submit AlreadyAlive.
	if ok, err := c.IsTopologyNameAllowed(ctx, "wordcount"); err != nil || ok {
		t.Errorf("isTopologyNameAllowed(alive) = %v, %v", ok, err)
	}
	loc = uploadJar(t, c, quickstartJar(t))
	err = c.SubmitTopology(ctx, "wordcount", loc, "{}", wordcountTopology(t))
	wantException[*storm.AlreadyAliveException](t, err, "wordcount is already alive")

	info, _ = c.GetClusterInfo(ctx)
	if len(info.Topologies) != 1 || info.Topologies[0].Name != "wordcount" || info.Topologies[0].Status != "INACTIVE" {
		t.Errorf("topologies %v", info.Topologies)
	}
	ti, err := c.GetTopologyInfo(ctx, info.Topologies[0].ID)
	if err != nil || ti.Name != "wordcount" || len(ti.Executors) != 1 || ti.Errors["count_bolt"][0].Error != "Traceback ..." {
		t.Errorf("topology info %v, %v", ti, err)
	}
	if ut, err := c.GetUserTopology(ctx, "wordcount"); err != nil || ut.Bolts["count_bolt"] == nil {
		t.Errorf("user topology %v, %v", ut, err)
	}
	if tc, err := c.GetTopologyConf(ctx, "wordcount"); err != nil || tc != `{"topology.workers":1}` {
		t.Errorf("topology conf %q, %v", tc, err)
	}

	if err := c.Activate(ctx, "wordcount"); err != nil {
		t.Error(err)
	}
	if err := c.Deactivate(ctx, "wordcount"); err != nil {
		t.Error(err)
	}
	err = c.Rebalance(ctx, "wordcount", &storm.RebalanceOptions{NumWorkers: thrift.Int32Ptr(3)})
	wantException[*storm.InvalidTopologyException](t, err, "num_workers 3 is ignored")
	if err := c.Rebalance(ctx, "wordcount", &storm.RebalanceOptions{WaitSecs: thrift.Int32Ptr(0), NumExecutors: map[string]int32{"count_bolt": 4}}); err != nil {
		t.Error(err)
	}
	if r := b.rebalances["wordcount"]; r.Parallelism["count_bolt"] != 4 || r.Wait != 0 {
		t.Errorf("rebalance %+v", r)
	}

	// sparse kill, then -f's poll until gone.
	if err := c.KillTopologyWithOpts(ctx, "wordcount", &storm.KillOptions{WaitSecs: thrift.Int32Ptr(5)}); err != nil {
		t.Fatal(err)
	}
	if b.kills["wordcount"] != 5*time.Second {
		t.Errorf("kill wait %v", b.kills["wordcount"])
	}
	if ok, _ := c.IsTopologyNameAllowed(ctx, "wordcount"); ok {
		t.Error("a topology being killed is still alive: its name is not allowed")
	}
	b.remove("wordcount")
	if ok, _ := c.IsTopologyNameAllowed(ctx, "wordcount"); !ok {
		t.Error("the name is free once the topology is gone")
	}
	err = c.KillTopology(ctx, "nope")
	wantException[*storm.NotAliveException](t, err, "nope is not alive")
	err = c.Activate(ctx, "nope")
	wantException[*storm.NotAliveException](t, err, "nope is not alive")
	_, err = c.GetTopologyInfo(ctx, "nope")
	wantException[*storm.NotAliveException](t, err, "nope is not alive")
}

func TestServerRejects(t *testing.T) {
	b := newFakeBackend()
	s := startServer(t, b, func(c *Config) { c.MaxJarBytes = 1 << 20 })
	c := dial(t, s)
	ctx := context.Background()

	for _, name := range []string{"a.b", "a/b", "a:b", `a\b`, ""} {
		if ok, err := c.IsTopologyNameAllowed(ctx, name); err != nil || ok {
			t.Errorf("isTopologyNameAllowed(%q) = %v, %v", name, ok, err)
		}
	}
	err := c.SubmitTopology(ctx, "a.b", "/x", "{}", wordcountTopology(t))
	wantException[*storm.InvalidTopologyException](t, err, `Topology name "a.b" is not valid`)

	// A JVM component: the message names the component and the class.
	loc := uploadJar(t, c, quickstartJar(t))
	err = c.SubmitTopology(ctx, "pixels", loc, "{}", readTopology(t, "javapixel"))
	wantException[*storm.InvalidTopologyException](t, err, `spout "pixel-spout": JVM class pixelcount.spouts.PixelSpout cannot run on squall`)

	// -R: a jar that was never uploaded.
	err = c.SubmitTopology(ctx, "wc", "/storm/inbox/x.jar", "{}", wordcountTopology(t))
	wantException[*storm.InvalidTopologyException](t, err, `uploadedJarLocation "/storm/inbox/x.jar"`)

	// Upload errors are internal errors that say what is wrong.
	err = c.UploadChunk(ctx, "/squall/inbox/stormjar-nope.jar", []byte("x"))
	app := wantException[thrift.TApplicationException](t, err, `Internal error processing uploadChunk: upload: no upload at "/squall/inbox/stormjar-nope.jar"`)
	if app.TypeId() != thrift.INTERNAL_ERROR {
		t.Errorf("type %d, want INTERNAL_ERROR", app.TypeId())
	}
	loc, err = c.BeginFileUpload(ctx)
	if err != nil {
		t.Fatal(err)
	}
	chunk := make([]byte, 300<<10)
	for range 3 {
		if err := c.UploadChunk(ctx, loc, chunk); err != nil {
			t.Fatal(err)
		}
	}
	err = c.UploadChunk(ctx, loc, chunk)
	wantException[thrift.TApplicationException](t, err, "the jar is larger than 1048576 bytes")
	err = c.SubmitTopology(ctx, "wc", loc, "{}", wordcountTopology(t))
	wantException[*storm.InvalidTopologyException](t, err, "is not finished")

	// The connection is still good after all that.
	if _, err := c.GetClusterInfo(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestUploadsExpire(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	s := startServer(t, newFakeBackend(), func(c *Config) { c.Now = clock; c.UploadTTL = 10 * time.Minute; c.MaxUploads = 2 })
	c := dial(t, s)
	ctx := context.Background()
	abandoned, _ := c.BeginFileUpload(ctx)
	kept, _ := c.BeginFileUpload(ctx)
	if _, err := c.BeginFileUpload(ctx); err == nil || !strings.Contains(err.Error(), "2 uploads are open") {
		t.Fatalf("third upload: %v", err)
	}
	advance(9 * time.Minute)
	if err := c.UploadChunk(ctx, kept, []byte("PK")); err != nil {
		t.Fatal(err)
	}
	advance(2 * time.Minute)
	s.handler.uploads.collect()
	if err := c.UploadChunk(ctx, abandoned, []byte("PK")); err == nil || !strings.Contains(err.Error(), "no upload at") {
		t.Errorf("abandoned upload still there: %v", err)
	}
	if err := c.UploadChunk(ctx, kept, []byte("PK")); err != nil {
		t.Errorf("an upload touched 2 minutes ago was collected: %v", err)
	}
	if n := s.handler.uploads.open(); n != 1 {
		t.Errorf("%d uploads open, want 1", n)
	}
}

// rawCall sends one framed message and returns the reply frame.
func rawCall(t *testing.T, conn net.Conn, payload []byte) []byte {
	t.Helper()
	var hdr [4]byte
	binary.BigEndian.PutUint32(hdr[:], uint32(len(payload)))
	conn.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := conn.Write(append(hdr[:], payload...)); err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(conn, hdr[:]); err != nil {
		t.Fatal(err)
	}
	reply := make([]byte, binary.BigEndian.Uint32(hdr[:]))
	if _, err := io.ReadFull(conn, reply); err != nil {
		t.Fatal(err)
	}
	return reply
}

func message(t *testing.T, name string, args thrift.TStruct) []byte {
	buf := thrift.NewTMemoryBuffer()
	p := thrift.NewTBinaryProtocolConf(buf, nil)
	ctx := context.Background()
	p.WriteMessageBegin(ctx, name, thrift.CALL, 42)
	if err := args.Write(ctx, p); err != nil {
		t.Fatal(err)
	}
	p.WriteMessageEnd(ctx)
	p.Flush(ctx)
	return buf.Bytes()
}

func TestServerUnknownMethodAndBadFrames(t *testing.T) {
	s := startServer(t, newFakeBackend())
	conn, err := net.Dial("tcp", s.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// Storm's getTopologyHistory is not served: UNKNOWN_METHOD, seqid echoed,
	// and the connection goes on.
	reply := rawCall(t, conn, message(t, "getTopologyHistory", storm.NewNimbusGetClusterInfoArgs()))
	p := thrift.NewTBinaryProtocolConf(thrift.NewStreamTransportR(bytes.NewReader(reply)), nil)
	name, typ, seq, err := p.ReadMessageBegin(context.Background())
	if err != nil || name != "getTopologyHistory" || typ != thrift.EXCEPTION || seq != 42 {
		t.Fatalf("reply %q %v %d %v", name, typ, seq, err)
	}
	app := thrift.NewTApplicationException(0, "")
	if err := app.Read(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(app.Error(), "Unknown function getTopologyHistory") || app.TypeId() != thrift.UNKNOWN_METHOD {
		t.Errorf("exception %v", app)
	}
	reply = rawCall(t, conn, message(t, "getClusterInfo", storm.NewNimbusGetClusterInfoArgs()))
	res := storm.NewNimbusGetClusterInfoResult()
	p = thrift.NewTBinaryProtocolConf(thrift.NewStreamTransportR(bytes.NewReader(reply)), nil)
	p.ReadMessageBegin(context.Background())
	if err := res.Read(context.Background(), p); err != nil || len(res.Success.Supervisors) != 2 {
		t.Errorf("getClusterInfo after an unknown method: %v %v", res, err)
	}

	// A frame longer than MaxFrameSize: the connection is closed, the
	// server lives on.
	bad, _ := net.Dial("tcp", s.Addr().String())
	defer bad.Close()
	bad.Write([]byte{0x7f, 0xff, 0xff, 0xff, 0x80, 0x01})
	bad.SetDeadline(time.Now().Add(5 * time.Second))
	if n, err := bad.Read(make([]byte, 1)); err == nil {
		t.Errorf("read %d bytes after a huge frame length; want the connection closed", n)
	}
	if _, err := dial(t, s).GetClusterInfo(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestServerConnectionCap(t *testing.T) {
	s := startServer(t, newFakeBackend(), func(c *Config) { c.MaxConns = 1 })
	c := dial(t, s)
	if _, err := c.GetClusterInfo(context.Background()); err != nil {
		t.Fatal(err)
	}
	extra, err := net.Dial("tcp", s.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer extra.Close()
	extra.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := extra.Read(make([]byte, 1)); !errors.Is(err, io.EOF) {
		t.Errorf("second connection: %v, want it closed (EOF)", err)
	}
	if _, err := c.GetClusterInfo(context.Background()); err != nil {
		t.Errorf("the first connection suffered: %v", err)
	}
}

func TestConfigValidate(t *testing.T) {
	for _, tt := range []struct {
		addr     string
		insecure bool
		wantErr  string
	}{
		{"127.0.0.1:6627", false, ""},
		{"[::1]:6627", false, ""},
		{"localhost:6627", false, ""},
		{"0.0.0.0:6627", false, "is not a loopback address"},
		{"192.0.2.1:6627", false, "run --insecure"},
		{"0.0.0.0:6627", true, ""},
		{"6627", false, "want HOST:PORT"},
	} {
		cfg := DefaultConfig()
		cfg.Addr, cfg.Insecure, cfg.UploadDir = tt.addr, tt.insecure, "x"
		err := cfg.validate()
		if (tt.wantErr == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tt.wantErr)) {
			t.Errorf("%s insecure=%v: err = %v, want %q", tt.addr, tt.insecure, err, tt.wantErr)
		}
	}
	if _, err := Start(Config{Addr: "0.0.0.0:0", UploadDir: t.TempDir()}, newFakeBackend()); err == nil {
		t.Error("Start accepted a zero config on a public address")
	}
}

// Storm 2's Java StormSubmitter sets StormTopology fields squall's IDL
// leaves out (7 storm_version, 8 jdk_version, 9 a map of sets): they are
// skipped.
func TestStormTopologyUnknownFieldsSkipped(t *testing.T) {
	ctx := context.Background()
	buf := thrift.NewTMemoryBuffer()
	p := thrift.NewTBinaryProtocolConf(buf, nil)
	p.WriteStructBegin(ctx, "StormTopology")
	for id := int16(1); id <= 3; id++ {
		p.WriteFieldBegin(ctx, "", thrift.MAP, id)
		p.WriteMapBegin(ctx, thrift.STRING, thrift.STRUCT, 0)
		p.WriteMapEnd(ctx)
		p.WriteFieldEnd(ctx)
	}
	p.WriteFieldBegin(ctx, "storm_version", thrift.STRING, 7)
	p.WriteString(ctx, "2.8.8")
	p.WriteFieldEnd(ctx)
	p.WriteFieldBegin(ctx, "component_to_shared_memory", thrift.MAP, 9)
	p.WriteMapBegin(ctx, thrift.STRING, thrift.SET, 1)
	p.WriteString(ctx, "count")
	p.WriteSetBegin(ctx, thrift.STRING, 1)
	p.WriteString(ctx, "mem")
	p.WriteSetEnd(ctx)
	p.WriteMapEnd(ctx)
	p.WriteFieldEnd(ctx)
	p.WriteFieldStop(ctx)
	p.WriteStructEnd(ctx)
	topo := storm.NewStormTopology()
	if err := topo.Read(ctx, p); err != nil {
		t.Fatal(err)
	}
	if topo.Spouts == nil || topo.Bolts == nil || buf.Len() != 0 {
		t.Errorf("topology %v, %d bytes left", topo, buf.Len())
	}
}

func TestServerStopTwice(t *testing.T) {
	cfg := LocalConfig()
	cfg.UploadDir = t.TempDir()
	s, err := Start(cfg, newFakeBackend())
	if err != nil {
		t.Fatal(err)
	}
	c := dial(t, s)
	if _, err := c.BeginFileUpload(context.Background()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.Stop(ctx); err != nil {
		t.Fatalf("second Stop: %v", err)
	}
	if entries, _ := os.ReadDir(cfg.UploadDir); len(entries) != 0 {
		t.Errorf("Stop left uploads: %v", entries)
	}
	if _, err := c.GetClusterInfo(context.Background()); err == nil {
		t.Error("a call after Stop succeeded")
	}
}
