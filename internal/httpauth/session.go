package httpauth

import (
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"strconv"
	"strings"
	"time"
)

// sessions issues and checks signed session cookies: no server-side
// state, so every node with the same admin token accepts them. A value is
//
//	v1.EXPIRY_UNIX.ID.MAC
//
// with ID 16 random bytes and MAC = HMAC-SHA256(key, "v1.EXPIRY_UNIX.ID"),
// base64url; the CSRF token of a session is HMAC-SHA256(key, "csrf." + ID).
type sessions struct {
	key []byte
	ttl time.Duration
	now func() time.Time
}

var b64 = base64.RawURLEncoding

func newSessions(token string, ttl time.Duration, now func() time.Time) *sessions {
	key, err := hkdf.Key(sha256.New, []byte(token), nil, "squall session cookie v1", 32)
	if err != nil {
		panic("httpauth: hkdf: " + err.Error()) // only for key lengths sha256 cannot give
	}
	return &sessions{key: key, ttl: ttl, now: now}
}

func (s *sessions) mac(msg string) string {
	m := hmac.New(sha256.New, s.key)
	m.Write([]byte(msg))
	return b64.EncodeToString(m.Sum(nil))
}

// issue returns a new session's cookie value and when it expires.
func (s *sessions) issue() (value string, expires time.Time) {
	id := make([]byte, 16)
	_, _ = rand.Read(id) // never fails (crypto/rand)
	expires = s.now().Add(s.ttl).Truncate(time.Second)
	payload := "v1." + strconv.FormatInt(expires.Unix(), 10) + "." + b64.EncodeToString(id)
	return payload + "." + s.mac(payload), expires
}

// verify returns the session ID of a cookie value that this key signed
// and that has not expired.
func (s *sessions) verify(value string) (id string, ok bool) {
	payload, sig, found := cutLast(value, ".")
	if !found || !hmac.Equal([]byte(sig), []byte(s.mac(payload))) {
		return "", false
	}
	parts := strings.Split(payload, ".")
	if len(parts) != 3 || parts[0] != "v1" {
		return "", false
	}
	exp, err := strconv.ParseInt(parts[1], 10, 64)
	if err != nil || !s.now().Before(time.Unix(exp, 0)) {
		return "", false
	}
	return parts[2], true
}

// csrf is the CSRF token of session id.
func (s *sessions) csrf(id string) string { return s.mac("csrf." + id) }

func cutLast(s, sep string) (before, after string, found bool) {
	i := strings.LastIndex(s, sep)
	if i < 0 {
		return s, "", false
	}
	return s[:i], s[i+len(sep):], true
}
