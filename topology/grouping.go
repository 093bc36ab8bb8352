package topology

// GroupingKind names one of Storm's stream groupings.
type GroupingKind int

// The groupings.
const (
	// KindShuffle spreads tuples evenly over the consumer's tasks.
	KindShuffle GroupingKind = iota + 1
	// KindFields sends equal values of the grouping fields to the same task:
	// hash(fields) mod NumTasks is the key's key group, and the running task
	// serving that key group gets it (the key-group owners of package internal/routing), stable across
	// processes and restarts for a given parallelism.
	KindFields
	// KindAll sends every tuple to every task.
	KindAll
	// KindGlobal sends every tuple to the consumer's lowest task.
	KindGlobal
	// KindNone is shuffle (Storm reserves it for future use).
	KindNone
	// KindDirect lets the emitter choose the task (EmitDirect). It may name
	// any of the consumer's tasks; a tuple sent to a task that does not run
	// (beyond the component's parallelism after a rebalance) reaches no one
	// and its tree fails by timeout: choose among Context.RunningTasks.
	KindDirect
	// KindLocalOrShuffle prefers tasks in the same process, else shuffles.
	KindLocalOrShuffle
	// KindPartialKey sends a key to the less loaded of two candidate tasks.
	KindPartialKey
	// KindCustom delegates to a CustomStreamGrouping.
	KindCustom
)

var groupingNames = [...]string{
	KindShuffle: "shuffle", KindFields: "fields", KindAll: "all", KindGlobal: "global", KindNone: "none",
	KindDirect: "direct", KindLocalOrShuffle: "local-or-shuffle", KindPartialKey: "partial-key", KindCustom: "custom",
}

func (k GroupingKind) String() string {
	if k > 0 && int(k) < len(groupingNames) {
		return groupingNames[k]
	}
	return "unknown"
}

// Grouping says how one input stream is split among a bolt's tasks.
type Grouping struct {
	Kind   GroupingKind
	Fields []string             // KindFields, KindPartialKey
	Custom CustomStreamGrouping // KindCustom
}

func (g Grouping) String() string { return g.Kind.String() }

// CustomStreamGrouping chooses target tasks itself. The runtime calls Prepare
// once per emitting task, then ChooseTasks from that task's goroutine only;
// after a rebalance changes the consumer's parallelism it calls Prepare
// again, on that goroutine, with the new running tasks.
type CustomStreamGrouping interface {
	// Prepare receives the consumer's running tasks (in order) for stream.
	Prepare(tc *Context, stream StreamID, targets []TaskID)
	// ChooseTasks returns the tasks values go to; it may append to dst
	// (which has length 0) and return it, to avoid allocating.
	ChooseTasks(values Values, dst []TaskID) []TaskID
}

// ShuffleGrouping spreads tuples evenly.
func ShuffleGrouping() Grouping { return Grouping{Kind: KindShuffle} }

// FieldsGrouping groups by the named fields.
func FieldsGrouping(fields ...string) Grouping { return Grouping{Kind: KindFields, Fields: fields} }

// AllGrouping replicates every tuple to every task.
func AllGrouping() Grouping { return Grouping{Kind: KindAll} }

// GlobalGrouping sends every tuple to the lowest task.
func GlobalGrouping() Grouping { return Grouping{Kind: KindGlobal} }

// NoneGrouping is shuffle.
func NoneGrouping() Grouping { return Grouping{Kind: KindNone} }

// DirectGrouping lets the emitter choose (the stream must be declared direct).
func DirectGrouping() Grouping { return Grouping{Kind: KindDirect} }

// LocalOrShuffleGrouping prefers tasks in the emitter's process.
func LocalOrShuffleGrouping() Grouping { return Grouping{Kind: KindLocalOrShuffle} }

// PartialKeyGrouping balances each key over two candidate tasks.
func PartialKeyGrouping(fields ...string) Grouping {
	return Grouping{Kind: KindPartialKey, Fields: fields}
}

// CustomGrouping groups with g.
func CustomGrouping(g CustomStreamGrouping) Grouping { return Grouping{Kind: KindCustom, Custom: g} }
