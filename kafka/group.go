package kafka

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/IBM/sarama"
)

// delivery is records of one partition on their way from a claim goroutine
// to the task, in offset order, with the assignment generation they were
// read under.
type delivery struct {
	msgs []*sarama.ConsumerMessage
	gen  int32
}

// maxDeliveryBatch bounds the records of one delivery. A claim goroutine
// sends what sarama has buffered already, never waiting for more, so a
// batch adds no latency: it only spares the task and the claim goroutines
// a channel operation per record (the spout's CPU profile had them at
// ~10%, with four claims contending for the channel's lock).
const maxDeliveryBatch = 64

// deliveryBatch returns the records a delivery may carry and the capacity,
// in deliveries, of the channel to the task, so that no more than
// bufferSize records wait in it (SpoutConfig.BufferSize).
func deliveryBatch(bufferSize int) (batch, deliveries int) {
	batch = max(1, min(maxDeliveryBatch, bufferSize))
	return batch, max(1, bufferSize/batch)
}

// assignment is one generation of a task's partitions.
type assignment struct {
	gen        int32 // carried by MessageIDs and deliveries; grows by session
	kafkaGen   int32 // the group's generation id, which commits must carry
	member     string
	partitions []TopicPartition
}

// commitReq asks the committer goroutine to commit c for asg; done runs on
// the committer goroutine with the outcome.
type commitReq struct {
	asg  assignment
	c    Commit
	done func(error)
}

// groupShell is the goroutine side of a Kafka spout task: it owns the sarama
// client and consumer group, runs the group's sessions (sarama calls Setup,
// ConsumeClaim and Cleanup on its goroutines), commits offsets and ticks the
// commit period. It never touches the spout's state: everything that does
// runs on the task goroutine, through Context.Submit.
//
// Goroutines: run (the Consume loop, which sarama's claim goroutines hang
// off), errors (reads the group's errors), committer, ticker. stop ends them
// all and waits.
type groupShell struct {
	spout       *Spout
	submit      func(func()) bool
	brokers     []string
	topics      []string
	group       string
	topologyID  string
	strategy    FirstPollStrategy
	metadata    string
	conf        *sarama.Config
	period      time.Duration
	revokeDrain time.Duration
	report      func(error) // safe on any goroutine

	recs  chan delivery
	batch int // records per delivery at most
	// idle is set by the task when it found recs empty and cleared by the
	// claim goroutine whose delivery then wakes the task (Spout.wake).
	idle    atomic.Bool
	commits chan commitReq
	closing chan struct{}
	ctx     context.Context
	cancel  context.CancelFunc
	once    sync.Once
	wg      sync.WaitGroup

	mu     sync.Mutex
	client sarama.Client
	cg     sarama.ConsumerGroup
	owned  []TopicPartition // the current generation's partitions, for highWater

	// lastGen is touched by the Consume goroutine only (Setup runs there);
	// gen is the current session's generation, read by claim goroutines.
	lastGen int32
	gen     atomic.Int32
}

func (g *groupShell) start() {
	var deliveries int
	g.batch, deliveries = deliveryBatch(g.spout.cfg.BufferSize)
	g.recs = make(chan delivery, deliveries)
	g.commits = make(chan commitReq, 4)
	g.closing = make(chan struct{})
	g.ctx, g.cancel = context.WithCancel(context.Background())
	g.wg.Go(g.run)
	g.wg.Go(g.committer)
	g.wg.Go(g.ticker)
	g.wg.Go(g.lagPoller)
}

// stop ends every goroutine and waits for them; safe twice. Leaving the
// group first makes a Consume blocked in a join return at once.
func (g *groupShell) stop() {
	g.once.Do(func() {
		close(g.closing)
		g.cancel()
		g.mu.Lock()
		cg := g.cg
		g.mu.Unlock()
		if cg != nil {
			if err := cg.Close(); err != nil && !errors.Is(err, sarama.ErrClosedConsumerGroup) {
				g.report(fmt.Errorf("kafka spout: leave group %q: %w", g.group, err))
			}
		}
	})
	g.wg.Wait()
}

