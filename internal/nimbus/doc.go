// Package nimbus serves the subset of Apache Storm's Nimbus Thrift API that
// streamparse 5.0.1's `sparse submit`, `list` and `kill` use, so a
// streamparse project submits to squall unchanged.
//
// # Where it sits
//
// It is a front door beside the node's HTTP API: it decodes Thrift calls
// (package storm: framed transport, binary protocol), keeps jar uploads,
// turns a submitted StormTopology into a Flux definition (Convert) and the
// jar's resources/ into the resources tarball (Resources), and hands the
// result, a Submission, to a Backend — the node — which submits it like
// `node submit FILE.yaml --resources DIR` does. Nothing here runs tuples.
//
// # Wiring a node
//
// A node serves it when started with `node --nimbus HOST:PORT`
// (cluster.Config.Nimbus, loopback only): cluster/nimbus.go starts the
// server with the upload directory under the node's data directory and
// implements Backend on the node, and the node stops both when it shuts
// down. In short:
//
//	cfg := nimbus.DefaultConfig()   // 127.0.0.1:6627
//	cfg.Addr = flagNimbus           // refused off loopback
//	cfg.UploadDir = filepath.Join(dataDir, "nimbus-inbox")
//	cfg.Logger = logger
//	srv, err := nimbus.Start(cfg, backend) // backend implements nimbus.Backend on the node
//	...
//	defer srv.Stop(ctx)
//
// Backend.Submit gets a *Submission whose Kind is FluxKind and whose Conf
// holds the definition under ConfFluxYAML: the node's flux factory builds
// it. The jar's resources/ are s.Resources, a gzipped tar in the node's
// resources format:
//
//	err := node.SubmitWithResources(s.Name, s.Kind, s.Conf, s.Resources)
//	if err == nil && s.Inactive { err = node.Deactivate(s.Name) }
//
// Backends wrap ErrAlreadyAlive, ErrNotAlive and ErrInvalidTopology for
// what the client should see as Storm's declared exceptions.
//
// # What a submit goes through
//
//   - the name (Storm's regex), then alive (AlreadyAliveException
//     "<name> is already alive"), as Storm checks them;
//   - the jar: a finished upload (not -R), a zip with resources/, no
//     zip-slip, symlinks or special files, at most MaxResourcesBytes, and
//     none of lein's storm-core/Clojure dependencies (set `:dependencies []`
//     in project.clj);
//   - jsonConf, a JSON object: the definition's config;
//   - the structure, as Storm's validateStructure: ids, inputs naming
//     declared streams and fields, parallelism hints;
//   - squall's rules: shell components run [execution_command, script] in
//     the resources directory, one multilang serializer per topology (the
//     "-s json|msgpack" streamparse prefixes), no JVM classes but
//     storm-kafka-client's KafkaSpout and KafkaBolt (squall's, configured by
//     the component's config), no custom groupings but Storm's
//     PartialKeyGrouping, and every streamparse_run class's module present
//     in the resources.
//
// Every rejection is an InvalidTopologyException whose message names the
// component and says what to do.
//
// # Limits
//
// Frames are bounded (Config.MaxFrameSize), a connection lives
// Config.IdleTimeout per call, at most Config.MaxConns are open, an upload
// is at most Config.MaxJarBytes and is removed Config.UploadTTL after its
// last call (sparse uploads before it checks the name, so abandoned jars
// are common). There is no authentication: streamparse has none to offer,
// which is why the listener is loopback-only by default.
package nimbus
