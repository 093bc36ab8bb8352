package main

import (
	"path/filepath"
	"strings"

	"github.com/squall-streams/squall/flux"
	"github.com/squall-streams/squall/topology"
)

// isTopologyFile reports whether run's argument names a YAML topology file
// rather than a registered topology.
func isTopologyFile(name string) bool {
	lower := strings.ToLower(name)
	return strings.HasSuffix(lower, ".yaml") || strings.HasSuffix(lower, ".yml")
}

// fluxRegistry holds the Go components YAML topologies may name by
// className, over flux.StormRegistry's Storm test components. Built-in
// components (the Kafka spout and bolt) register here.
func fluxRegistry() flux.Registry {
	return flux.Registry{}
}

// buildFluxJob loads a Flux-shaped topology file; --set entries override
// its config and --resources (default: the file's directory) is where its
// shell components run.
func buildFluxJob(path string, conf topology.Config, resources string) (*job, error) {
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
	return &job{topology: t}, nil
}
