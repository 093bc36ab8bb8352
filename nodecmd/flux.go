package nodecmd

import (
	"maps"
	"path/filepath"
	"strings"

	"github.com/squall-streams/squall/flux"
	"github.com/squall-streams/squall/kafka"
	"github.com/squall-streams/squall/topology"
)

// isTopologyFile reports whether run's argument names a YAML topology file
// rather than a registered topology.
func isTopologyFile(name string) bool {
	lower := strings.ToLower(name)
	return strings.HasSuffix(lower, ".yaml") || strings.HasSuffix(lower, ".yml")
}

// fluxRegistry holds the Go components YAML topologies may name by
// className, over flux.StormRegistry's Storm test components: the Kafka
// spout and bolt, under storm-kafka-client's class names and short ones.
// They read the kafka.* keys from the topology's config, overridden by the
// component's own (config: / addComponentConfig) and by Flux properties.
func fluxRegistry() flux.Registry {
	spout := func(c *flux.Component, conf topology.Config) (func() topology.Spout, error) {
		cfg, err := kafka.SpoutConfigFrom(componentConf(c, conf))
		if err != nil {
			return nil, err
		}
		return kafka.NewSpout(cfg)
	}
	bolt := func(c *flux.Component, conf topology.Config) (func() topology.Bolt, error) {
		return kafka.NewBolt(kafka.BoltConfigFrom(componentConf(c, conf)))
	}
	return flux.Registry{
		Spouts: map[string]flux.SpoutFactory{"org.apache.storm.kafka.spout.KafkaSpout": spout, "kafka-spout": spout},
		Bolts:  map[string]flux.BoltFactory{"org.apache.storm.kafka.bolt.KafkaBolt": bolt, "kafka-bolt": bolt},
	}
}

func componentConf(c *flux.Component, conf topology.Config) topology.Config {
	out := topology.Config{}
	maps.Copy(out, conf)
	maps.Copy(out, c.Conf)
	maps.Copy(out, c.Properties)
	return out
}

// buildFluxJob loads a Flux-shaped topology file; --set entries override
// its config and --resources (default: the file's directory) is where its
// shell components run.
func buildFluxJob(path string, conf topology.Config, resources string) (*Job, error) {
	opts := []flux.Option{flux.WithRegistry(fluxRegistry()), flux.WithConfig(conf)}
	if resources != "" {
		if abs, err := filepath.Abs(resources); err == nil {
			resources = abs
		}
		opts = append(opts, flux.WithResourcesDir(resources))
	}
	t, err := flux.LoadFile(path, opts...)
	if err != nil {
		return nil, err
	}
	return &Job{Topology: t}, nil
}
