package kafka

import (
	"testing"
	"time"

	"github.com/IBM/sarama"
)

func TestDecideStart(t *testing.T) {
	ours := encodeMetadata(commitMetadata{TopologyID: "wc@1", TaskID: 3, ThreadName: "kafka-task-3"})
	theirs := encodeMetadata(commitMetadata{TopologyID: "wc@2"})
	tests := []struct {
		strategy  FirstPollStrategy
		committed int64
		metadata  string
		want      startAt
	}{
		{UncommittedEarliest, -1, "", startEarliest},
		{UncommittedEarliest, 7, theirs, startResume},
		{UncommittedEarliest, 7, "written by a Java consumer", startResume},
		{UncommittedLatest, -1, "", startLatest},
		{UncommittedLatest, 0, theirs, startResume},
		{Earliest, -1, "", startEarliest},
		{Earliest, 7, theirs, startEarliest},
		{Earliest, 7, "", startEarliest},
		{Earliest, 7, ours, startResume},
		{Latest, -1, ours, startLatest},
		{Latest, 7, theirs, startLatest},
		{Latest, 7, ours, startResume},
	}
	for _, tt := range tests {
		if got := decideStart(tt.strategy, tt.committed, tt.metadata, "wc@1"); got != tt.want {
			t.Errorf("decideStart(%v, %d, %q) = %v, want %v", tt.strategy, tt.committed, tt.metadata, got, tt.want)
		}
	}
	if got := decideStart(Earliest, 7, `{"topologyId":""}`, ""); got != startEarliest {
		t.Errorf("an empty topology id matched: %v", got)
	}
}

func TestCommitMetadataIsStormsShape(t *testing.T) {
	got := encodeMetadata(commitMetadata{TopologyID: "wc@1", TaskID: 3, ThreadName: "kafka-task-3"})
	if want := `{"topologyId":"wc@1","taskId":3,"threadName":"kafka-task-3"}`; got != want {
		t.Fatalf("metadata %s, want %s", got, want)
	}
	if id := metadataTopologyID(got); id != "wc@1" {
		t.Fatalf("metadataTopologyID() = %q", id)
	}
	if id := metadataTopologyID("{"); id != "" {
		t.Fatalf("metadataTopologyID(bad) = %q", id)
	}
}

func TestSaramaSettingsAreSafe(t *testing.T) {
	sc := validSpoutConfig()
	sc.Tune = func(c *sarama.Config) {
		// A user trying to undo the guarantees.
		c.Consumer.Offsets.AutoCommit.Enable = true
		c.Consumer.Offsets.Initial = sarama.OffsetNewest
		c.Producer.RequiredAcks = sarama.WaitForLocal
		c.Producer.Idempotent = false
		c.Producer.Retry.Max = 0
		c.Net.MaxOpenRequests = 5
		c.Consumer.Fetch.Default = 4 << 20 // a tuning that stays
	}
	cc := consumerConfig(sc, "t")
	if cc.Consumer.Offsets.AutoCommit.Enable || cc.Consumer.Offsets.Initial != sarama.OffsetOldest ||
		!cc.Consumer.Return.Errors || cc.Consumer.Group.Session.Timeout != sc.SessionTimeout ||
		cc.Consumer.Group.Heartbeat.Interval != sc.HeartbeatInterval || cc.Consumer.Group.Rebalance.Timeout != sc.RebalanceTimeout ||
		cc.Consumer.IsolationLevel != sarama.ReadCommitted || cc.Version != DefaultVersion || cc.Consumer.Fetch.Default != 4<<20 {
		t.Errorf("consumer config not safe: %+v", cc.Consumer)
	}
	if err := cc.Validate(); err != nil {
		t.Errorf("consumer config invalid: %v", err)
	}
	pc := producerConfig(DefaultVersion, "t", sc.Tune)
	if !pc.Producer.Idempotent || pc.Producer.RequiredAcks != sarama.WaitForAll || pc.Net.MaxOpenRequests != 1 ||
		pc.Producer.Retry.Max < 1 || !pc.Producer.Return.Successes || !pc.Producer.Return.Errors {
		t.Errorf("producer config not safe: %+v", pc.Producer)
	}
	if err := pc.Validate(); err != nil {
		t.Errorf("producer config invalid: %v", err)
	}
	if sc.CommitPeriod != 5*time.Second {
		t.Errorf("default commit period %v", sc.CommitPeriod)
	}
}
