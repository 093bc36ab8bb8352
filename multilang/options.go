package multilang

import (
	"cmp"
	"errors"
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"
	"time"

	wire "github.com/squall-streams/squall/internal/multilang"
	"github.com/squall-streams/squall/internal/procenv"
	"github.com/squall-streams/squall/topology"
)

// Configuration keys a shell component reads from the topology config.
// Options given to the constructors override them.
const (
	// SerializerKey selects the framing on the pipe: Storm's JSON class name
	// (the default), or "msgpack" / the Pyleus class
	// com.yelp.pyleus.serializer.MessagePackSerializer for pystorm's
	// `-s msgpack`. The subprocess must be started with the same framing.
	SerializerKey = wire.SerializerKey
	// SubprocessTimeoutKey is the subprocess heartbeat timeout in seconds
	// (Storm's key). A bolt subprocess that makes no progress for this long
	// (answers no heartbeat, emits, acks and fails nothing), or a spout
	// subprocess that does not answer a command within it, is killed and
	// restarted. Unlike Storm, log, error and metrics commands do not count
	// as progress: a subprocess that sends only those is stuck in a loop. Unset, squall reads WorkerTimeoutKey like Storm,
	// and falls back to 30 s.
	SubprocessTimeoutKey = "topology.subprocess.timeout.secs"
	// WorkerTimeoutKey is Storm's fallback for SubprocessTimeoutKey.
	WorkerTimeoutKey = "supervisor.worker.timeout.secs"
	// StartupTimeoutKey is how long a subprocess may take to answer the
	// handshake — start its interpreter, import its modules, load what it
	// needs — before it is killed and restarted, in seconds (default 60,
	// and never less than the subprocess timeout). Storm waits for the
	// handshake without a limit; the heartbeat timeout, often a few
	// seconds, is no measure of a start-up.
	StartupTimeoutKey = "squall.multilang.startup.timeout.secs"
	// MaxPendingKey bounds the tuples a shell bolt has queued for its
	// subprocess's stdin and not yet written (Storm's key, default 100).
	// Beyond it the bolt keeps tuples in its own backlog, so the task never
	// blocks; the spouts' topology.max.spout.pending bounds that backlog.
	MaxPendingKey = "topology.shellbolt.max.pending"
	// ResourcesDirKey is the working directory of shell subprocesses: the
	// topology's resources directory, where the Python code lives (Storm:
	// the extracted resources of the topology jar). Default: the node's
	// working directory. `node run topology.yaml --resources DIR` sets it.
	ResourcesDirKey = "squall.resources.dir"
	// RestartBackoffKey is the delay in seconds before a crashed subprocess
	// is restarted (default 0.1). It doubles with every further crash, up to
	// RestartBackoffMaxKey (default 10), and starts again from the initial
	// delay after a minute without crashes.
	RestartBackoffKey    = "squall.multilang.restart.backoff.secs"
	RestartBackoffMaxKey = "squall.multilang.restart.backoff.max.secs"
	// MaxMessageBytesKey bounds one message from a subprocess (default
	// 16 MiB). A larger one is a protocol error: the subprocess restarts.
	MaxMessageBytesKey = "squall.multilang.max.message.bytes"
	// EnvironmentKey is Storm's topology.environment: a map of variable
	// names to values added to every shell subprocess's environment. A
	// subprocess gets the node's environment without the node's secrets
	// (SQUALL_ADMIN_TOKEN, SQUALL_GOSSIP_KEY and every SQUALL_ name holding
	// a token, key, password, ...; see internal/procenv), then these, then
	// WithEnv's. Setting a secret here is a configuration error.
	EnvironmentKey = "topology.environment"
)

// DeadLetterStream is the stream a shell bolt emits a tuple on instead of
// giving it to its subprocess once that tuple has crashed the subprocess
// DefaultDeadLetterAfter times (stream ids that start with "__" are
// reserved, so it is not "__dlq"). Its fields are DeadLetterFields. A bolt
// declares it unless WithDeadLetter("", 0) turns it off; subscribe to it
// like any stream to store or inspect poison tuples.
const (
	DeadLetterStream       topology.StreamID = "dlq"
	DefaultDeadLetterAfter                   = 3
)

// DeadLetterFields are the fields of DeadLetterStream: the poison tuple's
// source component and stream, its values (a list) and the last crash.
// Do not modify it.
var DeadLetterFields = []string{"source", "stream", "values", "error"}

// Defaults.
const (
	DefaultTimeout      = 30 * time.Second
	DefaultStartup      = time.Minute
	DefaultMaxPending   = 100
	DefaultStopTimeout  = 2 * time.Second
	DefaultNextInFlight = 8
	defaultBackoff      = 100 * time.Millisecond
	defaultBackoffMax   = 10 * time.Second
	defaultBackoffReset = time.Minute
	maxHeartbeat        = time.Second
)

