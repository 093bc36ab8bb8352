package nodecmd

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/squall-streams/squall/topology"
)

// ErrUnknownKey is the error of a configuration key a registered topology
// does not read (a misspelt --set): the message names the keys it reads.
var ErrUnknownKey = errors.New("unknown config key")

// openPrefixes are the keys every topology takes: Storm's own topology.*
// (the runtime reads them; Storm tools set more than squall honours) and
// squall's squall.* (the runtime's and the node's own, such as the
// resources directory a node adds).
var openPrefixes = []string{"topology.", "squall."}

// checkKeys returns an ErrUnknownKey error naming the keys of conf that are
// neither in known nor Storm's or squall's (openPrefixes), with the keys
// topology name reads. known nil means that the topology did not declare
// its keys: nothing is checked.
func checkKeys(name string, known []string, conf topology.Config) error {
	if known == nil {
		return nil
	}
	var unknown []string
	for _, k := range slices.Sorted(maps.Keys(conf)) {
		if slices.Contains(known, k) || slices.ContainsFunc(openPrefixes, func(p string) bool { return strings.HasPrefix(k, p) }) {
			continue
		}
		u := fmt.Sprintf("%q", k)
		if near := nearest(k, known); near != "" {
			u += fmt.Sprintf(" (did you mean %s?)", near)
		}
		unknown = append(unknown, u)
	}
	if len(unknown) == 0 {
		return nil
	}
	keys := slices.Sorted(slices.Values(known))
	return fmt.Errorf("%w: %s: %s: it reads %s, and Storm's topology.* and squall's squall.* keys",
		ErrUnknownKey, name, strings.Join(unknown, ", "), strings.Join(keys, ", "))
}

// nearest is the key of known closest to k, when a typo away (an edit
// distance of at most 2); "" otherwise.
func nearest(k string, known []string) string {
	best, bestD := "", 3
	for _, c := range known {
		if d := editDistance(k, c); d < bestD {
			best, bestD = c, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance of a and b, in bytes.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			sub := prev[j-1]
			if a[i-1] != b[j-1] {
				sub++
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, sub)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// build checks conf's keys against t.Keys, then builds t: what `node run`
// and a cluster node's factory (Registry.Factories) call, so a submit from
// any client — node submit, the REST API, a script — is checked where the
// registry is known.
func (t Topology) build(name string, conf topology.Config, env Env) (*Job, error) {
	if err := checkKeys(name, t.Keys, conf); err != nil {
		return nil, err
	}
	return t.Build(conf, env)
}
