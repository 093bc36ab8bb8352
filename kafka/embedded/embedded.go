package embedded

import (
	"errors"
	"fmt"
	"sync"

	"github.com/twmb/franz-go/pkg/kfake"
)

// Broker is a running in-memory broker.
type Broker struct {
	c    *kfake.Cluster
	addr string
	once sync.Once
}

// Option configures Start.
type Option func(*options)

type options struct {
	port       int
	partitions int
	topics     []topic
}

type topic struct {
	name       string
	partitions int32
}

// Port makes the broker listen on 127.0.0.1:port (default: a free port).
func Port(port int) Option { return func(o *options) { o.port = port } }

// DefaultPartitions is the partition count of topics created on first use
// (by a producer or consumer naming them). Default 4.
func DefaultPartitions(n int) Option { return func(o *options) { o.partitions = n } }

// Topics creates topics with the given number of partitions at start.
func Topics(partitions int32, names ...string) Option {
	return func(o *options) {
		for _, n := range names {
			o.topics = append(o.topics, topic{n, partitions})
		}
	}
}

// ErrInvalid is wrapped by errors about bad options.
var ErrInvalid = errors.New("embedded: invalid option")

// Start starts a broker. Topics named by no option are created on first use.
func Start(opts ...Option) (*Broker, error) {
	o := options{partitions: 4}
	for _, opt := range opts {
		opt(&o)
	}
	if o.partitions < 1 {
		return nil, fmt.Errorf("%w: DefaultPartitions %d; use 1 or more", ErrInvalid, o.partitions)
	}
	if o.port < 0 || o.port > 65535 {
		return nil, fmt.Errorf("%w: Port %d; use 0 (any) to 65535", ErrInvalid, o.port)
	}
	for _, t := range o.topics {
		if t.name == "" || t.partitions < 1 {
			return nil, fmt.Errorf("%w: topic %q with %d partitions", ErrInvalid, t.name, t.partitions)
		}
	}
	kopts := []kfake.Opt{
		kfake.NumBrokers(1),
		kfake.AllowAutoTopicCreation(),
		kfake.DefaultNumPartitions(o.partitions),
		kfake.ClusterID("squall-embedded"),
	}
	if o.port != 0 {
		kopts = append(kopts, kfake.Ports(o.port))
	}
	c, err := kfake.NewCluster(kopts...)
	if err != nil {
		return nil, fmt.Errorf("embedded: start broker: %w", err)
	}
	b := &Broker{c: c, addr: c.ListenAddrs()[0]}
	for _, t := range o.topics {
		if err := b.CreateTopic(t.name, t.partitions); err != nil {
			b.Close()
			return nil, err
		}
	}
	return b, nil
}

// Addr is the bootstrap address, 127.0.0.1:PORT.
func (b *Broker) Addr() string { return b.addr }

// Brokers is Addr as a bootstrap list.
func (b *Broker) Brokers() []string { return []string{b.addr} }

// CreateTopic creates a topic with the given number of partitions.
func (b *Broker) CreateTopic(name string, partitions int32) error {
	if err := b.c.CreateTopic(name, partitions, nil); err != nil {
		return fmt.Errorf("embedded: create topic %q: %w", name, err)
	}
	return nil
}

// Close stops the broker and drops everything it stored. Safe twice.
func (b *Broker) Close() { b.once.Do(b.c.Close) }
