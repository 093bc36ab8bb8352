package cluster

import (
	"net/http"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/squall-streams/squall/topology"
)

// Prometheus exposition of the task counters every task keeps anyway (one
// atomic add per tuple): a scrape reads them; nothing is sampled and
// nothing is added to the per-tuple path. Each node exposes its own tasks
// at /metrics, with topology, component and task labels, plus Go runtime
// and process metrics. The registry is the node's own, never the global
// one, so several nodes in one process do not collide.

var (
	labels = []string{"topology", "component", "task"}
	descs  = map[string]*prometheus.Desc{
		"emitted":     prometheus.NewDesc("squall_task_emitted_total", "Emit calls.", labels, nil),
		"transferred": prometheus.NewDesc("squall_task_transferred_total", "Tuples sent to tasks.", labels, nil),
		"acked":       prometheus.NewDesc("squall_task_acked_total", "Trees acked (spouts) or input tuples acked (bolts).", labels, nil),
		"failed":      prometheus.NewDesc("squall_task_failed_total", "Trees failed (spouts) or input tuples failed (bolts).", labels, nil),
		"executed":    prometheus.NewDesc("squall_task_executed_total", "Input tuples executed.", labels, nil),
		"timed_out":   prometheus.NewDesc("squall_task_timed_out_total", "Trees failed by their timeout.", labels, nil),
		"errors":      prometheus.NewDesc("squall_task_errors_total", "Reported errors and panics caught in user code.", labels, nil),
		"restarts":    prometheus.NewDesc("squall_task_restarts_total", "Restarts of the task by its supervisor.", labels, nil),
		"dropped":     prometheus.NewDesc("squall_task_dropped_total", "Batches' items from another epoch or topology, dropped (they replay).", labels, nil),
		"pending":     prometheus.NewDesc("squall_task_pending", "Trees a spout task waits for.", labels, nil),
		"latency":     prometheus.NewDesc("squall_task_complete_latency_seconds", "Complete latency of a spout task's trees (all time).", labels, nil),
	}
)

type taskCollector struct{ n *Node }

func (c taskCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range descs {
		ch <- d
	}
}

func (c taskCollector) Collect(ch chan<- prometheus.Metric) {
	c.n.mu.Lock()
	defer c.n.mu.Unlock()
	for name, p := range c.n.running {
		for _, task := range p.tasks {
			s := p.run.Env().Stats(task)
			lv := []string{name, string(s.Component), strconv.Itoa(int(task))}
			counter := func(key string, v int64) {
				ch <- prometheus.MustNewConstMetric(descs[key], prometheus.CounterValue, float64(v), lv...)
			}
			counter("emitted", s.Emitted.Load())
			counter("transferred", s.Transferred.Load())
			counter("acked", s.Acked.Load())
			counter("failed", s.Failed.Load())
			counter("executed", s.Executed.Load())
			counter("timed_out", s.TimedOut.Load())
			counter("errors", s.Errors.Load())
			counter("restarts", s.Restarts.Load())
			counter("dropped", s.Dropped.Load())
			if c := p.run.Topology.Component(s.Component); c != nil && c.Kind == topology.KindSpout {
				ch <- prometheus.MustNewConstMetric(descs["pending"], prometheus.GaugeValue, float64(s.Pending.Load()), lv...)
				h := &s.CompleteLatency
				if n := h.Count(); n > 0 {
					q := map[float64]float64{
						0.5:  h.Quantile(0.5).Seconds(),
						0.99: h.Quantile(0.99).Seconds(),
					}
					ch <- prometheus.MustNewConstSummary(descs["latency"], uint64(n), h.Mean().Seconds()*float64(n), q, lv...)
				}
			}
		}
	}
}

func (n *Node) metricsHandler() http.Handler {
	reg := prometheus.NewRegistry()
	reg.MustRegister(taskCollector{n: n}, collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{})
}