// An Option configures a ShellSpout or ShellBolt.
type Option func(*options)

type streamDecl struct {
	id     topology.StreamID
	fields []string
	direct bool
}

type options struct {
	streams      []streamDecl
	dir          string
	env          map[string]string
	serializer   string
	topo         func() *topology.Topology
	conf         map[string]any
	timeout      time.Duration
	startup      time.Duration
	heartbeat    time.Duration
	backoff      time.Duration
	backoffMax   time.Duration
	maxPending   int
	dlq          topology.StreamID
	dlqAfter     int
	metrics      func(tc *topology.Context, name string, params any)
	stopTimeout  time.Duration
	maxMessage   int
	nextInFlight int
	pidDir       string
	launcher     Launcher
}

func defaultOptions() options {
	return options{dlq: DeadLetterStream, dlqAfter: DefaultDeadLetterAfter, nextInFlight: DefaultNextInFlight}
}

// Output declares the fields of the default stream.
func Output(fields ...string) Option {
	return OutputStream(topology.DefaultStream, fields...)
}

// OutputStream declares the fields of a named stream.
func OutputStream(stream topology.StreamID, fields ...string) Option {
	fields = slices.Clone(fields)
	return func(o *options) { o.streams = append(o.streams, streamDecl{id: stream, fields: fields}) }
}

// DirectStream declares a direct stream: the subprocess emits on it with a
// target task (pystorm's direct_task).
func DirectStream(stream topology.StreamID, fields ...string) Option {
	fields = slices.Clone(fields)
	return func(o *options) {
		o.streams = append(o.streams, streamDecl{id: stream, fields: fields, direct: true})
	}
}

// WithDir sets the subprocess's working directory, overriding
// ResourcesDirKey.
func WithDir(dir string) Option { return func(o *options) { o.dir = dir } }

// WithEnv adds environment variables to the subprocess's: the node's
// environment without its secrets, plus EnvironmentKey's. A PATH entry is
// appended to that PATH rather than replacing it, as Storm does. It may not
// set a node secret (a SQUALL_ name holding a token, key, ...).
func WithEnv(env map[string]string) Option {
	return func(o *options) {
		if o.env == nil {
			o.env = map[string]string{}
		}
		for k, v := range env {
			o.env[k] = v
		}
	}
}

// WithSerializer sets the framing ("json", "msgpack" or a class name that
// SerializerKey accepts), overriding the topology config.
func WithSerializer(name string) Option { return func(o *options) { o.serializer = name } }

// WithTopology gives the component the compiled topology, from which it
// fills the handshake's context completely: every task's component, the
// groupings of its outputs and inputs and the fields of its input streams
// (pystorm turns those into namedtuples). Without it the context only
// knows the component's own tasks and outputs. get is called once the task starts,
// so it may return a variable that is assigned after Builder.Build:
//
//	var t *topology.Topology
//	b.SetBolt("split", multilang.BoltFactory(cmd, multilang.Output("word"),
//		multilang.WithTopology(func() *topology.Topology { return t })), 2)
//	t, err = b.Build(conf)
//
// The flux package does this itself. It is a stopgap until the runtime's
// Context exposes the topology.
func WithTopology(get func() *topology.Topology) Option {
	return func(o *options) { o.topo = get }
}

// WithConf adds entries to the configuration sent to the subprocess in the
// handshake, over the topology's (Storm's per-component configuration,
// Flux's addComponentConfig).
func WithConf(conf map[string]any) Option {
	return func(o *options) {
		if o.conf == nil {
			o.conf = map[string]any{}
		}
		for k, v := range conf {
			o.conf[k] = v
		}
	}
}

// WithTimeout sets the subprocess heartbeat timeout, overriding
// SubprocessTimeoutKey.
func WithTimeout(d time.Duration) Option { return func(o *options) { o.timeout = d } }

// WithStartupTimeout sets how long the subprocess may take to answer the
// handshake, overriding StartupTimeoutKey.
func WithStartupTimeout(d time.Duration) Option { return func(o *options) { o.startup = d } }

// WithHeartbeatInterval sets how often a bolt sends its subprocess a
// heartbeat tuple. The default is min(1 s, timeout/4); Storm sends one a second.
func WithHeartbeatInterval(d time.Duration) Option { return func(o *options) { o.heartbeat = d } }

// WithRestartBackoff sets the first and the longest delay before a crashed
// subprocess is restarted, overriding RestartBackoffKey and
// RestartBackoffMaxKey.
func WithRestartBackoff(initial, maximum time.Duration) Option {
	return func(o *options) { o.backoff, o.backoffMax = initial, maximum }
}

