package api

import (
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/squall-streams/squall/actors"
)

// Prometheus exposition of the task counters every task keeps anyway: a
// scrape reads them; nothing is sampled and nothing is added to the
// per-tuple path. Each node exposes its own tasks at /metrics, with
// topology, component and task labels, plus Go runtime and process
// metrics. The registry is the node's own, never the global one, so several
// nodes in one process do not collide.
//
// Counters are cumulative (Prometheus computes windows: rate()); latencies
// are summaries whose _sum and _count give exact means over any range.
// Capacity is a gauge per Storm UI window (10m, 3h, 1d, all), as Storm
// defines it: time in Execute over the window's span. Components' own
// gauges (a Kafka spout's squall_kafka_lag) are exposed as squall_<name>
// with their labels. Exactly-once topologies add squall_checkpoint_*,
// labelled by topology only: their last completed checkpoint and the
// counts of completed, failed and restores.

var (
	labels     = []string{"topology", "component", "task"}
	edgeLabels = append(slices.Clone(labels), "stream", "consumer")
	capLabels  = append(slices.Clone(labels), "window")
	descs      = map[string]*prometheus.Desc{
		"emitted":         prometheus.NewDesc("squall_task_emitted_total", "Emit calls.", labels, nil),
		"transferred":     prometheus.NewDesc("squall_task_transferred_total", "Tuples sent to tasks.", labels, nil),
		"acked":           prometheus.NewDesc("squall_task_acked_total", "Trees acked (spouts) or input tuples acked (bolts).", labels, nil),
		"failed":          prometheus.NewDesc("squall_task_failed_total", "Trees failed (spouts) or input tuples failed (bolts).", labels, nil),
		"executed":        prometheus.NewDesc("squall_task_executed_total", "Input tuples executed.", labels, nil),
		"timed_out":       prometheus.NewDesc("squall_task_timed_out_total", "Trees failed by their timeout.", labels, nil),
		"errors":          prometheus.NewDesc("squall_task_errors_total", "Reported errors and panics caught in user code.", labels, nil),
		"restarts":        prometheus.NewDesc("squall_task_restarts_total", "Restarts of the task by its supervisor.", labels, nil),
		"dropped":         prometheus.NewDesc("squall_task_dropped_total", "Batches' items from another epoch or topology, dropped (they replay).", labels, nil),
		"pending":         prometheus.NewDesc("squall_task_pending", "Trees a spout task waits for.", labels, nil),
		"latency":         prometheus.NewDesc("squall_task_complete_latency_seconds", "Complete latency of a spout task's trees, emit to Ack (quantiles all time).", labels, nil),
		"execute_latency": prometheus.NewDesc("squall_task_execute_latency_seconds", "Time a bolt task spent in Execute, over the tuples executed.", labels, nil),
		"process_latency": prometheus.NewDesc("squall_task_process_latency_seconds", "Time from the start of a bolt's Execute of a tuple to its Ack (squall.metrics.latency).", labels, nil),
		"capacity":        prometheus.NewDesc("squall_task_capacity", "Fraction of the window a bolt task spent in Execute (Storm UI's capacity); window is 10m, 3h, 1d or all.", capLabels, nil),
		"started":         prometheus.NewDesc("squall_task_start_time_seconds", "When the task first started on this node (Unix time); restarts do not move it.", labels, nil),
		"last_error":      prometheus.NewDesc("squall_task_last_error_time_seconds", "When the task last reported an error (Unix time).", labels, nil),
		"edge":            prometheus.NewDesc("squall_task_edge_transferred_total", "Tuples the task sent on stream to tasks of consumer.", edgeLabels, nil),
	}
	windowNames = map[time.Duration]string{10 * time.Minute: "10m", 3 * time.Hour: "3h", 24 * time.Hour: "1d", 0: "all"}
)

type taskCollector struct{ b Backend }

func (c taskCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range descs {
		ch <- d
	}
}

