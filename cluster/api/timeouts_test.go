package api_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/squall-streams/squall/cluster/api"
	"github.com/squall-streams/squall/internal/httpauth"
)

// slow is a backend whose kill and rebalance take hold (a drain of trees
// in flight, nodes applying a placement) and note whether their context
// was cancelled before that.
type slow struct {
	*fake
	hold time.Duration

	mu  sync.Mutex
	err []error
}

func (s *slow) wait(ctx context.Context) {
	t := time.NewTimer(s.hold)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
	s.mu.Lock()
	s.err = append(s.err, ctx.Err())
	s.mu.Unlock()
}

func (s *slow) Kill(ctx context.Context, name string, wait time.Duration) error {
	s.wait(ctx)
	return s.fake.Kill(ctx, name, wait)
}

func (s *slow) Rebalance(ctx context.Context, name string, par map[string]int, wait time.Duration) (any, error) {
	s.wait(ctx)
	return s.fake.Rebalance(ctx, name, par, wait)
}

// serveWith serves h with httpauth.LocalTimeouts, as a node configured
// with them does, on 127.0.0.1; it returns the base URL.
func serveWith(t *testing.T, h http.Handler) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := httpauth.LocalTimeouts().Server(h)
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	t.Cleanup(func() {
		_ = srv.Close()
		if err := <-done; !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("Serve: %v", err)
		}
	})
	return "http://" + ln.Addr().String()
}

// TestWaitingRoutesOutliveTheServerTimeouts: kill and rebalance with a
// wait answer after the server's write and read timeouts (they move their
// own deadlines by the wait), and their wait is not cut short by the read
// deadline cancelling the request's context.
func TestWaitingRoutesOutliveTheServerTimeouts(t *testing.T) {
	lt := httpauth.LocalTimeouts()
	b := &slow{fake: newFake(t), hold: 2 * max(lt.Write, lt.Read)}
	h, err := api.Handler(b, api.Config{Auth: httpauth.Config{Open: true}})
	if err != nil {
		t.Fatal(err)
	}
	base := serveWith(t, h)
	for _, tc := range []struct{ path, body, call string }{
		{"/kill/5", "", "kill ids 5s"},
		{"/rebalance/5", `{"rebalanceOptions":{"executors":{"sink":1}}}`, "rebalance ids map[sink:1] 5s"},
	} {
		resp, err := http.Post(base+"/api/v1/topology/ids"+tc.path, "application/json", strings.NewReader(tc.body))
		if err != nil {
			t.Fatalf("POST %s: %v (the server cut the answer at its write timeout)", tc.path, err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"status":"success"`) {
			t.Errorf("POST %s: %d %q %v", tc.path, resp.StatusCode, body, err)
		}
		if calls := strings.Join(b.takeCalls(), ";"); calls != tc.call {
			t.Errorf("POST %s: backend got %q, want %q", tc.path, calls, tc.call)
		}
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	for i, err := range b.err {
		if err != nil {
			t.Errorf("wait %d was cut short: %v", i, err)
		}
	}
}

// TestPostRoutesBoundTheirBodies: Storm's POST routes read at most 1 MiB
// of body; a kill with more is refused (413, by the Guard's bound) before
// the backend hears of it.
func TestPostRoutesBoundTheirBodies(t *testing.T) {
	f := newFake(t)
	call := serve(t, f, api.Config{})
	big := strings.Repeat("x", 1<<20+1)
	for _, path := range []string{"/kill/5", "/rebalance/5"} {
		var got obj
		if resp := call("POST", "/api/v1/topology/ids"+path, "", big, &got); resp.StatusCode != http.StatusRequestEntityTooLarge {
			t.Errorf("POST %s with a body over 1 MiB: %s %v, want 413", path, resp.Status, got)
		}
	}
	if calls := f.takeCalls(); len(calls) != 0 {
		t.Errorf("backend got %v", calls)
	}
}
