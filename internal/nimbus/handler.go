package nimbus

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/squall-streams/squall/internal/nimbus/storm"
)

// handler implements the Nimbus service on a Backend.
type handler struct {
	cfg     *Config
	b       Backend
	port    int
	uploads *uploads

	mu        sync.Mutex
	submitted map[string]*Submission // by name: getTopologyConf, getUserTopology
}

var _ storm.Nimbus = (*handler)(nil)

func newHandler(cfg *Config, b Backend, port int) *handler {
	return &handler{cfg: cfg, b: b, port: port, submitted: map[string]*Submission{},
		uploads: &uploads{dir: cfg.UploadDir, maxBytes: cfg.MaxJarBytes, maxOpen: cfg.MaxUploads, ttl: cfg.UploadTTL,
			now: cfg.Now, byID: map[string]*upload{}}}
}

func (h *handler) call(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, h.cfg.CallTimeout)
}

// invalidTopology is Storm's exception for err, without the "invalid
// topology: " each of its reasons starts with.
func invalidTopology(err error) error {
	return &storm.InvalidTopologyException{Msg: strings.ReplaceAll(err.Error(), ErrInvalidTopology.Error()+": ", "")}
}

func notAlive(name string) error { return &storm.NotAliveException{Msg: name + " is not alive"} }

// declared maps a Backend error to the exception the method declares;
// errors it does not know go out as TApplicationException.
func declared(name string, err error, invalid bool) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, ErrNotAlive):
		return notAlive(name)
	case errors.Is(err, ErrAlreadyAlive):
		return &storm.AlreadyAliveException{Msg: name + " is already alive"}
	case invalid && errors.Is(err, ErrInvalidTopology):
		return invalidTopology(err)
	}
	return err
}

func (h *handler) SubmitTopology(ctx context.Context, name, jarLocation, jsonConf string, t *storm.StormTopology) error {
	return h.SubmitTopologyWithOpts(ctx, name, jarLocation, jsonConf, t, nil)
}

// SubmitTopologyWithOpts validates in Storm's order: name, alive, conf and
// structure, then squall's own checks and the jar.
func (h *handler) SubmitTopologyWithOpts(ctx context.Context, name, jarLocation, jsonConf string, t *storm.StormTopology, opts *storm.SubmitOptions) error {
	if !ValidName(name) {
		return &storm.InvalidTopologyException{Msg: fmt.Sprintf("Topology name %q is not valid: it must not be empty nor contain / . : or \\", name)}
	}
	ctx, cancel := h.call(ctx)
	defer cancel()
	alive, err := h.alive(ctx, name)
	if err != nil {
		return err
	}
	if alive {
		return &storm.AlreadyAliveException{Msg: name + " is already alive"}
	}
	jar, err := h.uploads.take(jarLocation)
	if err != nil {
		return &storm.InvalidTopologyException{Msg: fmt.Sprintf("uploadedJarLocation %q: %v: squall takes the jar through beginFileUpload "+
			"(sparse submit without -R)", jarLocation, err)}
	}
	s, err := NewSubmission(name, jsonConf, t, jar, opts)
	if err != nil {
		return invalidTopology(err)
	}
	if err := h.b.Submit(ctx, s); err != nil {
		return declared(name, err, true)
	}
	h.mu.Lock()
	h.submitted[name] = s
	h.mu.Unlock()
	return nil
}

func (h *handler) alive(ctx context.Context, name string) (bool, error) {
	c, err := h.b.Cluster(ctx)
	if err != nil {
		return false, err
	}
	return slices.ContainsFunc(c.Topologies, func(t Topology) bool { return t.Name == name }), nil
}

func (h *handler) KillTopology(ctx context.Context, name string) error {
	return h.KillTopologyWithOpts(ctx, name, nil)
}

func (h *handler) KillTopologyWithOpts(ctx context.Context, name string, opts *storm.KillOptions) error {
	wait := time.Duration(-1)
	if opts != nil && opts.IsSetWaitSecs() {
		wait = time.Duration(max(opts.GetWaitSecs(), 0)) * time.Second
	}
	ctx, cancel := h.call(ctx)
	defer cancel()
	return declared(name, h.b.Kill(ctx, name, wait), false)
}

