package kafka

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/IBM/sarama"
)

// consumerConfig returns the sarama configuration of a spout's consumer
// group. sarama's defaults are unsafe for at-least-once (auto-commit every
// second, new groups start at the newest offset); every setting that matters
// is explicit, and the ones correctness depends on are applied after Tune.
func consumerConfig(c SpoutConfig, clientID string) *sarama.Config {
	sc := sarama.NewConfig()
	sc.ClientID = clientID
	sc.Version = c.Version
	sc.Metadata.Full = false // only the topics we read
	sc.Net.DialTimeout = 10 * time.Second
	sc.Consumer.MaxWaitTime = c.MaxWait
	// Records of aborted transactions are never delivered.
	sc.Consumer.IsolationLevel = sarama.ReadCommitted
	sc.Consumer.Group.Session.Timeout = c.SessionTimeout
	sc.Consumer.Group.Heartbeat.Interval = c.HeartbeatInterval
	sc.Consumer.Group.Rebalance.Timeout = c.RebalanceTimeout
	// A commit that points outside the log (retention deleted it) restarts
	// the partition at the earliest offset: Storm's auto.offset.reset under
	// at-least-once.
	sc.Consumer.Group.ResetInvalidOffsets = true
	if c.Tune != nil {
		c.Tune(sc)
	}
	// Offsets are committed by the spout only (the acked prefix), through
	// its own OffsetCommit requests: nothing sarama marks is ever flushed.
	sc.Consumer.Offsets.AutoCommit.Enable = false
	// Where to start without a usable commit; the first-poll strategy seeks
	// explicitly where it must (see Setup).
	sc.Consumer.Offsets.Initial = sarama.OffsetOldest
	// Errors are read and reported by the spout, not logged by sarama.
	sc.Consumer.Return.Errors = true
	// An eager protocol: every rebalance ends the session, so one session
	// is one assignment generation.
	sc.Consumer.Group.Rebalance.GroupStrategies = []sarama.BalanceStrategy{sarama.NewBalanceStrategyRoundRobin()}
	sc.Consumer.Group.Rebalance.Strategy = nil //nolint:staticcheck // the deprecated field would override GroupStrategies
	return sc
}

// producerConfig returns the sarama configuration of a Kafka bolt or a
// spout's dead-letter writer: an idempotent producer waiting for every
// in-sync replica, which idempotence allows only with one open request per
// connection (sarama's rule).
func producerConfig(version sarama.KafkaVersion, clientID string, tune func(*sarama.Config)) *sarama.Config {
	sc := sarama.NewConfig()
	sc.ClientID = clientID
	sc.Version = version
	sc.Metadata.Full = false
	sc.Net.DialTimeout = 10 * time.Second
	sc.Producer.Retry.Max = 10
	sc.Producer.Retry.Backoff = 100 * time.Millisecond
	sc.Producer.Timeout = 10 * time.Second
	// Getting a producer id is retried by the writer's reconnect loop too;
	// sarama's 50 × 100 ms would hide an unreachable broker for 5 s.
	sc.Producer.Transaction.Retry.Max = 10
	if tune != nil {
		tune(sc)
	}
	sc.Producer.Idempotent = true
	sc.Producer.RequiredAcks = sarama.WaitForAll
	sc.Net.MaxOpenRequests = 1
	if sc.Producer.Retry.Max < 1 {
		sc.Producer.Retry.Max = 1 // idempotence needs retries
	}
	sc.Producer.Return.Successes = true
	sc.Producer.Return.Errors = true
	return sc
}

// commitMetadata is the metadata of every commit, storm-kafka-client's JSON
// shape, so tools that read one read the other.
type commitMetadata struct {
	TopologyID string `json:"topologyId"`
	TaskID     int32  `json:"taskId"`
	ThreadName string `json:"threadName"`
}

func encodeMetadata(m commitMetadata) string {
	b, err := json.Marshal(m)
	if err != nil {
		return "" // cannot happen: three plain fields
	}
	return string(b)
}

// metadataTopologyID returns the topology id of a commit's metadata, or ""
// when the metadata is not ours (another client wrote it).
func metadataTopologyID(metadata string) string {
	var m commitMetadata
	if json.Unmarshal([]byte(metadata), &m) != nil {
		return ""
	}
	return m.TopologyID
}

// startAt says where a newly assigned partition starts.
type startAt int

const (
	startResume   startAt = iota // at the committed offset
	startEarliest                // at the log start
	startLatest                  // at the log end
)

func (s startAt) String() string {
	return [...]string{"resume", "earliest", "latest"}[s]
}