// WithMaxPending overrides MaxPendingKey for a bolt.
func WithMaxPending(n int) Option { return func(o *options) { o.maxPending = n } }

// WithDeadLetter sets the dead-letter stream and how many subprocess crashes
// a tuple may cause before it goes there (default DeadLetterStream, 3). An
// empty stream or after <= 0 turns dead-lettering off: a poison tuple then
// replays for ever, as in Storm.
func WithDeadLetter(stream topology.StreamID, after int) Option {
	return func(o *options) {
		if stream == "" || after <= 0 {
			o.dlq, o.dlqAfter = "", 0
			return
		}
		o.dlq, o.dlqAfter = stream, after
	}
}

// WithMetrics receives the subprocess's metrics commands (pystorm's
// report_metric). It runs on the task's goroutine and must not block.
// Without it a metric that is a number becomes the task's gauge of that
// name, and a map's numbers gauges with the label key (shown in the REST
// API, the UI and Prometheus); other metrics are dropped with one log line
// per name (Storm would kill the worker for a metric with no registered
// IShellMetric).
func WithMetrics(fn func(tc *topology.Context, name string, params any)) Option {
	return func(o *options) { o.metrics = fn }
}

// WithStopTimeout bounds how long Close/Cleanup wait for the subprocess to
// exit after its stdin is closed (pystorm exits on EOF) before killing its
// process group (default 2 s).
func WithStopTimeout(d time.Duration) Option { return func(o *options) { o.stopTimeout = d } }

// WithMaxMessageSize overrides MaxMessageBytesKey.
func WithMaxMessageSize(n int) Option { return func(o *options) { o.maxMessage = n } }

// WithNextInFlight lets a spout have up to n "next" commands sent and not
// yet answered with sync (default DefaultNextInFlight). The subprocess
// still handles its commands one at a time, in order. Storm sends one and
// waits; squall's spout task does not wait (NextTuple must not block), and
// the runtime calls NextTuple again only after its idle pause when nothing
// was emitted synchronously, so with n = 1 a Python spout makes at most
// about a thousand round trips a second. More in flight costs an ack or
// fail that waits behind up to n-1 nexts, and up to n-1 nexts answered
// after a deactivate. n = 1 is Storm's behaviour exactly.
func WithNextInFlight(n int) Option { return func(o *options) { o.nextInFlight = n } }

// WithPIDDir sets the directory under which each task makes its pidDir
// (default os.TempDir()).
func WithPIDDir(dir string) Option { return func(o *options) { o.pidDir = dir } }

// settings are the options and config keys, read and checked once.
type settings struct {
	argv         []string
	dir          string
	env          []string
	ser          wire.Serializer
	timeout      time.Duration
	startup      time.Duration
	heartbeat    time.Duration
	backoff      time.Duration
	backoffMax   time.Duration
	maxPending   int
	maxMessage   int
	stopTimeout  time.Duration
	nextInFlight int
}

// ErrConfig is wrapped by every configuration error of a shell component.
var ErrConfig = errors.New("multilang: invalid configuration")

// ValidateConfig checks the keys above in conf, so a loader can report a bad
// value before the topology runs; errors name the key.
func ValidateConfig(conf topology.Config) error {
	_, err := resolve([]string{"check"}, defaultOptions(), conf, topology.KindBolt)
	return err
}

