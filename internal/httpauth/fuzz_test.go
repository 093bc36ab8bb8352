package httpauth

import (
	"strings"
	"testing"
	"time"
)

// FuzzSessionVerify: a session cookie comes from outside; no value but
// the one the key signed verifies, and none panics. The signed seed is
// built without randomness so every fuzz worker agrees on it.
func FuzzSessionVerify(f *testing.F) {
	s := newSessions(token, time.Hour, func() time.Time { return time.Unix(1_800_000_000, 0) })
	payload := "v1.1800003600.AAAAAAAAAAAAAAAAAAAAAA"
	good := payload + "." + s.mac(payload)
	if _, ok := s.verify(good); !ok {
		f.Fatal("the signed seed does not verify")
	}
	f.Add(good)
	f.Add("v1.1800003600.AAAA.AAAA")
	f.Add("v1..." + strings.Repeat(".", 10))
	f.Add("")
	f.Fuzz(func(t *testing.T, v string) {
		if id, ok := s.verify(v); ok && v != good {
			t.Fatalf("verified a cookie nobody signed: %q (id %q)", v, id)
		}
	})
}

// TestSessionAnyByteChanged: changing any one byte of an issued cookie
// makes it worthless.
func TestSessionAnyByteChanged(t *testing.T) {
	s := newSessions(token, time.Hour, time.Now)
	v, _ := s.issue()
	if _, ok := s.verify(v); !ok {
		t.Fatal("an issued cookie does not verify")
	}
	for i := range len(v) {
		b := []byte(v)
		b[i] ^= 1
		if _, ok := s.verify(string(b)); ok {
			t.Fatalf("byte %d changed (%q) still verifies", i, b)
		}
	}
	if _, ok := s.verify(v + "x"); ok {
		t.Fatal("a cookie with a byte appended verifies")
	}
}
