package multilang

import (
	"strings"
	"testing"
)

// TestTail: a subprocess's stderr tail keeps its last lines within the
// line and byte bounds, whatever the writes' boundaries.
func TestTail(t *testing.T) {
	cases := []struct {
		name               string
		maxLines, maxBytes int
		writes             []string
		want               string
	}{
		{"nothing", 3, 100, nil, ""},
		{"lines", 3, 100, []string{"a\nb\n"}, "a\nb"},
		{"the last lines", 3, 100, []string{"1\n2\n3\n4\n5\n"}, "3\n4\n5"},
		{"split writes", 3, 100, []string{"Trace", "back\n  File \"x\"", "\nValueError: bad\n"}, "Traceback\n  File \"x\"\nValueError: bad"},
		{"partial last line", 3, 100, []string{"a\nb\nno newline"}, "a\nb\nno newline"},
		{"crlf", 3, 100, []string{"a\r\nb\r\n"}, "a\nb"},
		{"bytes bound", 10, 8, []string{"aaaa\nbbbb\ncccc\n"}, "bbbb\ncccc"},
		{"long line cut, then over the bytes", 3, 4, []string{"0123456789\nok\n"}, "ok"},
		{"long last line cut", 3, 16, []string{"ok\n0123456789abcdefghij\n"}, "0123456789abcdef…"},
		{"long line alone", 3, 4, []string{"0123456789"}, "0123…"},
		{"invalid utf-8 dropped", 3, 100, []string{"a\xffb\n"}, "ab"},
		{"blank end trimmed", 3, 100, []string{"a\n\n\n"}, "a"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tl := newTail(tc.maxLines, tc.maxBytes)
			for _, w := range tc.writes {
				if n, err := tl.Write([]byte(w)); n != len(w) || err != nil {
					t.Fatalf("Write = %d, %v", n, err)
				}
			}
			if got := tl.String(); got != tc.want {
				t.Errorf("tail = %q, want %q", got, tc.want)
			}
		})
	}
}

// TestTailBounded: a flood keeps no more than the bounds.
func TestTailBounded(t *testing.T) {
	tl := newTail(tailLines, tailBytes)
	for i := range 10000 {
		_, _ = tl.Write([]byte(strings.Repeat("x", i%700) + "\n"))
	}
	_, _ = tl.Write([]byte(strings.Repeat("y", 1<<20))) // a partial line of 1 MiB
	if n := len(tl.lines); n > tailLines {
		t.Errorf("%d lines kept, want at most %d", n, tailLines)
	}
	if tl.size > tailBytes || len(tl.partial) > tailBytes {
		t.Errorf("%d bytes of lines and %d of a partial line kept, want at most %d each", tl.size, len(tl.partial), tailBytes)
	}
	if s := tl.String(); len(s) > 2*tailBytes+len(tl.lines)+8 {
		t.Errorf("String() is %d bytes", len(s))
	}
}

func TestPostmortem(t *testing.T) {
	cases := []struct{ lastError, stderr, want string }{
		{"", "", ""},
		{"Python ValueError raised\nTraceback", "", "\nthe last error it reported: Python ValueError raised\nTraceback"},
		{"", "ModuleNotFoundError: x", "\nits stderr ended with:\nModuleNotFoundError: x"},
		{"e", "s", "\nthe last error it reported: e\nits stderr ended with:\ns"},
	}
	for _, tc := range cases {
		if got := postmortem(tc.lastError, tc.stderr); got != tc.want {
			t.Errorf("postmortem(%q, %q) = %q, want %q", tc.lastError, tc.stderr, got, tc.want)
		}
	}
}
