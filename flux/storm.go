package flux

import (
	"context"
	"math/rand/v2"
	"time"

	"github.com/squall-streams/squall/topology"
)

// Class names of the Storm components StormRegistry has Go versions of,
// so Storm's Flux examples load unchanged.
const (
	TestWordSpoutClass   = "org.apache.storm.testing.TestWordSpout"
	TestWordCounterClass = "org.apache.storm.testing.TestWordCounter"
	LogInfoBoltClass     = "org.apache.storm.flux.wrappers.bolts.LogInfoBolt"
)

// StormRegistry is the registry every Build starts from: Go versions of the
// Storm test components that Flux's examples use. WithRegistry adds to it.
func StormRegistry() Registry {
	return Registry{
		Spouts: map[string]SpoutFactory{
			TestWordSpoutClass: func(*Component, topology.Config) (func() topology.Spout, error) {
				return func() topology.Spout { return &testWordSpout{} }, nil
			},
		},
		Bolts: map[string]BoltFactory{
			TestWordCounterClass: func(*Component, topology.Config) (func() topology.Bolt, error) {
				return Basic(func() topology.BasicBolt { return &testWordCounter{} }), nil
			},
			LogInfoBoltClass: func(*Component, topology.Config) (func() topology.Bolt, error) {
				return Basic(func() topology.BasicBolt { return &logInfoBolt{} }), nil
			},
		},
		Groupings: map[string]GroupingFactory{},
	}
}

// testWordSpout is Storm's TestWordSpout: a random word of five every
// 100 ms, unanchored, on field "word".
type testWordSpout struct {
	topology.BaseSpout
	out  topology.SpoutCollector
	next time.Time
}

var testWords = []string{"nathan", "mike", "jackson", "golda", "bertels"}

func (s *testWordSpout) DeclareOutputFields(d topology.OutputFieldsDeclarer) { d.Declare("word") }

func (s *testWordSpout) Open(_ context.Context, _ *topology.Context, c topology.SpoutCollector) error {
	s.out = c
	return nil
}

func (s *testWordSpout) NextTuple() {
	if now := time.Now(); now.After(s.next) {
		s.next = now.Add(100 * time.Millisecond)
		s.out.Emit(topology.Values{testWords[rand.IntN(len(testWords))]}, nil)
	}
}

// testWordCounter is Storm's TestWordCounter: counts the first field and
// emits [word, count].
type testWordCounter struct {
	topology.BaseBolt
	counts map[string]int64
}

func (b *testWordCounter) DeclareOutputFields(d topology.OutputFieldsDeclarer) {
	d.Declare("word", "count")
}

func (b *testWordCounter) Prepare(context.Context, *topology.Context) error {
	b.counts = map[string]int64{}
	return nil
}

func (b *testWordCounter) Execute(t topology.Tuple, c topology.BasicCollector) error {
	if topology.IsTick(t) || len(t.Values()) == 0 {
		return nil
	}
	w, _ := t.Values()[0].(string)
	b.counts[w]++
	c.Emit(topology.Values{w, b.counts[w]})
	return nil
}

// logInfoBolt is Flux's LogInfoBolt: it logs every tuple at info level.
type logInfoBolt struct {
	topology.BaseBolt
	tc *topology.Context
}

func (b *logInfoBolt) Prepare(_ context.Context, tc *topology.Context) error {
	b.tc = tc
	return nil
}

func (b *logInfoBolt) Execute(t topology.Tuple, _ topology.BasicCollector) error {
	if b.tc.Logger != nil {
		b.tc.Logger.Info(topology.Describe(t), "values", t.Values())
	}
	return nil
}

// Basic is topology.Basic for registry factories: the bolt it makes also
// declares the outputs of a BasicBolt that implements
// topology.OutputDeclarer (topology.Basic's bolt does not pass that on, so
// Builder.SetBolt would see no streams).
func Basic(factory func() topology.BasicBolt) func() topology.Bolt {
	return func() topology.Bolt {
		inner := factory()
		b := topology.Basic(func() topology.BasicBolt { return inner })()
		if od, ok := inner.(topology.OutputDeclarer); ok {
			return declaringBolt{Bolt: b, decl: od}
		}
		return b
	}
}

type declaringBolt struct {
	topology.Bolt
	decl topology.OutputDeclarer
}

func (d declaringBolt) DeclareOutputFields(x topology.OutputFieldsDeclarer) {
	d.decl.DeclareOutputFields(x)
}
