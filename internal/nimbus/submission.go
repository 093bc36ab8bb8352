package nimbus

import (
	"encoding/json"
	"fmt"

	"github.com/squall-streams/squall/internal/nimbus/storm"
)

// Submission is a topology submitted through the Nimbus API, ready for the
// node: a Flux topology like `node submit FILE.yaml --resources DIR` makes,
// so the node submits it with
//
//	node.SubmitWithResources(s.Name, s.Kind, s.Conf, s.Resources)
//
// and then deactivates it when s.Inactive.
type Submission struct {
	Name string
	// Kind is FluxKind.
	Kind string
	// Conf holds the Flux definition under ConfFluxYAML; the topology's
	// configuration (jsonConf) is in the definition's config.
	Conf map[string]string
	// Resources is the gzipped tar of the jar's resources/ (Resources).
	Resources []byte
	// Inactive is SubmitOptions.initial_status INACTIVE (sparse submit -i).
	Inactive bool
	// JSONConf and Topology are what the client sent, for getTopologyConf
	// and getUserTopology.
	JSONConf string
	Topology *storm.StormTopology
}

// NewSubmission checks and converts what submitTopologyWithOpts received:
// the topology's name, its jsonConf, the StormTopology and the uploaded
// jar. Every error wraps ErrInvalidTopology.
func NewSubmission(name, jsonConf string, t *storm.StormTopology, jar []byte, opts *storm.SubmitOptions) (*Submission, error) {
	conf := map[string]any{}
	if jsonConf != "" {
		if err := json.Unmarshal([]byte(jsonConf), &conf); err != nil {
			return nil, fmt.Errorf("%w: jsonConf is not a JSON object: %v", ErrInvalidTopology, err)
		}
	}
	doc, err := convert(name, conf, t)
	if err != nil {
		return nil, err
	}
	tgz, files, err := Resources(jar)
	if err != nil {
		return nil, err
	}
	if err := checkModules(doc, files); err != nil {
		return nil, err
	}
	def, err := doc.marshal()
	if err != nil {
		return nil, err
	}
	return &Submission{
		Name:      name,
		Kind:      FluxKind,
		Conf:      map[string]string{ConfFluxYAML: string(def)},
		Resources: tgz,
		Inactive:  opts != nil && opts.InitialStatus == storm.TopologyInitialStatus_INACTIVE,
		JSONConf:  jsonConf,
		Topology:  t,
	}, nil
}
