package apiaddr

import (
	"errors"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func TestBase(t *testing.T) {
	for _, tc := range []struct {
		addr   string
		secure bool
		want   string // "" for an error
	}{
		{"127.0.0.1:8080", false, "http://127.0.0.1:8080"},
		{"127.0.0.1:8080", true, "https://127.0.0.1:8080"},
		{"localhost:8080", true, "https://localhost:8080"},
		{"[::1]:8080", false, "http://[::1]:8080"},
		{"http://127.0.0.1:8080", false, "http://127.0.0.1:8080"},
		{"http://127.0.0.1:8080/", false, "http://127.0.0.1:8080"},
		{"https://127.0.0.1:8080", false, "https://127.0.0.1:8080"},
		{"https://node1.example:8443", true, "https://node1.example:8443"},
		{"https://[::1]:8443", true, "https://[::1]:8443"},
		{"http://127.0.0.1:8080", true, ""}, // credentials in clear
		{"ftp://127.0.0.1:21", false, ""},
		{"https://admin:pw@127.0.0.1:8080", true, ""},
		{"https://127.0.0.1:8080/api/v1", true, ""},
		{"https://127.0.0.1:8080?x=1", true, ""},
		{"https://127.0.0.1:8080#f", true, ""},
		{"https://127.0.0.1", true, ""},
		{"127.0.0.1", false, ""},
		{":8080", false, ""},
		{"127.0.0.1:0", false, ""},
		{"127.0.0.1:65536", false, ""},
		{"127.0.0.1:http", false, ""},
		{"127.0.0.1:+80", false, ""},
		{"127.0.0.1:080", false, ""},
		{"", false, ""},
		{"a b:80", false, ""},
		{"evil.example/x:80", false, ""},
	} {
		t.Run(tc.addr, func(t *testing.T) {
			got, err := Base(tc.addr, tc.secure)
			if tc.want == "" {
				if !errors.Is(err, ErrAddr) {
					t.Fatalf("Base(%q, %v) = %q, %v; want ErrAddr", tc.addr, tc.secure, got, err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("Base(%q, %v) = %q, %v; want %q", tc.addr, tc.secure, got, err, tc.want)
			}
		})
	}
}
