// Package wikiedits is the demo of the talk squall comes from: Wikipedia-style
// edit events flow from a Kafka topic through a topology that counts edits per
// page and per user, and the running counts flow back into Kafka.
//
//	edits topic -> kafka spout (JSON -> page, user, bot, bytes, timestamp)
//	            -> pages (fields grouping on page) --\
//	            -> users (fields grouping on user) ---> kafka bolt -> counts topic
//
// Every update is a record with key "page:<title>" or "user:<name>" and the
// decimal running count as value; the largest value of a key is its count.
// Events that are not valid JSON (or have no page) are dead-lettered to a
// topic with the reason, never dropped. `go run ./examples/wikiedits` runs it
// all on an embedded broker; the node binary registers it as
// "wikiedits" (package topologies).
package wikiedits

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/squall-streams/squall/kafka"
	"github.com/squall-streams/squall/kafka/embedded"
	"github.com/squall-streams/squall/topologies/kafkawords"
	"github.com/squall-streams/squall/topologies/wordcount"
	"github.com/squall-streams/squall/topology"
)

// Name is the topology's registered name.
const Name = "wikiedits"

// Configuration keys besides the kafka.* keys of package kafka.
const (
	KeyRate      = "wikiedits.rate"      // edits per second the embedded demo produces (default 1000)
	KeyMalformed = "wikiedits.malformed" // fraction of malformed events it produces (default 0.001)
	KeyBolts     = "wikiedits.parallelism"
)

// Keys are the configuration keys wikiedits reads (besides topology.* and
// squall.*): its nodecmd.Topology.Keys.
var Keys = append([]string{KeyRate, KeyMalformed, KeyBolts}, kafkawords.KafkaKeys...)

// Defaults for kafka.input, kafka.output and kafka.dlq.topic.
const (
	DefaultInput      = "wikiedits"
	DefaultOutput     = "wikiedits-counts"
	DefaultDeadLetter = "wikiedits-dlq"
)

// Edit is one edit event, as JSON in the input topic.
type Edit struct {
	Page      string    `json:"page"`
	User      string    `json:"user"`
	Bot       bool      `json:"bot"`
	Bytes     int       `json:"bytes"` // bytes changed; negative for removals
	Timestamp time.Time `json:"timestamp"`
}

// Fields of the spout's tuples.
var Fields = []string{"page", "user", "bot", "bytes", "timestamp"}

// ErrNoPage is the dead-letter cause of an event without a page.
var ErrNoPage = errors.New("wikiedits: edit has no page")

// Translate decodes an edit for the spout; a record that is not an edit is
// dead-lettered with the decoding error.
func Translate(r kafka.Record) (topology.StreamID, topology.Values, error) {
	var e Edit
	if err := json.Unmarshal(r.Value, &e); err != nil {
		return "", nil, fmt.Errorf("wikiedits: not an edit: %w", err)
	}
	if e.Page == "" {
		return "", nil, ErrNoPage
	}
	return topology.DefaultStream, topology.Values{e.Page, e.User, e.Bot, int64(e.Bytes), e.Timestamp.UnixMilli()}, nil
}

// Generator makes edit events: pages and users drawn with a Zipf skew, as on
// the real wiki, a few bots, timestamps moving on. Not safe for concurrent use.
type Generator struct {
	r            *rand.Rand
	pages, users *rand.Zipf
	now          time.Time
}

var pageWords = strings.Fields(`Storm Kafka Squall Stream Tuple Spout Bolt Actor Gossip Raft Go Java Python
	Wikipedia Berlin Paris Tokyo Lagos Lima Oslo Physics Chemistry Music Football Chess Volcano River
	Moon Mars Jupiter Whale Octopus Bread Coffee Tea Bicycle Railway Bridge Castle Library Algorithm`)

// NewGenerator returns a generator seeded with seed.
func NewGenerator(seed uint64) *Generator {
	r := rand.New(rand.NewPCG(seed, seed^0x3d17))
	return &Generator{
		r:     r,
		pages: rand.NewZipf(r, 1.2, 1, 2000),
		users: rand.NewZipf(r, 1.1, 1, 500),
		now:   time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
	}
}

// Next returns the next edit.
func (g *Generator) Next() Edit {
	p := g.pages.Uint64()
	u := g.users.Uint64()
	g.now = g.now.Add(time.Duration(g.r.IntN(200)) * time.Millisecond)
	page := pageWords[p%uint64(len(pageWords))]
	if p >= uint64(len(pageWords)) {
		page += " (" + strconv.FormatUint(p/uint64(len(pageWords)), 10) + ")"
	}
	return Edit{
		Page:      page,
		User:      "User" + strconv.FormatUint(u, 10),
		Bot:       u%17 == 3,
		Bytes:     g.r.IntN(2000) - 600,
		Timestamp: g.now,
	}
}

// Produce writes edits from g to topic at rate per second (0: as fast as it
// can) until n are written (n <= 0: until ctx is done), a malformed fraction
// of them not JSON. It returns how many events it wrote.
func Produce(ctx context.Context, brokers []string, topic string, g *Generator, n int, rate, malformed float64) (int, error) {
	const batch = 100
	p, err := kafka.NewProducer(brokers)
	if err != nil {
		return 0, err
	}
	defer p.Close()
	start := time.Now()
	written := 0
	for n <= 0 || written < n {
		if ctx.Err() != nil {
			return written, nil
		}
		k := batch
		if n > 0 {
			k = min(k, n-written)
		}
		if rate > 0 {
			// Pace by the clock: wait until this batch is due.
			due := start.Add(time.Duration(float64(written) / rate * float64(time.Second)))
			if d := time.Until(due); d > 0 {
				t := time.NewTimer(d)
				select {
				case <-t.C:
				case <-ctx.Done():
					t.Stop()
					return written, nil
				}
			}
		}
		recs := make([]kafka.Record, k)
		for i := range recs {
			e := g.Next()
			v, err := json.Marshal(e)
			if err != nil {
				return written, err
			}
			if g.r.Float64() < malformed {
				v = append([]byte("{broken "), v[:len(v)/2]...)
			}
			recs[i] = kafka.Record{Topic: topic, Key: []byte(e.Page), Value: v}
		}
		if err := p.Send(ctx, recs); err != nil {
			if ctx.Err() != nil {
				return written, nil
			}
			return written, err
		}
		written += k
	}
	return written, nil
}

