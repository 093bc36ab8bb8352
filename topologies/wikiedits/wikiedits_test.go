package wikiedits_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/squall-streams/squall/internal/poll"
	"github.com/squall-streams/squall/kafka"
	"github.com/squall-streams/squall/kafka/kafkatest"
	"github.com/squall-streams/squall/local"
	"github.com/squall-streams/squall/topologies/wikiedits"
	"github.com/squall-streams/squall/topology"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, kafkatest.LeakOptions()...)
}

func TestTranslate(t *testing.T) {
	ts := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	good, _ := json.Marshal(wikiedits.Edit{Page: "Storm", User: "Ann", Bot: true, Bytes: -40, Timestamp: ts})
	stream, vals, err := wikiedits.Translate(kafka.Record{Value: good})
	if err != nil || stream != topology.DefaultStream || len(vals) != len(wikiedits.Fields) ||
		vals[0] != "Storm" || vals[1] != "Ann" || vals[2] != true || vals[3] != int64(-40) || vals[4] != ts.UnixMilli() {
		t.Fatalf("Translate(good) = %v, %v, %v", stream, vals, err)
	}
	if _, _, err := wikiedits.Translate(kafka.Record{Value: []byte("{broken")}); err == nil || !strings.Contains(err.Error(), "not an edit") {
		t.Errorf("Translate(broken) error %v", err)
	}
	if _, _, err := wikiedits.Translate(kafka.Record{Value: []byte(`{"user":"x"}`)}); !errors.Is(err, wikiedits.ErrNoPage) {
		t.Errorf("Translate(no page) error %v", err)
	}
}

func TestGeneratorIsSkewedAndSeeded(t *testing.T) {
	a, b := wikiedits.NewGenerator(3), wikiedits.NewGenerator(3)
	pages := map[string]int{}
	for range 5000 {
		e := a.Next()
		if e != b.Next() {
			t.Fatal("same seed, different edits")
		}
		if e.Page == "" || e.User == "" || e.Timestamp.IsZero() {
			t.Fatalf("edit %+v", e)
		}
		pages[e.Page]++
	}
	if pages["Storm"] < 500 || len(pages) < 100 {
		t.Errorf("pages not Zipf-like: Storm %d, %d distinct", pages["Storm"], len(pages))
	}
}

func TestWikiEditsCountsPagesAndUsers(t *testing.T) {
	var log bytes.Buffer
	job, err := wikiedits.Build(topology.Config{}, &log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(job.Close)
	if job.Embedded == nil || !strings.Contains(log.String(), "embedded in-memory Kafka broker") {
		t.Fatalf("no embedded broker announced: %q", log.String())
	}
	const n, every = 1500, 100 // every 100th event is malformed
	g := wikiedits.NewGenerator(7)
	wantPages, wantUsers := map[string]int64{}, map[string]int64{}
	recs := make([]kafka.Record, n)
	for i := range recs {
		e := g.Next()
		v, _ := json.Marshal(e)
		if i%every == 0 {
			v = v[:len(v)/2]
		} else {
			wantPages[e.Page]++
			wantUsers[e.User]++
		}
		recs[i] = kafka.Record{Topic: job.Input, Key: []byte(e.Page), Value: v}
	}
	ctx := context.Background()
	if err := kafka.Produce(ctx, job.Brokers, recs); err != nil {
		t.Fatal(err)
	}
	c, err := local.Start(ctx, job.Topology)
	if err != nil {
		t.Fatal(err)
	}
	poll.Until(t, 60*time.Second, "every edit counted or dead-lettered", func() bool {
		return job.Spout.Acked.Load()+job.Spout.DeadLettered.Load() >= n
	})
	if err := c.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if got := job.Spout.DeadLettered.Load(); got != n/every {
		t.Errorf("%d dead-lettered, want %d", got, n/every)
	}
	if dead, err := kafka.ReadTopic(ctx, job.Brokers, job.DeadLetter); err != nil || len(dead) != n/every {
		t.Errorf("%d records in %q (%v), want %d", len(dead), job.DeadLetter, err, n/every)
	}
	pages, users, err := job.Counts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		what      string
		got, want map[string]int64
	}{{"page", pages, wantPages}, {"user", users, wantUsers}} {
		if len(c.got) != len(c.want) {
			t.Errorf("%d %ss counted, want %d", len(c.got), c.what, len(c.want))
		}
		extra := int64(0)
		for k, w := range c.want {
			if c.got[k] < w {
				t.Errorf("%s %q: %d edits, want %d", c.what, k, c.got[k], w)
			}
			extra += c.got[k] - w
		}
		t.Logf("%ss: %d distinct, %d counted twice (at-least-once replays)", c.what, len(c.got), extra)
	}
	var out bytes.Buffer
	if err := job.Report(ctx, &out, 3, time.Second); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "top pages:") || !strings.Contains(out.String(), "Storm") {
		t.Errorf("report:\n%s", out.String())
	}
}

// FuzzTranslate: event values are outside bytes; decoding must either give
// a tuple with a page or an error, never panic.
func FuzzTranslate(f *testing.F) {
	f.Add([]byte(`{"page":"Storm","user":"Ann","bot":false,"bytes":12,"timestamp":"2026-01-01T00:00:00Z"}`))
	f.Add([]byte(`{"page":""}`))
	f.Add([]byte(`{broken`))
	f.Add([]byte(`{"timestamp":"yesterday"}`))
	f.Fuzz(func(t *testing.T, value []byte) {
		_, vals, err := wikiedits.Translate(kafka.Record{Value: value})
		if err == nil && (len(vals) != len(wikiedits.Fields) || vals[0] == "") {
			t.Fatalf("Translate(%q) = %v without an error", value, vals)
		}
	})
}