func (c taskCollector) Collect(ch chan<- prometheus.Metric) {
	for _, t := range c.b.LocalTasks() {
		collectTask(ch, t.Topology, t.Kind, t.Stats)
	}
}

// collectTask sends a task's metrics; kind is ComponentKind's: trackers
// have neither spout nor bolt families.
func collectTask(ch chan<- prometheus.Metric, topo, kind string, s *actors.TaskStats) {
	lv := []string{topo, string(s.Component), strconv.Itoa(int(s.Task))}
	counter := func(key string, v int64) {
		ch <- prometheus.MustNewConstMetric(descs[key], prometheus.CounterValue, float64(v), lv...)
	}
	seconds := func(ns int64) float64 { return time.Duration(ns).Seconds() }
	counter("emitted", s.Emitted.Load())
	counter("transferred", s.Transferred.Load())
	counter("acked", s.Acked.Load())
	counter("failed", s.Failed.Load())
	counter("executed", s.Executed.Load())
	counter("timed_out", s.TimedOut.Load())
	counter("errors", s.Errors.Load())
	counter("restarts", s.Restarts.Load())
	counter("dropped", s.Dropped.Load())
	if t := s.Started(); !t.IsZero() {
		ch <- prometheus.MustNewConstMetric(descs["started"], prometheus.GaugeValue, float64(t.UnixNano())/1e9, lv...)
	}
	if e := s.LastError(); e != nil {
		ch <- prometheus.MustNewConstMetric(descs["last_error"], prometheus.GaugeValue, float64(e.Time.UnixNano())/1e9, lv...)
	}
	for _, e := range s.Edges() {
		ch <- prometheus.MustNewConstMetric(descs["edge"], prometheus.CounterValue, float64(e.Transferred),
			append(slices.Clone(lv), string(e.Stream), string(e.Consumer))...)
	}
	switch kind {
	case "spout":
		ch <- prometheus.MustNewConstMetric(descs["pending"], prometheus.GaugeValue, float64(s.Pending.Load()), lv...)
		if n := s.Completed.Load(); n > 0 {
			h := &s.CompleteLatency
			q := map[float64]float64{0.5: h.Quantile(0.5).Seconds(), 0.99: h.Quantile(0.99).Seconds()}
			ch <- prometheus.MustNewConstSummary(descs["latency"], uint64(n), seconds(s.CompleteNanos.Load()), q, lv...)
		}
	case "bolt":
		ch <- prometheus.MustNewConstSummary(descs["execute_latency"], uint64(s.Executed.Load()), seconds(s.ExecuteNanos.Load()), nil, lv...)
		ch <- prometheus.MustNewConstSummary(descs["process_latency"], uint64(s.Processed.Load()), seconds(s.ProcessNanos.Load()), nil, lv...)
		for _, d := range actors.Windows {
			w := s.Window(d)
			ch <- prometheus.MustNewConstMetric(descs["capacity"], prometheus.GaugeValue, w.Capacity(), append(slices.Clone(lv), windowNames[d])...)
		}
	}
}

// checkpointCollector exposes the checkpoints of the exactly-once
// topologies this node runs (Backend.Checkpoints), labelled by topology;
// other topologies have none of these series.
type checkpointCollector struct{ b Backend }

