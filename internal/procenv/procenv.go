package procenv

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// Prefix starts the name of every variable the node reads (SQUALL_HTTP,
// SQUALL_ADMIN_TOKEN, …).
const Prefix = "SQUALL_"

// Named secrets the node reads. Secret also catches any other SQUALL_
// variable whose name says it holds one.
var named = []string{"SQUALL_ADMIN_TOKEN", "SQUALL_GOSSIP_KEY"}

// secretWords in a SQUALL_ name mark it as a secret.
var secretWords = []string{"TOKEN", "KEY", "SECRET", "PASSWORD", "PASSWD", "CREDENTIAL", "PRIVATE", "CERTS"}

// ErrEnvironment is wrapped by For's errors: a bad topology.environment.
var ErrEnvironment = errors.New("topology.environment")

// Secret reports whether the variable name holds a node secret that no
// subprocess may see: SQUALL_ADMIN_TOKEN, SQUALL_GOSSIP_KEY, and every
// SQUALL_ name containing TOKEN, KEY, SECRET, PASSWORD, PASSWD,
// CREDENTIAL, PRIVATE or CERTS (the certs dir holds the node's key).
// Case does not matter.
func Secret(name string) bool {
	up := strings.ToUpper(name)
	if !strings.HasPrefix(up, Prefix) {
		return false
	}
	if slices.Contains(named, up) {
		return true
	}
	for _, w := range secretWords {
		if strings.Contains(up[len(Prefix):], w) {
			return true
		}
	}
	return false
}

// For is the environment of a component subprocess: environ ("NAME=value"
// entries, as os.Environ gives them) without secrets, entries without
// '=' or with an empty name, and duplicates (the last one wins, as for
// exec), in environ's order; then extra, the topology's environment,
// sorted by name, replacing an inherited variable of the same name.
// extra may not set a secret nor use a name with '=' or NUL, nor a value
// with NUL (ErrEnvironment): the subprocess would not start, or would get
// the node's credentials.
func For(environ []string, extra map[string]string) ([]string, error) {
	for _, k := range slices.Sorted(maps.Keys(extra)) {
		v := extra[k]
		switch {
		case k == "" || strings.ContainsAny(k, "=\x00"):
			return nil, fmt.Errorf("%w: variable name %q: want a name without '=' or NUL", ErrEnvironment, k)
		case strings.ContainsRune(v, 0):
			return nil, fmt.Errorf("%w: %s: the value contains NUL", ErrEnvironment, k)
		case Secret(k):
			return nil, fmt.Errorf("%w: %s is a squall secret and is never passed to components", ErrEnvironment, k)
		}
	}
	last := map[string]int{} // name -> index in environ of its last entry
	for i, kv := range environ {
		if k, _, ok := strings.Cut(kv, "="); ok && k != "" {
			last[k] = i
		}
	}
	out := make([]string, 0, len(last)+len(extra))
	for i, kv := range environ {
		k, _, ok := strings.Cut(kv, "=")
		if !ok || k == "" || last[k] != i || Secret(k) {
			continue
		}
		if _, replaced := extra[k]; replaced {
			continue
		}
		out = append(out, kv)
	}
	for _, k := range slices.Sorted(maps.Keys(extra)) {
		out = append(out, k+"="+extra[k])
	}
	return out, nil
}