// decideStart applies the first-poll strategy to a partition's commit
// (committed < 0: none) and its metadata.
func decideStart(strategy FirstPollStrategy, committed int64, metadata, topologyID string) startAt {
	hasCommit := committed >= 0
	ours := hasCommit && topologyID != "" && metadataTopologyID(metadata) == topologyID
	switch strategy {
	case Earliest:
		if ours {
			return startResume
		}
		return startEarliest
	case Latest:
		if ours {
			return startResume
		}
		return startLatest
	case UncommittedLatest:
		if hasCommit {
			return startResume
		}
		return startLatest
	default: // UncommittedEarliest
		if hasCommit {
			return startResume
		}
		return startEarliest
	}
}

// committedOffset is a partition's commit: offset < 0 when there is none.
type committedOffset struct {
	offset   int64
	metadata string
}

// coordinatorRetries bounds retries of a request to the group coordinator
// that failed because the coordinator moved or is loading.
const coordinatorRetries = 5

// withCoordinator sends a request to group's coordinator with send, up to
// coordinatorRetries times: again, after a growing pause (attempt × pause)
// and a coordinator refresh, when the coordinator cannot be reached or send
// reports retry. Without retry, send's error is returned as it is; what
// names the request in the error of the last failed attempt.
func withCoordinator(client sarama.Client, group, what string, pause time.Duration, send func(*sarama.Broker) (retry bool, err error)) error {
	var last error
	for attempt := range coordinatorRetries {
		if attempt > 0 {
			time.Sleep(time.Duration(attempt) * pause)
			_ = client.RefreshCoordinator(group)
		}
		broker, err := client.Coordinator(group)
		if err != nil {
			last = err
			continue
		}
		retry, err := send(broker)
		if !retry {
			return err
		}
		last = err
	}
	return fmt.Errorf("%s of group %q: %w", what, group, last)
}

// fetchCommitted reads the commits of group for the partitions of claims.
func fetchCommitted(client sarama.Client, group string, claims map[string][]int32) (map[TopicPartition]committedOffset, error) {
	if len(claims) == 0 {
		return nil, nil // an empty request would ask for every partition
	}
	var out map[TopicPartition]committedOffset
	err := withCoordinator(client, group, "fetch committed offsets", 100*time.Millisecond, func(broker *sarama.Broker) (bool, error) {
		req := sarama.NewOffsetFetchRequest(client.Config().Version, group, claims)
		resp, err := broker.FetchOffset(req)
		if err != nil {
			return true, err
		}
		out = make(map[TopicPartition]committedOffset)
		var retry error
		for topic, parts := range claims {
			for _, p := range parts {
				b := resp.GetBlock(topic, p)
				if b == nil {
					kerr := resp.Err
					if len(resp.Groups) > 0 {
						kerr = resp.Groups[0].Err
					}
					if kerr == sarama.ErrNoError {
						out[TopicPartition{topic, p}] = committedOffset{offset: -1}
						continue
					}
					b = &sarama.OffsetFetchResponseBlock{Err: kerr}
				}
				switch b.Err {
				case sarama.ErrNoError:
					out[TopicPartition{topic, p}] = committedOffset{offset: b.Offset, metadata: b.Metadata}
				case sarama.ErrNotCoordinatorForConsumer, sarama.ErrConsumerCoordinatorNotAvailable,
					sarama.ErrOffsetsLoadInProgress, sarama.ErrUnstableOffsetCommit:
					retry = b.Err
				default:
					return false, fmt.Errorf("fetch committed offset of %s/%d: %w", topic, p, b.Err)
				}
			}
		}
		return retry != nil, retry
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// commitOffsets commits positions for group as member in generation, and
// reports the first partition Kafka refused.
func commitOffsets(client sarama.Client, group, member string, generation int32, positions map[TopicPartition]int64, metadata string) error {
	return withCoordinator(client, group, "commit offsets", 50*time.Millisecond, func(broker *sarama.Broker) (bool, error) {
		req := sarama.NewOffsetCommitRequest(client.Config(), group)
		req.ConsumerID = member
		req.ConsumerGroupGeneration = generation
		for tp, pos := range positions {
			req.AddBlock(tp.Topic, tp.Partition, pos, 0, metadata)
		}
		resp, err := broker.CommitOffset(req)
		if err != nil {
			return true, err
		}
		var refused, retry error
		for topic, parts := range resp.Errors {
			for p, kerr := range parts {
				switch kerr {
				case sarama.ErrNoError:
				case sarama.ErrNotCoordinatorForConsumer, sarama.ErrConsumerCoordinatorNotAvailable,
					sarama.ErrOffsetsLoadInProgress, sarama.ErrRequestTimedOut:
					retry = kerr
				default:
					refused = fmt.Errorf("commit %s/%d: %w", topic, p, kerr)
				}
			}
		}
		if refused != nil {
			return false, refused
		}
		return retry != nil, retry
	})
}

// errClosing is returned by the consumer group handler when the spout closes.
var errClosing = errors.New("kafka: spout closing")