var (
	topoLabel       = []string{"topology"}
	checkpointDescs = map[string]*prometheus.Desc{
		"completed":    prometheus.NewDesc("squall_checkpoint_completed_total", "Checkpoints completed (committed) of an exactly-once topology.", topoLabel, nil),
		"failed":       prometheus.NewDesc("squall_checkpoint_failed_total", "Checkpoints aborted or declined (squallCheckpoints.lastFailure says why).", topoLabel, nil),
		"restores":     prometheus.NewDesc("squall_checkpoint_restores_total", "Restores of every task to the last completed checkpoint, not counting the first start.", topoLabel, nil),
		"last_id":      prometheus.NewDesc("squall_checkpoint_last_completed_id", "Id of the last completed checkpoint (0: none yet).", topoLabel, nil),
		"duration":     prometheus.NewDesc("squall_checkpoint_last_duration_seconds", "Trigger to commit of the last completed checkpoint.", topoLabel, nil),
		"bytes":        prometheus.NewDesc("squall_checkpoint_last_bytes", "State staged by the last completed checkpoint.", topoLabel, nil),
		"alignment":    prometheus.NewDesc("squall_checkpoint_last_alignment_seconds", "Longest barrier alignment of a task in the last completed checkpoint.", topoLabel, nil),
		"age":          prometheus.NewDesc("squall_checkpoint_age_seconds", "Time since the last checkpoint completed (absent until one has).", topoLabel, nil),
		"last_failure": prometheus.NewDesc("squall_checkpoint_last_failure_time_seconds", "When a checkpoint last failed (Unix time; absent until one has).", topoLabel, nil),
	}
)

func (c checkpointCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range checkpointDescs {
		ch <- d
	}
}

func (c checkpointCollector) Collect(ch chan<- prometheus.Metric) {
	now := time.Now()
	for name, st := range c.b.Checkpoints() {
		metric := func(key string, kind prometheus.ValueType, v float64) {
			ch <- prometheus.MustNewConstMetric(checkpointDescs[key], kind, v, name)
		}
		metric("completed", prometheus.CounterValue, float64(st.Completed))
		metric("failed", prometheus.CounterValue, float64(st.Failed))
		metric("restores", prometheus.CounterValue, float64(st.Restores))
		metric("last_id", prometheus.GaugeValue, float64(st.LastCompleted))
		metric("duration", prometheus.GaugeValue, st.Duration.Seconds())
		metric("bytes", prometheus.GaugeValue, float64(st.Bytes))
		metric("alignment", prometheus.GaugeValue, st.Alignment.Seconds())
		if st.LastCompleted != 0 && !st.CompletedAt.IsZero() {
			metric("age", prometheus.GaugeValue, max(now.Sub(st.CompletedAt), 0).Seconds())
		}
		if !st.LastFailureAt.IsZero() {
			metric("last_failure", prometheus.GaugeValue, float64(st.LastFailureAt.UnixNano())/1e9)
		}
	}
}

// gaugeCollector exposes the gauges components set (topology.Gauges). It
// is unchecked (describes nothing): the names and labels are the
// components'. Every gauge of one name gets the union of the label names
// used with it, "" where a gauge lacks one, so a family stays consistent.
type gaugeCollector struct{ b Backend }

func (c gaugeCollector) Describe(chan<- *prometheus.Desc) {}

func (c gaugeCollector) Collect(ch chan<- prometheus.Metric) {
	type taskGauge struct {
		lv []string
		g  actors.Gauge
	}
	byName := map[string][]taskGauge{}
	for _, t := range c.b.LocalTasks() {
		s := t.Stats
		lv := []string{t.Topology, string(s.Component), strconv.Itoa(int(s.Task))}
		for _, g := range s.Gauges() {
			metric := "squall_" + promName(g.Name)
			if strings.HasPrefix(metric, "squall_task_") || strings.HasPrefix(metric, "squall_transport_") || strings.HasPrefix(metric, "squall_checkpoint_") {
				// squall's own families: a clash would fail every scrape.
				metric = "squall_gauge_" + promName(g.Name)
			}
			byName[metric] = append(byName[metric], taskGauge{lv: lv, g: g})
		}
	}
	for metric, gs := range byName {
		keys := map[string]string{} // the gauge's label -> Prometheus label
		for _, tg := range gs {
			for k := range tg.g.Labels {
				keys[k] = gaugeLabel(k)
			}
		}
		names := slices.Sorted(maps.Keys(keys))
		promLabels := slices.Clone(labels)
		for _, k := range names {
			promLabels = append(promLabels, keys[k])
		}
		desc := prometheus.NewDesc(metric, "Gauge "+gs[0].g.Name+" reported by the component (squall_<name>).", promLabels, nil)
		seen := map[string]bool{}
		for _, tg := range gs {
			lv := slices.Clone(tg.lv)
			for _, k := range names {
				lv = append(lv, tg.g.Labels[k])
			}
			if id := strings.Join(lv, "\x00"); seen[id] {
				continue // two labels that map to one Prometheus label
			} else {
				seen[id] = true
			}
			ch <- prometheus.MustNewConstMetric(desc, prometheus.GaugeValue, tg.g.Value, lv...)
		}
	}
}