// Job is the built topology and what it runs against.
type Job struct {
	Topology   *topology.Topology
	Brokers    []string
	Input      string
	Output     string
	DeadLetter string
	Spout      *kafka.SpoutMetrics
	Bolt       *kafka.BoltMetrics
	// Embedded is the in-memory broker started because kafka.brokers was
	// empty; nil otherwise. Close stops it.
	Embedded *embedded.Broker
}

// Close stops the embedded broker, if any; call it after the topology stopped.
func (j *Job) Close() {
	if j.Embedded != nil {
		j.Embedded.Close()
	}
}

// Build builds the topology from conf; without kafka.brokers it starts an
// embedded broker and says so on log.
func Build(conf topology.Config, log io.Writer) (*Job, error) {
	conf = conf.Merge(nil)
	for key, def := range map[string]string{kafka.KeyInput: DefaultInput, kafka.KeyOutput: DefaultOutput, kafka.KeyDeadLetterTopic: DefaultDeadLetter} {
		if conf.String(key, "") == "" {
			conf[key] = def
		}
	}
	par, err := conf.Int(KeyBolts, 2)
	if err != nil {
		return nil, err
	}
	sc, err := kafka.SpoutConfigFrom(conf)
	if err != nil {
		return nil, err
	}
	bc := kafka.BoltConfigFrom(conf)
	if len(sc.Topics) != 1 {
		return nil, fmt.Errorf("config %s: name one input topic, not %v", kafka.KeyInput, sc.Topics)
	}
	j := &Job{Input: sc.Topics[0], Output: bc.Topic, DeadLetter: sc.DeadLetterTopic, Spout: new(kafka.SpoutMetrics), Bolt: new(kafka.BoltMetrics)}
	if len(sc.Brokers) == 0 {
		b, err := kafkawords.StartEmbedded(log, j.Input, j.Output, j.DeadLetter)
		if err != nil {
			return nil, err
		}
		j.Embedded = b
		sc.Brokers, bc.Brokers = b.Brokers(), b.Brokers()
	}
	j.Brokers = sc.Brokers
	sc.Translator, sc.Streams = Translate, map[topology.StreamID][]string{topology.DefaultStream: Fields}
	sc.Metrics, bc.Metrics = j.Spout, j.Bolt
	spout, err := kafka.NewSpout(sc)
	if err != nil {
		j.Close()
		return nil, err
	}
	bolt, err := kafka.NewBolt(bc)
	if err != nil {
		j.Close()
		return nil, err
	}
	b := topology.NewBuilder(Name)
	b.SetSpout("edits", spout, 2)
	b.SetBolt("pages", func() topology.Bolt { return &wordcount.CountBolt{Field: "page", Emit: true, Prefix: "page:"} }, par).
		FieldsGrouping("edits", "page").Output("key", "message")
	b.SetBolt("users", func() topology.Bolt { return &wordcount.CountBolt{Field: "user", Emit: true, Prefix: "user:"} }, par).
		FieldsGrouping("edits", "user").Output("key", "message")
	b.SetBolt("out", bolt, par).FieldsGrouping("pages", "key").FieldsGrouping("users", "key")
	if j.Topology, err = b.Build(conf); err != nil {
		j.Close()
		return nil, err
	}
	return j, nil
}

// Counts reads the output topic: the count of every page and every user
// (the largest value written for its key).
func (j *Job) Counts(ctx context.Context) (pages, users map[string]int64, err error) {
	recs, err := kafka.ReadTopic(ctx, j.Brokers, j.Output)
	if err != nil {
		return nil, nil, err
	}
	pages, users = map[string]int64{}, map[string]int64{}
	for _, r := range recs {
		n, _ := strconv.ParseInt(string(r.Value), 10, 64)
		k := string(r.Key)
		if p, ok := strings.CutPrefix(k, "page:"); ok {
			pages[p] = max(pages[p], n)
		} else if u, ok := strings.CutPrefix(k, "user:"); ok {
			users[u] = max(users[u], n)
		}
	}
	return pages, users, nil
}

// Report writes the counters and the top n pages and users.
func (j *Job) Report(ctx context.Context, w io.Writer, n int, elapsed time.Duration) error {
	s, b := j.Spout.Snapshot(), j.Bolt.Snapshot()
	fmt.Fprintf(w, "%s: %d edits counted, %d malformed dead-lettered to %q, %d count updates written in %.1fs\n",
		Name, s.Acked, s.DeadLettered, j.DeadLetter, b.Written, elapsed.Seconds())
	pages, users, err := j.Counts(ctx)
	if err != nil {
		return err
	}
	for _, part := range []struct {
		title  string
		counts map[string]int64
	}{{"top pages", pages}, {"top users", users}} {
		fmt.Fprintf(w, "%s:\n", part.title)
		for _, kv := range kafkawords.Top(part.counts, n) {
			fmt.Fprintf(w, "  %6d  %s\n", kv.N, cmp.Or(kv.Key, "(anonymous)"))
		}
	}
	return nil
}
