package kafka

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/IBM/sarama"
)

// writer feeds a sarama AsyncProducer for a task without ever blocking the
// task, and hands every result back to the task's goroutine. It is the I/O
// shell of the Kafka bolt and of a spout's dead-letter topic.
//
// Write queues the message (the queue is bounded in practice by the
// topology's max spout pending: every queued message is an unacked tuple);
// a feeder goroutine connects, then moves queued messages into the
// producer's input; a result goroutine collects confirmations and errors
// and submits each batch of them to the task, where the done callbacks run.
// Results that arrive after the task stopped are dropped: their tuples were
// never acked, so they replay.
type writer struct {
	brokers []string
	conf    *sarama.Config
	submit  func(func()) bool // Context.Submit: runs a function on the task goroutine
	report  func(error)       // called on the writer's goroutines

	// down is set while the producer cannot connect: writes fail at once
	// instead of piling up behind the outage (their tuples replay later).
	down atomic.Bool

	mu     sync.Mutex
	queue  []*sarama.ProducerMessage
	closed bool
	wake   chan struct{}
	stop   chan struct{}
	once   sync.Once
	wg     sync.WaitGroup
}

// writeResult is one producer result, delivered to its done callback.
type writeResult struct {
	done func(error)
	err  error
}

func newWriter(brokers []string, conf *sarama.Config, submit func(func()) bool, report func(error)) *writer {
	w := &writer{
		brokers: brokers, conf: conf, submit: submit, report: report,
		wake: make(chan struct{}, 1), stop: make(chan struct{}),
	}
	w.wg.Go(w.feed)
	return w
}

// errNoProducer fails writes while the producer cannot connect.
var errNoProducer = errors.New("kafka producer: not connected to the brokers")

// Write queues m. done runs on the task goroutine with nil once the broker
// confirmed the write, or with the error that made the producer give up —
// at once, from Write itself, while the producer cannot connect. Called on
// the task goroutine; it never blocks.
func (w *writer) Write(m *sarama.ProducerMessage, done func(error)) {
	if w.down.Load() {
		done(errNoProducer)
		return
	}
	m.Metadata = done
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return
	}
	w.queue = append(w.queue, m)
	w.mu.Unlock()
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// Close stops feeding, closes the producer (which flushes what it holds) and
// waits for every goroutine. Messages still queued are dropped. Safe twice.
func (w *writer) Close() {
	w.once.Do(func() {
		w.mu.Lock()
		w.closed = true
		w.queue = nil
		w.mu.Unlock()
		close(w.stop)
	})
	w.wg.Wait()
}

func (w *writer) feed() {
	client, p := w.connect()
	if p == nil {
		return
	}
	var results sync.WaitGroup
	results.Go(func() { w.collect(p) })
	defer func() {
		p.AsyncClose()
		results.Wait()
		_ = client.Close()
	}()
	var batch []*sarama.ProducerMessage
	for {
		select {
		case <-w.wake:
		case <-w.stop:
			return
		}
		w.mu.Lock()
		batch, w.queue = w.queue, batch[:0]
		w.mu.Unlock()
		for i, m := range batch {
			select {
			case p.Input() <- m:
			case <-w.stop:
				return
			}
			batch[i] = nil
		}
	}
}

// connect makes the client and producer, retrying with backoff until it
// works or the writer closes (then it returns nils). The client is made
// first and closed on failure: sarama.NewAsyncProducer leaks its client's
// goroutine when the producer cannot be made.
func (w *writer) connect() (sarama.Client, sarama.AsyncProducer) {
	backoff := 100 * time.Millisecond
	for {
		client, err := sarama.NewClient(w.brokers, w.conf)
		if err == nil {
			var p sarama.AsyncProducer
			if p, err = sarama.NewAsyncProducerFromClient(client); err == nil {
				w.down.Store(false)
				return client, p
			}
			_ = client.Close()
		}
		w.down.Store(true)
		err = fmt.Errorf("kafka producer: connect to %v: %w", w.brokers, err)
		w.report(err)
		// Fail what was queued while connecting; new writes fail in Write.
		w.mu.Lock()
		queued := w.queue
		w.queue = nil
		w.mu.Unlock()
		if len(queued) > 0 {
			w.submit(func() {
				for _, m := range queued {
					m.Metadata.(func(error))(err)
				}
			})
		}
		t := time.NewTimer(backoff)
		select {
		case <-t.C:
		case <-w.stop:
			t.Stop()
			return nil, nil
		}
		backoff = min(2*backoff, 5*time.Second)
	}
}

// collect reads the producer's results until it is closed, submitting them
// to the task in batches of what is ready.
func (w *writer) collect(p sarama.AsyncProducer) {
	succ, errs := p.Successes(), p.Errors()
	var buf []writeResult
	gotSucc := func(m *sarama.ProducerMessage, ok bool) {
		if !ok {
			succ = nil
			return
		}
		buf = append(buf, writeResult{done: m.Metadata.(func(error))})
	}
	gotErr := func(e *sarama.ProducerError, ok bool) {
		if !ok {
			errs = nil
			return
		}
		buf = append(buf, writeResult{done: e.Msg.Metadata.(func(error)), err: e.Err})
	}
	// take receives one result (or a channel's close); without block it
	// reports false when none is ready.
	take := func(block bool) bool {
		if block {
			select {
			case m, ok := <-succ:
				gotSucc(m, ok)
			case e, ok := <-errs:
				gotErr(e, ok)
			}
			return true
		}
		select {
		case m, ok := <-succ:
			gotSucc(m, ok)
		case e, ok := <-errs:
			gotErr(e, ok)
		default:
			return false
		}
		return true
	}
	for succ != nil || errs != nil {
		take(true)
		for len(buf) < 512 && (succ != nil || errs != nil) && take(false) {
		}
		if len(buf) == 0 {
			continue
		}
		batch := buf
		buf = nil
		w.submit(func() {
			for _, r := range batch {
				r.done(r.err)
			}
		})
	}
}
