package kafka

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/IBM/sarama"
)

// txSlot is one transactional id of a task's ring and the sarama
// transactional producer that owns it: the I/O shell of one slot. The
// task's goroutine calls its methods (start, begin, write, flush, commit,
// abort, close); a feeder goroutine moves written messages into the
// producer's input without blocking the task, and a collector goroutine
// counts the broker's answers and keeps the first error.
type txSlot struct {
	index int
	id    string

	client sarama.Client
	p      sarama.AsyncProducer
	// pid and epoch are the coordinator's for this producer, read with
	// DescribeTransactions after InitProducerId.
	pid   int64
	epoch int16
	// begun: BeginTxn was called and the transaction is neither pending
	// nor finished. wrote: it has records.
	begun, wrote bool
	// checkpoint is the checkpoint that pre-committed the slot's
	// transaction (0: none pending).
	checkpoint uint64
	// stale: the producer must be re-created before the slot takes writes
	// again. Always after a commit: in transactions v1 the epoch stays the
	// same from one transaction of a producer to the next, so without a
	// new epoch a raw EndTxn(commit) under the recorded (producer id,
	// epoch) of a committed transaction — a Recover from the last
	// completed checkpoint — would commit the slot's next, open
	// transaction instead. With one epoch per transaction, the recorded
	// pair names exactly one. Also after an error that leaves sarama's
	// producer unusable.
	stale bool

	written  *atomic.Int64 // the bolt's Written counter
	inflight atomic.Int64  // messages written and not answered yet
	progress chan struct{} // signalled when answers arrive

	mu    sync.Mutex
	queue []*sarama.ProducerMessage
	err   error // the first produce error of the open transaction
	wake  chan struct{}
	stop  chan struct{}
	wg    sync.WaitGroup
}

func newTxSlot(index int, id string, written *atomic.Int64) *txSlot {
	return &txSlot{index: index, id: id, written: written}
}

// start makes the producer: sarama's InitProducerId gives the
// transactional id a new epoch, which aborts the id's open transaction if
// it has one and fences every older producer of the id. It then reads the
// producer id and epoch back from the coordinator. The client is made
// first and closed on failure (sarama leaks it otherwise).
func (s *txSlot) start(brokers []string, conf *sarama.Config, admin sarama.Client) error {
	client, err := sarama.NewClient(brokers, conf)
	if err != nil {
		return fmt.Errorf("connect to %v: %w", brokers, err)
	}
	p, err := sarama.NewAsyncProducerFromClient(client)
	if err != nil {
		_ = client.Close()
		return err
	}
	st, err := describeTransaction(admin, s.id)
	if err != nil {
		_ = p.Close()
		_ = client.Close()
		return fmt.Errorf("read the producer id back: %w", err)
	}
	s.client, s.p = client, p
	s.pid, s.epoch = st.ProducerID, st.ProducerEpoch
	s.begun, s.wrote, s.checkpoint, s.stale = false, false, 0, false
	s.inflight.Store(0)
	s.progress = make(chan struct{}, 1)
	s.queue, s.err = nil, nil
	s.wake, s.stop = make(chan struct{}, 1), make(chan struct{})
	s.wg.Go(s.feed)
	s.wg.Go(s.collect)
	return nil
}

// running reports whether the slot has a producer.
func (s *txSlot) running() bool { return s.p != nil }

// begin opens a transaction on the slot (a local state change in sarama:
// the broker hears of it with the first record's AddPartitionsToTxn).
func (s *txSlot) begin() error {
	if err := s.p.BeginTxn(); err != nil {
		s.stale = true
		return fmt.Errorf("begin a transaction on %q: %w", s.id, err)
	}
	s.mu.Lock()
	s.err = nil
	s.mu.Unlock()
	s.begun, s.wrote = true, false
	return nil
}

