package multilang

import (
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/squall-streams/squall/internal/linelimit"
)

// TestCommandLog: log and error commands reach the task's logger at their
// level, within the rate (on a fake clock), cut, with the drops counted;
// levels the logger does not log cost no budget.
func TestCommandLog(t *testing.T) {
	now := time.Unix(0, 0)
	logs := &logBuffer{}
	logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
	c, err := newCommandLog(logger, linelimit.Config{MaxLine: 16, LinesPerSecond: 1, Burst: 3, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	for range 100 {
		c.log(slog.LevelDebug, "invisible", 7) // not logged: no budget spent
	}
	c.log(slog.LevelWarn, "first", 7)
	c.error("a traceback that is too long", 7)
	c.log(slog.LevelInfo, "third", 7)
	for range 5 {
		c.log(slog.LevelInfo, "dropped", 7)
	}
	now = now.Add(time.Second) // one more line's worth
	c.log(slog.LevelInfo, "after a second", 7)
	c.log(slog.LevelInfo, "dropped", 7)
	c.close()

	out := logs.String()
	for _, want := range [][]string{
		{"level=WARN", "msg=first", "pid=7"},
		{"level=ERROR", `msg="shell subprocess reported an error"`, `err="a traceback that"`, "cut_bytes=12"},
		{"level=INFO", "msg=third"},
		{"level=WARN", `msg="log lines dropped"`, "dropped=5"},
		{"level=INFO", `msg="after a second"`},
		{"level=WARN", `msg="log lines dropped"`, "dropped=1"},
	} {
		if !logs.contains(want...) {
			t.Errorf("no log line with %q in\n%s", want, out)
		}
	}
	if strings.Contains(out, "invisible") || strings.Contains(out, "msg=dropped") {
		t.Errorf("a line that should not pass did:\n%s", out)
	}
	if n := strings.Count(out, "\n"); n != 6 {
		t.Errorf("%d lines logged, want 6:\n%s", n, out)
	}
	if got := c.cut(strings.Repeat("é", 10)); got != strings.Repeat("é", 8)+"… (4 bytes cut)" {
		t.Errorf("cut: %q", got)
	}
	if got := c.cut("short"); got != "short" {
		t.Errorf("cut of a short message: %q", got)
	}
}
