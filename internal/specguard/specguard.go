package specguard

import (
	"errors"
	"fmt"
	"unicode/utf8"

	"google.golang.org/protobuf/proto"

	"github.com/squall-streams/squall/messages"
)

// Limits.
const (
	// MaxSpecBytes bounds one encoded spec: config values travel by
	// gossip; big things go in resources.
	MaxSpecBytes = 1 << 20
	// MaxStateBytes bounds the encoded state of all specs, tombstones
	// included, below memberlist's 20 MiB push/pull limit.
	MaxStateBytes = 16 << 20
	// MaxVersion is the highest version a spec may carry. Versions grow by
	// one per change, so no honest cluster gets near it; a spec above it
	// is refused, and at it NextVersion refuses rather than wrapping to 0.
	MaxVersion = 1 << 62
)

// ErrSpec is wrapped by every error here.
var ErrSpec = errors.New("topology spec")

// CheckSubmit refuses a spec too big to gossip, with an error that says
// so and what to do.
func CheckSubmit(s *messages.TopologySpec) error {
	if n := proto.Size(s); n > MaxSpecBytes {
		return fmt.Errorf("%w: topology %q is %d bytes with its config, over the limit of %d (1 MiB) that every node gossips: ship big values as resources, not config", ErrSpec, s.GetName(), n, MaxSpecBytes)
	}
	return nil
}

// CheckRemote checks a spec that came from gossip before it is merged:
// the bounds of CheckSubmit, a name and a kind, a version in [1,
// MaxVersion], running-task counts that are positive, routing counts
// within them, and times that are not negative.
func CheckRemote(s *messages.TopologySpec) error {
	if s == nil {
		return fmt.Errorf("%w: nil", ErrSpec)
	}
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w %q: "+format, append([]any{ErrSpec, s.Name}, args...)...)
	}
	switch {
	case s.Name == "" || !utf8.ValidString(s.Name):
		return bad("empty or not UTF-8 name")
	case s.Kind == "":
		return bad("no kind")
	case s.Version == 0 || s.Version > MaxVersion:
		return bad("version %d: want 1 to %d", s.Version, uint64(MaxVersion))
	case s.SubmittedUnixMs < 0 || s.RebalancedUnixMs < 0:
		return bad("negative time")
	}
	for c, p := range s.Parallelism {
		if p < 1 {
			return bad("component %q: parallelism %d, want at least 1", c, p)
		}
	}
	for c, r := range s.Routing {
		if p, ok := s.Parallelism[c]; r < 0 || ok && r > p {
			return bad("component %q: routing to %d of %d tasks", c, r, s.Parallelism[c])
		}
	}
	return CheckSubmit(s)
}

// CheckState refuses a set of specs whose encoded state would exceed
// MaxStateBytes (a submit that would push it over is refused).
func CheckState(specs []*messages.TopologySpec) error {
	if n := proto.Size(&messages.ClusterState{Topologies: specs}); n > MaxStateBytes {
		return fmt.Errorf("%w: the cluster's state would be %d bytes, over the limit of %d (16 MiB): kill topologies or make their configs smaller", ErrSpec, n, MaxStateBytes)
	}
	return nil
}

// NextVersion is the version after clock, or an error once clock has
// reached MaxVersion (it never wraps).
func NextVersion(clock uint64) (uint64, error) {
	if clock >= MaxVersion {
		return 0, fmt.Errorf("%w: version %d reached the limit %d", ErrSpec, clock, uint64(MaxVersion))
	}
	return clock + 1, nil
}