// write queues m for the open transaction; it never blocks.
func (s *txSlot) write(m *sarama.ProducerMessage) {
	s.inflight.Add(1)
	s.wrote = true
	s.mu.Lock()
	s.queue = append(s.queue, m)
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// produceErr is the first produce error of the open transaction.
func (s *txSlot) produceErr() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// flush waits until the broker answered every record written, at most
// timeout, and returns the first produce error.
func (s *txSlot) flush(timeout time.Duration) error {
	t := time.NewTimer(timeout)
	defer t.Stop()
	for s.inflight.Load() > 0 {
		select {
		case <-s.progress:
		case <-t.C:
			return fmt.Errorf("%d records of the transaction on %q not acknowledged by the broker within FlushTimeout %v", s.inflight.Load(), s.id, timeout)
		}
	}
	if err := s.produceErr(); err != nil {
		return fmt.Errorf("a record of the transaction on %q failed, so the transaction can never commit: %w", s.id, err)
	}
	return nil
}

// close stops the goroutines, closes the producer without ending its
// transaction (a pending one stays pending: only a commit or a fence may
// decide it) and the client. Safe when not started.
func (s *txSlot) close() {
	if s.p == nil {
		return
	}
	s.mu.Lock()
	s.queue = nil
	s.mu.Unlock()
	close(s.stop)
	s.wg.Wait()
	_ = s.client.Close()
	s.client, s.p = nil, nil
	s.begun = false
}

func (s *txSlot) feed() {
	defer s.p.AsyncClose() // the collector ends when the producer's channels close
	var batch []*sarama.ProducerMessage
	for {
		select {
		case <-s.wake:
		case <-s.stop:
			return
		}
		s.mu.Lock()
		batch, s.queue = s.queue, batch[:0]
		s.mu.Unlock()
		for i, m := range batch {
			select {
			case s.p.Input() <- m:
			case <-s.stop:
				return
			}
			batch[i] = nil
		}
	}
}

func (s *txSlot) collect() {
	succ, errs := s.p.Successes(), s.p.Errors()
	for succ != nil || errs != nil {
		select {
		case _, ok := <-succ:
			if !ok {
				succ = nil
				continue
			}
			s.written.Add(1)
		case e, ok := <-errs:
			if !ok {
				errs = nil
				continue
			}
			s.mu.Lock()
			if s.err == nil {
				s.err = e.Err
				if e.Msg != nil {
					s.err = fmt.Errorf("write to %q: %w", e.Msg.Topic, e.Err)
				}
			}
			s.mu.Unlock()
		}
		s.inflight.Add(-1)
		select {
		case s.progress <- struct{}{}:
		default:
		}
	}
}

// describeTransaction asks the coordinator of id for its transaction.
func describeTransaction(admin sarama.Client, id string) (sarama.TransactionState, error) {
	var last error
	for attempt := range coordinatorRetries {
		if attempt > 0 {
			time.Sleep(time.Duration(attempt) * 100 * time.Millisecond)
			_ = admin.RefreshTransactionCoordinator(id)
		}
		b, err := admin.TransactionCoordinator(id)
		if err != nil {
			last = err
			continue
		}
		resp, err := b.DescribeTransactions(&sarama.DescribeTransactionsRequest{TransactionalIDs: []string{id}})
		if err != nil {
			last = err
			continue
		}
		if len(resp.TransactionStates) != 1 {
			return sarama.TransactionState{}, fmt.Errorf("describe transaction %q: %d answers", id, len(resp.TransactionStates))
		}
		st := resp.TransactionStates[0]
		switch st.ErrorCode {
		case sarama.ErrNoError:
			return st, nil
		case sarama.ErrNotCoordinatorForConsumer, sarama.ErrConsumerCoordinatorNotAvailable, sarama.ErrOffsetsLoadInProgress:
			last = st.ErrorCode
			continue
		}
		return st, fmt.Errorf("describe transaction %q: %w", id, st.ErrorCode)
	}
	return sarama.TransactionState{}, fmt.Errorf("describe transaction %q: %w", id, last)
}

// errNotStarted: a slot used before Recover made its producer.
var errNotStarted = errors.New("the transactional producers are not started: Recover runs before the first tuple (is the topology's squall.guarantee exactly-once?)")