// promName maps a gauge name to a valid Prometheus metric name part.
func promName(s string) string {
	b := []byte(s)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' || c == ':' || c >= '0' && c <= '9') {
			b[i] = '_'
		}
	}
	return string(b)
}

// gaugeLabel maps a gauge's label name to a valid Prometheus label name
// that cannot collide with topology, component or task.
func gaugeLabel(k string) string {
	k = strings.ReplaceAll(promName(k), ":", "_")
	if k == "" || k[0] >= '0' && k[0] <= '9' || strings.HasPrefix(k, "__") || slices.Contains(labels, k) {
		k = "label_" + k
	}
	return k
}

func metricsHandler(b Backend) http.Handler {
	reg := prometheus.NewRegistry()
	reg.MustRegister(taskCollector{b: b}, gaugeCollector{b: b}, checkpointCollector{b: b},
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "squall_transport_peers", Help: "Nodes this node holds a tuple connection (and its writer) to."},
			func() float64 { return float64(b.Transport().Peers) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "squall_transport_dropped_total", Help: "Frames to other nodes dropped: queue full, node unreachable or gone (their trees replay)."},
			func() float64 { return float64(b.Transport().Dropped) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "squall_transport_parked", Help: "Batches from other nodes waiting for their task to start here (at most 5 s)."},
			func() float64 { return float64(b.Transport().Parked) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "squall_transport_unroutable_total", Help: "Batches from other nodes for a task not running here, dropped: not of this boot, of a killed topology, not started within 5 s, or the parking full (their trees replay)."},
			func() float64 { return float64(b.Transport().Unroutable) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "squall_transport_rejected_total", Help: "Malformed frames received from other nodes (each closes its connection)."},
			func() float64 { return float64(b.Transport().Rejected) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "squall_transport_refused_total", Help: "Inbound connections closed at once: the caps on connections in total or from one host were reached."},
			func() float64 { return float64(b.Transport().Refused) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "squall_transport_oversized_total", Help: "Items (a tuple, a completion) larger than the frame limit on their own, dropped (their trees fail at once)."},
			func() float64 { return float64(b.Transport().Oversized) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "squall_transport_gaps_total", Help: "Frames from other nodes found missing by their sequence numbers (lost in a connection that broke)."},
			func() float64 { return float64(b.Transport().Gaps) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "squall_transport_late_total", Help: "Frames from other nodes that arrived after a later frame of their sender."},
			func() float64 { return float64(b.Transport().Late) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "squall_transport_over_budget_total", Help: "Frames and parkings refused because their sender's memory budget (or the node's) was spent (their trees replay)."},
			func() float64 { return float64(b.Transport().OverBudget) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "squall_transport_drops_unreported_total", Help: "Frames dropped on the way out whose trees could not be failed at once (they time out and replay)."},
			func() float64 { return float64(b.Transport().Unreported) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "squall_transport_inbound_connections", Help: "Inbound transport connections open (tuple and call connections)."},
			func() float64 { return float64(b.Transport().Inbound) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "squall_transport_inbound_held_bytes", Help: "Bytes of frames from other nodes held now: being read, parked or delivered."},
			func() float64 { return float64(b.Transport().HeldBytes) }),
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{})
}