func (h *handler) Activate(ctx context.Context, name string) error {
	ctx, cancel := h.call(ctx)
	defer cancel()
	return declared(name, h.b.Activate(ctx, name), false)
}

func (h *handler) Deactivate(ctx context.Context, name string) error {
	ctx, cancel := h.call(ctx)
	defer cancel()
	return declared(name, h.b.Deactivate(ctx, name), false)
}

func (h *handler) Rebalance(ctx context.Context, name string, opts *storm.RebalanceOptions) error {
	r := Rebalance{Wait: -1}
	if opts != nil {
		if opts.IsSetWaitSecs() {
			r.Wait = time.Duration(max(opts.GetWaitSecs(), 0)) * time.Second
		}
		r.Workers = int(opts.GetNumWorkers())
		if len(opts.NumExecutors) > 0 {
			r.Parallelism = map[string]int{}
			for c, n := range opts.NumExecutors {
				if n < 1 || n > maxParallelism {
					return &storm.InvalidTopologyException{Msg: fmt.Sprintf("rebalance %s: component %q: %d executors: want 1 to %d", name, c, n, maxParallelism)}
				}
				r.Parallelism[c] = int(n)
			}
		}
	}
	ctx, cancel := h.call(ctx)
	defer cancel()
	return declared(name, h.b.Rebalance(ctx, name, r), true)
}

func (h *handler) BeginFileUpload(context.Context) (string, error) { return h.uploads.begin() }

func (h *handler) UploadChunk(_ context.Context, location string, chunk []byte) error {
	return h.uploads.chunk(location, chunk)
}

func (h *handler) FinishFileUpload(_ context.Context, location string) error {
	return h.uploads.finish(location)
}

func (h *handler) cluster(ctx context.Context) (*Cluster, error) {
	ctx, cancel := h.call(ctx)
	defer cancel()
	return h.b.Cluster(ctx)
}

func secs(d time.Duration) int32 { return int32(min(d/time.Second, 1<<31-1)) }

func (h *handler) nimbuses(c *Cluster) []*storm.NimbusSummary {
	var out []*storm.NimbusSummary
	for _, n := range c.Nodes {
		out = append(out, &storm.NimbusSummary{Host: n.Host, Port: int32(h.port), UptimeSecs: secs(n.Uptime), IsLeader: n.Self, Version: StormVersion})
	}
	if len(out) == 0 {
		out = append(out, &storm.NimbusSummary{Host: "localhost", Port: int32(h.port), IsLeader: true, Version: StormVersion})
	}
	return out
}

func (h *handler) GetClusterInfo(ctx context.Context) (*storm.ClusterSummary, error) {
	c, err := h.cluster(ctx)
	if err != nil {
		return nil, err
	}
	out := &storm.ClusterSummary{Supervisors: []*storm.SupervisorSummary{}, Topologies: []*storm.TopologySummary{}}
	version := StormVersion
	var uptime int32
	for _, n := range c.Nodes {
		out.Supervisors = append(out.Supervisors, &storm.SupervisorSummary{Host: n.Host, UptimeSecs: secs(n.Uptime),
			NumWorkers: int32(n.Slots), NumUsedWorkers: int32(n.UsedSlots), SupervisorID: n.ID, Version: version})
		if n.Self {
			uptime = secs(n.Uptime)
		}
	}
	out.NimbusUptimeSecs = &uptime
	for _, t := range c.Topologies {
		sched := ""
		out.Topologies = append(out.Topologies, &storm.TopologySummary{ID: t.ID, Name: t.Name, NumTasks: int32(t.Tasks),
			NumExecutors: int32(t.Executors), NumWorkers: int32(t.Nodes), UptimeSecs: secs(t.Uptime), Status: t.Status,
			StormVersion: &version, SchedStatus: &sched})
	}
	out.Nimbuses = h.nimbuses(c)
	return out, nil
}