func resolve(argv []string, o options, conf topology.Config, kind topology.ComponentKind) (settings, error) {
	var errs []error
	add := func(err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}
	s := settings{argv: argv, dir: o.dir, stopTimeout: o.stopTimeout, nextInFlight: o.nextInFlight}
	if len(argv) == 0 || argv[0] == "" {
		add(fmt.Errorf("empty command"))
	}
	if s.dir == "" {
		s.dir = conf.String(ResourcesDirKey, "")
	}
	var err error
	if o.serializer != "" {
		s.ser, err = wire.ParseSerializer(o.serializer)
	} else {
		s.ser, err = wire.SerializerFromConf(conf)
	}
	add(err)
	s.timeout = o.timeout
	if s.timeout == 0 {
		key := SubprocessTimeoutKey
		if _, ok := conf[key]; !ok {
			key = WorkerTimeoutKey
		}
		s.timeout, err = conf.Seconds(key, DefaultTimeout)
		add(err)
		if err == nil && s.timeout <= 0 {
			add(fmt.Errorf("config %s: must be > 0, got %v", key, conf[key]))
		}
	}
	if s.timeout <= 0 {
		s.timeout = DefaultTimeout
	}
	s.startup = o.startup
	if s.startup <= 0 {
		s.startup, err = conf.Seconds(StartupTimeoutKey, DefaultStartup)
		add(err)
	}
	s.startup = max(s.startup, s.timeout)
	s.heartbeat = o.heartbeat
	if s.heartbeat <= 0 {
		s.heartbeat = min(maxHeartbeat, s.timeout/4)
	}
	s.heartbeat = max(s.heartbeat, time.Millisecond)
	s.backoff, s.backoffMax = o.backoff, o.backoffMax
	if s.backoff <= 0 {
		s.backoff, err = conf.Seconds(RestartBackoffKey, defaultBackoff)
		add(err)
	}
	if s.backoffMax <= 0 {
		s.backoffMax, err = conf.Seconds(RestartBackoffMaxKey, defaultBackoffMax)
		add(err)
	}
	if s.backoff <= 0 {
		s.backoff = defaultBackoff
	}
	s.backoffMax = max(s.backoffMax, s.backoff)
	s.maxPending = o.maxPending
	if s.maxPending <= 0 {
		s.maxPending, err = conf.Int(MaxPendingKey, DefaultMaxPending)
		add(err)
		if err == nil && s.maxPending < 1 {
			add(fmt.Errorf("config %s: must be >= 1, got %d", MaxPendingKey, s.maxPending))
		}
	}
	s.maxPending = max(s.maxPending, 1)
	s.maxMessage = o.maxMessage
	if s.maxMessage <= 0 {
		s.maxMessage, err = conf.Int(MaxMessageBytesKey, wire.DefaultMaxMessageSize)
		add(err)
		if err == nil && s.maxMessage < 1 {
			add(fmt.Errorf("config %s: must be >= 1, got %d", MaxMessageBytesKey, s.maxMessage))
		}
	}
	s.maxMessage = max(s.maxMessage, 64)
	if s.stopTimeout <= 0 {
		s.stopTimeout = DefaultStopTimeout
	}
	s.nextInFlight = max(s.nextInFlight, 1)
	topoEnv, err := topologyEnvironment(conf)
	add(err)
	if err == nil {
		s.env, err = environ(os.Environ(), topoEnv, o.env)
		add(err)
	}
	if len(errs) > 0 {
		return s, fmt.Errorf("%w: %s %v: %w", ErrConfig, kind, argv, errors.Join(errs...))
	}
	return s, nil
}

// topologyEnvironment reads EnvironmentKey: a map of names to strings,
// numbers or booleans (YAML and JSON give map[string]any).
func topologyEnvironment(conf topology.Config) (map[string]string, error) {
	v, ok := conf[EnvironmentKey]
	if !ok || v == nil {
		return nil, nil
	}
	bad := func(why string) error {
		return fmt.Errorf("config %s: %s: want a map of variable names to values", EnvironmentKey, why)
	}
	out := map[string]string{}
	put := func(k any, v any) error {
		name, ok := k.(string)
		if !ok {
			return bad(fmt.Sprintf("name %v (%T) is not a string", k, k))
		}
		switch x := v.(type) {
		case string:
			out[name] = x
		case bool, int, int32, int64, uint, uint32, uint64, float32, float64:
			out[name] = fmt.Sprint(x)
		default:
			return bad(fmt.Sprintf("%s: %v (%T) is not a string, number or boolean", name, v, v))
		}
		return nil
	}
	var err error
	switch m := v.(type) {
	case map[string]string:
		return maps.Clone(m), nil
	case map[string]any:
		for _, k := range slices.Sorted(maps.Keys(m)) {
			err = cmp.Or(err, put(k, m[k]))
		}
	case map[any]any:
		for k, v := range m {
			err = cmp.Or(err, put(k, v))
		}
	default:
		return nil, bad(fmt.Sprintf("%v (%T) is not a map", v, v))
	}
	if err != nil {
		return nil, err
	}
	return out, nil
}

// environ is a subprocess's environment: node (os.Environ()) without the
// node's secrets, plus topo (EnvironmentKey), plus extra (WithEnv), whose
// PATH is appended to the PATH so far. Neither may set a secret.
func environ(node []string, topo, extra map[string]string) ([]string, error) {
	env, err := procenv.For(node, topo)
	if err != nil || len(extra) == 0 {
		return env, err
	}
	if p, ok := extra["PATH"]; ok {
		extra = maps.Clone(extra)
		for _, kv := range env {
			if old, ok := strings.CutPrefix(kv, "PATH="); ok {
				extra["PATH"] = old + string(os.PathListSeparator) + p
			}
		}
	}
	env, err = procenv.For(env, extra)
	if err != nil {
		return nil, fmt.Errorf("multilang.WithEnv: %w", err)
	}
	return env, nil
}
