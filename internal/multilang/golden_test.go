package multilang

import (
	"bytes"
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/*.in from the sessions in sessions_test.go")

var goldenSessions = []struct {
	kind string
	in   []Message // squall -> subprocess
	out  []Message // subprocess -> squall, as pystorm wrote it
}{
	{"bolt", squallToBolt, boltReplies},
	{"spout", squallToSpout, spoutReplies},
}

var serializers = []Serializer{JSON, Msgpack}

func goldenPath(kind string, s Serializer, dir string) string {
	return filepath.Join("testdata", kind+"."+s.String()+"."+dir)
}

func encodeAll(t *testing.T, s Serializer, msgs []Message) []byte {
	t.Helper()
	var buf bytes.Buffer
	enc, err := NewEncoder(&buf, s)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range msgs {
		if err := enc.Encode(m); err != nil {
			t.Fatalf("Encode(%#v): %v", m, err)
		}
	}
	return buf.Bytes()
}

// decodeAll decodes messages until a clean EOF.
func decodeAll(t *testing.T, r io.Reader, s Serializer, side Side) []Message {
	t.Helper()
	dec, err := NewDecoder(r, s, side)
	if err != nil {
		t.Fatal(err)
	}
	var msgs []Message
	for {
		m, err := dec.Decode()
		if errors.Is(err, io.EOF) && errors.Is(err, ErrBrokenPipe) {
			return msgs
		}
		if err != nil {
			t.Fatalf("message %d: %v", len(msgs)+1, err)
		}
		msgs = append(msgs, m)
	}
}

// TestGoldenInput checks that squall's side of each session encodes to the
// bytes that were fed to pystorm, and that they decode back to the session.
func TestGoldenInput(t *testing.T) {
	for _, sess := range goldenSessions {
		for _, s := range serializers {
			t.Run(sess.kind+"/"+s.String(), func(t *testing.T) {
				got := encodeAll(t, s, sess.in)
				path := goldenPath(sess.kind, s, "in")
				if *update {
					if err := os.WriteFile(path, got, 0o644); err != nil {
						t.Fatal(err)
					}
				}
				want, err := os.ReadFile(path)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(got, want) {
					t.Errorf("encoding of the %s session differs from %s (rerun with -update after checking it with capture_pystorm.py):\ngot  %q\nwant %q", sess.kind, path, got, want)
				}
				back := decodeAll(t, bytes.NewReader(want), s, FromSquall)
				assertMessages(t, back, sess.in)
			})
		}
	}
}

// TestGoldenOutput decodes what pystorm really wrote.
func TestGoldenOutput(t *testing.T) {
	for _, sess := range goldenSessions {
		for _, s := range serializers {
			t.Run(sess.kind+"/"+s.String(), func(t *testing.T) {
				raw, err := os.ReadFile(goldenPath(sess.kind, s, "out"))
				if err != nil {
					t.Fatal(err)
				}
				got := decodeAll(t, bytes.NewReader(raw), s, FromSubprocess)
				assertMessages(t, got, sess.out)
			})
		}
	}
}

// TestGoldenOutputReencodes checks that encoding pystorm's messages again
// and decoding the result gives the same messages, in both serializers.
func TestGoldenOutputReencodes(t *testing.T) {
	for _, sess := range goldenSessions {
		for _, s := range serializers {
			t.Run(sess.kind+"/"+s.String(), func(t *testing.T) {
				raw := encodeAll(t, s, sess.out)
				got := decodeAll(t, bytes.NewReader(raw), s, FromSubprocess)
				assertMessages(t, got, sess.out)
			})
		}
	}
}

func assertMessages(t *testing.T, got, want []Message) {
	t.Helper()
	for i := range max(len(got), len(want)) {
		switch {
		case i >= len(got):
			t.Errorf("message %d: missing, want %#v", i+1, want[i])
		case i >= len(want):
			t.Errorf("message %d: unexpected %#v", i+1, got[i])
		case !reflect.DeepEqual(got[i], want[i]):
			t.Errorf("message %d:\ngot  %#v\nwant %#v", i+1, got[i], want[i])
		}
	}
}