// onTask runs fn on the task goroutine and waits for it. It reports false
// when the spout is closing (the task may never run fn then).
func (g *groupShell) onTask(fn func()) bool {
	done := make(chan struct{})
	if !g.submit(func() { fn(); close(done) }) {
		return false
	}
	select {
	case <-done:
		return true
	case <-g.closing:
		return false
	}
}

func (g *groupShell) run() {
	defer g.closeClients()
	backoff := 100 * time.Millisecond
	for g.ctx.Err() == nil {
		cg, err := g.connect()
		if err == nil {
			err = cg.Consume(g.ctx, g.topics, g)
			if g.ctx.Err() != nil || errors.Is(err, sarama.ErrClosedConsumerGroup) {
				return
			}
		}
		if err == nil {
			backoff = 100 * time.Millisecond
			continue // an eager rebalance ended the session: join again
		}
		g.report(fmt.Errorf("kafka spout: group %q on %v: %w", g.group, g.topics, err))
		t := time.NewTimer(backoff)
		select {
		case <-t.C:
		case <-g.ctx.Done():
			t.Stop()
			return
		}
		backoff = min(2*backoff, 5*time.Second)
	}
}

// connect returns the consumer group, making the client and group first.
func (g *groupShell) connect() (sarama.ConsumerGroup, error) {
	g.mu.Lock()
	cg := g.cg
	g.mu.Unlock()
	if cg != nil {
		return cg, nil
	}
	client, err := sarama.NewClient(g.brokers, g.conf)
	if err != nil {
		return nil, fmt.Errorf("connect to %v: %w", g.brokers, err)
	}
	cg, err = sarama.NewConsumerGroupFromClient(g.group, client)
	if err != nil {
		_ = client.Close()
		return nil, err
	}
	g.mu.Lock()
	if g.ctx.Err() != nil { // stop ran meanwhile and saw no group
		g.mu.Unlock()
		_ = cg.Close()
		_ = client.Close()
		return nil, g.ctx.Err()
	}
	g.client, g.cg = client, cg
	g.mu.Unlock()
	g.wg.Go(func() {
		for err := range cg.Errors() {
			g.report(fmt.Errorf("kafka spout: group %q: %w", g.group, err))
		}
	})
	return cg, nil
}

func (g *groupShell) closeClients() {
	g.mu.Lock()
	cg, client := g.cg, g.client
	g.mu.Unlock()
	if cg != nil {
		_ = cg.Close()
	}
	if client != nil {
		_ = client.Close()
	}
}

func (g *groupShell) currentClient() sarama.Client {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.client
}

// pause and resume stop and restart fetching a partition; safe on the task
// goroutine (they only flip flags in sarama).
func (g *groupShell) pause(tp TopicPartition) {
	g.mu.Lock()
	cg := g.cg
	g.mu.Unlock()
	if cg != nil {
		cg.Pause(map[string][]int32{tp.Topic: {tp.Partition}})
	}
}

func (g *groupShell) resume(tps []TopicPartition) {
	g.mu.Lock()
	cg := g.cg
	g.mu.Unlock()
	if cg == nil || len(tps) == 0 {
		return
	}
	m := make(map[string][]int32)
	for _, tp := range tps {
		m[tp.Topic] = append(m[tp.Topic], tp.Partition)
	}
	cg.Resume(m)
}

// committer runs commits one at a time, in the order they were asked for,
// so a later position never loses to an earlier one.
func (g *groupShell) committer() {
	for {
		select {
		case r := <-g.commits:
			r.done(g.commit(r))
		case <-g.ctx.Done():
			return
		}
	}
}

func (g *groupShell) commit(r commitReq) error {
	client := g.currentClient()
	if client == nil {
		return errors.New("kafka spout: not connected")
	}
	return commitOffsets(client, g.group, r.asg.member, r.asg.kafkaGen, r.c.Positions, g.metadata)
}