func (h *handler) GetLeader(ctx context.Context) (*storm.NimbusSummary, error) {
	c, err := h.cluster(ctx)
	if err != nil {
		return nil, err
	}
	all := h.nimbuses(c)
	for _, n := range all {
		if n.IsLeader {
			return n, nil
		}
	}
	return all[0], nil
}

func (h *handler) GetNimbusConf(ctx context.Context) (string, error) {
	c, err := h.cluster(ctx)
	if err != nil {
		return "", err
	}
	var seeds []string
	for _, n := range c.Nodes {
		seeds = append(seeds, n.Host)
	}
	conf := map[string]any{
		"storm.log.dir":                    "logs",
		"nimbus.seeds":                     seeds,
		"nimbus.thrift.port":               h.port,
		"nimbus.thrift.max_buffer_size":    h.cfg.MaxFrameSize,
		"nimbus.file.copy.expiration.secs": int(h.cfg.UploadTTL / time.Second),
		"ui.port":                          8080,
		"logviewer.port":                   8000,
		"supervisor.slots.ports":           []int{6700},
		"topology.message.timeout.secs":    30,
		"storm.version":                    StormVersion,
	}
	maps.Copy(conf, h.cfg.NimbusConf)
	b, err := json.Marshal(conf)
	return string(b), err
}

func (h *handler) IsTopologyNameAllowed(ctx context.Context, name string) (bool, error) {
	if !ValidName(name) {
		return false, nil
	}
	ctx, cancel := h.call(ctx)
	defer cancel()
	alive, err := h.alive(ctx, name)
	return !alive && err == nil, err
}

// topology finds a topology by id (or, as a convenience, by name).
func (h *handler) topology(ctx context.Context, id string) (*Topology, error) {
	c, err := h.cluster(ctx)
	if err != nil {
		return nil, err
	}
	for _, byName := range []bool{false, true} {
		for i, t := range c.Topologies {
			if (!byName && t.ID == id) || (byName && t.Name == id) {
				return &c.Topologies[i], nil
			}
		}
	}
	return nil, notAlive(id)
}

func (h *handler) GetTopologyInfo(ctx context.Context, id string) (*storm.TopologyInfo, error) {
	t, err := h.topology(ctx, id)
	if err != nil {
		return nil, err
	}
	version := StormVersion
	out := &storm.TopologyInfo{ID: t.ID, Name: t.Name, UptimeSecs: secs(t.Uptime), Status: t.Status, StormVersion: &version,
		Executors: []*storm.ExecutorSummary{}, Errors: map[string][]*storm.ErrorInfo{}}
	for _, e := range t.ExecutorList {
		out.Executors = append(out.Executors, &storm.ExecutorSummary{ExecutorInfo: &storm.ExecutorInfo{TaskStart: int32(e.Task), TaskEnd: int32(e.Task)},
			ComponentID: e.Component, Host: e.Host, Port: int32(e.Port), UptimeSecs: secs(e.Uptime)})
	}
	for comp, errs := range t.Errors {
		list := []*storm.ErrorInfo{}
		for _, e := range errs {
			host := e.Host
			list = append(list, &storm.ErrorInfo{Error: e.Error, ErrorTimeSecs: int32(e.Time.Unix()), Host: &host})
		}
		out.Errors[comp] = list
	}
	return out, nil
}

func (h *handler) GetTopologyConf(ctx context.Context, id string) (string, error) {
	t, err := h.topology(ctx, id)
	if err != nil {
		return "", err
	}
	conf := t.Conf
	if conf == nil {
		conf = map[string]any{}
	}
	b, err := json.Marshal(conf)
	return string(b), err
}

func (h *handler) GetUserTopology(ctx context.Context, id string) (*storm.StormTopology, error) {
	t, err := h.topology(ctx, id)
	if err != nil {
		return nil, err
	}
	h.mu.Lock()
	s := h.submitted[t.Name]
	h.mu.Unlock()
	if s == nil || s.Topology == nil {
		return nil, fmt.Errorf("topology %s was not submitted through this node's Nimbus API: squall keeps no StormTopology for it", t.Name)
	}
	return s.Topology, nil
}
