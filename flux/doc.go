// Package flux loads topologies from YAML files in the shape of Apache
// Storm's Flux, so a topology of shell (Python) components needs no Go:
//
//	t, err := flux.LoadFile("topology.yaml", flux.WithResourcesDir("py/"))
//	err = local.Run(ctx, t)
//
// `node run topology.yaml --resources DIR` does exactly that.
//
// # Where it sits
//
// It is a front end to topology.Builder: it reads the file, makes
// multilang.ShellSpout / ShellBolt factories for shell components and asks
// the caller's Registry for the others, and builds a *topology.Topology.
// Nothing here runs tuples.
//
// # The subset
//
//	name: wordcount                    # required
//	config:                            # the topology config: Storm's and squall's keys
//	  topology.max.spout.pending: 100
//	  topology.multilang.serializer: msgpack
//	spouts:
//	  - id: sentences                  # squall's shell form
//	    command: streamparse_run       # a string or a list (argv)
//	    script: "-s msgpack words.SentenceSpout"   # optional: ONE more argv entry, as Storm passes it
//	    fields: [sentence]             # the default stream's fields
//	    parallelism: 1
//	bolts:
//	  - id: split                      # Storm's Flux form, loaded unchanged
//	    className: org.apache.storm.flux.wrappers.bolts.FluxShellBolt
//	    constructorArgs:
//	      - [python3, splitsentence.py]   # the command line
//	      - [word]                        # output fields (optional)
//	    configMethods:                    # optional
//	      - name: setNamedStream          # also setDefaultStream, addComponentConfig
//	        args: [errors, [msg]]
//	    parallelism: 2
//	  - id: count
//	    className: com.example.Counter # a Registry entry (Go code)
//	    outputs:                       # squall: streams of any component
//	      default: [word, count]
//	      audit: {fields: [word], direct: true}
//	    config: {counter.flush: 10}    # squall: per-component config (shell: sent in the handshake)
//	streams:
//	  - name: "split --> count"        # not used, as in Flux
//	    from: split
//	    to: count
//	    grouping:
//	      type: FIELDS                 # SHUFFLE FIELDS ALL GLOBAL NONE DIRECT LOCAL_OR_SHUFFLE
//	      args: [word]                 #   PARTIAL_KEY (squall) CUSTOM (customClass:
//	      streamId: default            #   className, constructorArgs; PartialKeyGrouping built in)
//
// Components have id, className, parallelism, numTasks, constructorArgs,
// configMethods and properties as in Flux, plus squall's command, script,
// fields, outputs and config. A component with command is a shell
// component; one with className is a FluxShellSpout/FluxShellBolt, one of
// the Storm test components in StormRegistry (TestWordSpout,
// TestWordCounter, LogInfoBolt), or looked up in the caller's Registry.
// Grouping types are case-insensitive and "-" may stand for "_".
//
// Not supported (an error names them): Flux's includes, components (bean
// definitions and ref arguments), topologySource, workerHooks, property
// substitution (${...}), and Java classes that are not in the registry.
//
// # Errors
//
// Every problem in the file is reported, each as an *Error naming the line
// and the field ("line 12: bolts[1].grouping.type: unknown grouping
// \"FOO\""), all matching ErrInvalid.
package flux