// tryCommit queues r without blocking; it reports false when the queue is full.
func (g *groupShell) tryCommit(r commitReq) bool {
	select {
	case g.commits <- r:
		return true
	default:
		return false
	}
}

// commitSync commits r and waits for the outcome, up to timeout. For Close,
// on the task goroutine, before stop.
func (g *groupShell) commitSync(r commitReq, timeout time.Duration) error {
	done := make(chan error, 1)
	r.done = func(err error) { done <- err }
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case g.commits <- r:
	case <-t.C:
		return fmt.Errorf("kafka spout: commit queue full for %v", timeout)
	}
	select {
	case err := <-done:
		return err
	case <-t.C:
		return fmt.Errorf("kafka spout: commit did not finish within %v", timeout)
	}
}

// ticker asks the task to commit every period.
func (g *groupShell) ticker() {
	t := time.NewTicker(g.period)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			g.submit(g.spout.periodicCommit)
		case <-g.ctx.Done():
			return
		}
	}
}

// lagPoller reads the log end offset of every owned partition from the
// broker every period and hands them to the task, for the lag gauges. It
// has its own goroutine so a slow broker never delays a commit tick.
func (g *groupShell) lagPoller() {
	t := time.NewTicker(g.period)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			if hw := g.highWater(); len(hw) > 0 {
				g.submit(func() { g.spout.setHighWater(hw) })
			}
		case <-g.ctx.Done():
			return
		}
	}
}

// highWater reads the log end offsets of the owned partitions; a partition
// whose read fails is left out (the next period tries again).
func (g *groupShell) highWater() map[TopicPartition]int64 {
	g.mu.Lock()
	client, owned := g.client, g.owned
	g.mu.Unlock()
	if client == nil || len(owned) == 0 {
		return nil
	}
	hw := make(map[TopicPartition]int64, len(owned))
	for _, tp := range owned {
		if g.ctx.Err() != nil {
			return nil
		}
		if off, err := client.GetOffset(tp.Topic, tp.Partition, sarama.OffsetNewest); err == nil {
			hw[tp] = off
		}
	}
	return hw
}

// Setup implements sarama.ConsumerGroupHandler: a new generation. It reads
// the group's commits, applies the first-poll strategy (seeking where it
// must before the claims start), and hands the assignment to the task,
// waiting until the task took it so that no record of the generation can
// reach the task before its partitions are tracked.
func (g *groupShell) Setup(sess sarama.ConsumerGroupSession) error {
	gen := max(sess.GenerationID(), g.lastGen+1)
	g.lastGen = gen
	g.gen.Store(gen)
	client := g.currentClient()
	claims := sess.Claims()
	committed, err := fetchCommitted(client, g.group, claims)
	if err != nil {
		return err
	}
	positions := make(map[TopicPartition]int64)
	highWater := make(map[TopicPartition]int64)
	var parts []TopicPartition
	for topic, ps := range claims {
		for _, p := range ps {
			tp := TopicPartition{Topic: topic, Partition: p}
			parts = append(parts, tp)
			c, ok := committed[tp]
			if !ok {
				c.offset = -1
			}
			oldest, err := client.GetOffset(topic, p, sarama.OffsetOldest)
			if err != nil {
				return fmt.Errorf("log start of %v: %w", tp, err)
			}
			newest, err := client.GetOffset(topic, p, sarama.OffsetNewest)
			if err != nil {
				return fmt.Errorf("log end of %v: %w", tp, err)
			}
			highWater[tp] = newest
			start := decideStart(g.strategy, c.offset, c.metadata, g.topologyID)
			if start == startResume && (c.offset < oldest || c.offset > newest) {
				// The commit points outside the log: retention deleted what
				// it points at, or the topic was recreated.
				start = startEarliest
			}
			switch start {
			case startResume:
				positions[tp] = c.offset
			case startEarliest:
				g.seek(sess, tp, oldest)
				positions[tp] = oldest
			case startLatest:
				g.seek(sess, tp, newest)
				positions[tp] = newest
			}
		}
	}
	asg := assignment{gen: gen, kafkaGen: sess.GenerationID(), member: sess.MemberID(), partitions: parts}
	var assignErr error
	if !g.onTask(func() { assignErr = g.spout.assign(asg, positions, highWater) }) {
		return errClosing
	}
	if assignErr == nil {
		g.mu.Lock()
		g.owned = parts
		g.mu.Unlock()
	}
	return assignErr
}

