package multilang

import (
	"bytes"
	"strings"
	"sync"
)

// A subprocess that dies usually says why on its stderr last (a Python
// traceback, "ModuleNotFoundError: ..."), so each subprocess keeps the end
// of its stderr, and its death is reported with it: the task's last error
// in the REST API, the UI and `node list --json`.
const (
	// tailLines and tailBytes bound what a subprocess keeps of its stderr:
	// its last tailLines lines, at most tailBytes bytes in all (a line
	// longer than that keeps its first tailBytes bytes).
	tailLines = 20
	tailBytes = 4 << 10
)

// tail keeps the last lines written to it, within its bounds. The stderr
// goroutine writes it; the task reads it once the subprocess is dead. It
// is safe for concurrent use.
type tail struct {
	maxLines, maxBytes int

	mu      sync.Mutex
	lines   []string // oldest first
	size    int      // bytes in lines
	partial []byte   // the current line, at most maxBytes of it
	cut     bool     // the current line was longer
}

func newTail(maxLines, maxBytes int) *tail {
	return &tail{maxLines: max(maxLines, 1), maxBytes: max(maxBytes, 1)}
}

// Write takes any bytes, whole lines or not; it never fails.
func (t *tail) Write(p []byte) (int, error) {
	n := len(p)
	t.mu.Lock()
	defer t.mu.Unlock()
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		chunk := p
		if i >= 0 {
			chunk = p[:i]
		}
		if room := t.maxBytes - len(t.partial); len(chunk) > room {
			chunk, t.cut = chunk[:room], true
		}
		t.partial = append(t.partial, chunk...)
		if i < 0 {
			break
		}
		t.endLine()
		p = p[i+1:]
	}
	return n, nil
}

// endLine keeps the current line and forgets the oldest ones beyond the
// bounds.
func (t *tail) endLine() {
	line := strings.ToValidUTF8(string(bytes.TrimSuffix(t.partial, []byte{'\r'})), "")
	if t.cut {
		line += "…"
	}
	t.partial, t.cut = t.partial[:0], false
	t.lines = append(t.lines, line)
	t.size += len(line)
	for len(t.lines) > t.maxLines || (t.size > t.maxBytes && len(t.lines) > 1) {
		t.size -= len(t.lines[0])
		t.lines[0] = ""
		t.lines = t.lines[1:]
	}
}

// String is the lines kept, a partial last line included, joined by
// newlines; "" when the subprocess wrote nothing.
func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	lines := t.lines
	if len(t.partial) > 0 {
		last := strings.ToValidUTF8(string(t.partial), "")
		if t.cut {
			last += "…"
		}
		lines = append(lines[:len(lines):len(lines)], last)
	}
	return strings.TrimRight(strings.Join(lines, "\n"), "\n ")
}
