package nodecmd_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/squall-streams/squall/internal/poll"
)

// TestNodeDataDirIsPrivateAndTemporaryUnlessGiven: `node` without
// --data-dir keeps a temporary data dir, 0700, and removes it on exit (it
// was left under /tmp after every exit); with --data-dir, the directory
// is made 0700 and stays.
func TestNodeDataDirIsPrivateAndTemporaryUnlessGiven(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	given := filepath.Join(t.TempDir(), "data")
	for _, tc := range []struct {
		name, node string
		args       []string
		dir        func() []string // the node's data dir, once it is up
		stay       bool
	}{
		{"default", "dd1", nil, func() []string { m, _ := filepath.Glob(filepath.Join(tmp, "squall-dd1-*")); return m }, false},
		{"given", "dd2", []string{"--data-dir", given}, func() []string { return []string{given} }, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			name := tc.node
			var stderr syncBuffer
			done := make(chan int, 1)
			go func() {
				args := append([]string{"--name", name, "--bind", "127.0.0.1:0", "--http", "127.0.0.1:0", "--insecure"}, tc.args...)
				done <- run(ctx, args, &syncBuffer{}, &stderr)
			}()
			poll.Until(t, 30*time.Second, "the node up", func() bool { return strings.Contains(stderr.String(), "node "+name+": gossip") })
			dirs := tc.dir()
			if len(dirs) != 1 {
				t.Fatalf("data dirs %v, want one", dirs)
			}
			st, err := os.Stat(dirs[0])
			if err != nil || st.Mode().Perm() != 0o700 {
				t.Fatalf("data dir %s: %v %v, want 0700", dirs[0], st.Mode(), err)
			}
			cancel()
			if code := <-done; code != 0 {
				t.Fatalf("exit %d: %s", code, stderr.String())
			}
			_, err = os.Stat(dirs[0])
			if tc.stay && err != nil {
				t.Errorf("--data-dir %s is gone after exit: %v", dirs[0], err)
			}
			if !tc.stay && !os.IsNotExist(err) {
				t.Errorf("the temporary data dir %s is still there after exit (%v)", dirs[0], err)
			}
		})
	}
}