// seek makes the claim of tp start at offset: sarama's partition offset
// manager only moves back with ResetOffset and forward with MarkOffset.
// Nothing marked is ever committed by sarama (auto-commit is off).
func (g *groupShell) seek(sess sarama.ConsumerGroupSession, tp TopicPartition, offset int64) {
	sess.ResetOffset(tp.Topic, tp.Partition, offset, g.metadata)
	sess.MarkOffset(tp.Topic, tp.Partition, offset, g.metadata)
}

// ConsumeClaim implements sarama.ConsumerGroupHandler: it moves the claim's
// records to the task, blocking while the task's buffer is full (sarama
// then stops fetching), until the claim is revoked or the spout closes.
// Records go in batches of what sarama has buffered (see maxDeliveryBatch).
func (g *groupShell) ConsumeClaim(sess sarama.ConsumerGroupSession, claim sarama.ConsumerGroupClaim) error {
	gen := g.gen.Load()
	done := sess.Context().Done()
	msgs := claim.Messages()
	for {
		var batch []*sarama.ConsumerMessage
		select {
		case m, ok := <-msgs:
			if !ok {
				return nil
			}
			batch = make([]*sarama.ConsumerMessage, 1, g.batch)
			batch[0] = m
		case <-done:
			return nil
		case <-g.closing:
			return nil
		}
		closed := fill(&batch, msgs)
		select {
		case g.recs <- delivery{msgs: batch, gen: gen}:
			if g.idle.Load() && g.idle.CompareAndSwap(true, false) {
				g.submit(g.spout.wake)
			}
		case <-done:
			return nil
		case <-g.closing:
			return nil
		}
		if closed {
			return nil
		}
	}
}

// fill appends to batch, up to its capacity, the records msgs has ready,
// without waiting; it reports whether msgs is closed.
func fill(batch *[]*sarama.ConsumerMessage, msgs <-chan *sarama.ConsumerMessage) (closed bool) {
	for len(*batch) < cap(*batch) {
		select {
		case m, ok := <-msgs:
			if !ok {
				return true
			}
			*batch = append(*batch, m)
		default:
			return false
		}
	}
	return false
}

// Cleanup implements sarama.ConsumerGroupHandler: the generation ends (every
// ConsumeClaim returned). The task stops emitting, waits up to
// RevokeDrainTimeout for its tuples in flight, stops tracking its
// partitions, and the acked prefix is committed now, while the generation is
// still valid: sarama would drop anything marked, and acks arriving later
// are dropped.
func (g *groupShell) Cleanup(sarama.ConsumerGroupSession) error {
	g.mu.Lock()
	g.owned = nil
	g.mu.Unlock()
	gen := g.gen.Load()
	var drained <-chan struct{}
	if !g.onTask(func() { drained = g.spout.startRevoke(gen) }) {
		return nil
	}
	if drained != nil {
		// Let the tuples in flight finish, so that the next owner does not
		// read them again.
		t := time.NewTimer(g.revokeDrain)
		select {
		case <-drained:
		case <-t.C:
		case <-g.closing:
			t.Stop()
			return nil
		}
		t.Stop()
	}
	var req *commitReq
	if !g.onTask(func() { req = g.spout.revoke(gen) }) || req == nil {
		return nil
	}
	done := make(chan error, 1)
	req.done = func(err error) { done <- err }
	select {
	case g.commits <- *req:
	case <-g.closing:
		return nil
	}
	select {
	case err := <-done:
		g.submit(func() { g.spout.revokeCommitted(err) })
	case <-g.closing:
	}
	return nil
}
