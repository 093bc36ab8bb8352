package preflight

import (
	"errors"
	"strings"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func TestCheck(t *testing.T) {
	for _, tc := range []struct {
		name string
		s    Security
		want error
		says []string
	}{
		{"key and certs", Security{GossipKeys: 1, CertsDir: "/c"}, nil, nil},
		{"two keys and certs", Security{GossipKeys: 2, CertsDir: "/c"}, nil, nil},
		{"insecure", Security{Insecure: true}, nil, nil},
		{"neither", Security{}, ErrNotSecured, []string{"a gossip key (--gossip-key) and certificates (--certs-dir)", "node keygen", "node cert create-ca --certs-dir D", "node cert create-node --host HOST", "--insecure"}},
		{"no certs", Security{GossipKeys: 1}, ErrNotSecured, []string{"needs certificates (--certs-dir)", "node cert create-ca"}},
		{"no key", Security{CertsDir: "/c"}, ErrNotSecured, []string{"needs a gossip key (--gossip-key)", "node keygen"}},
		{"insecure with a key", Security{Insecure: true, GossipKeys: 1}, ErrConflict, []string{"drop --insecure"}},
		{"insecure with certs", Security{Insecure: true, CertsDir: "/c"}, ErrConflict, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.s.Check()
			if !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
				t.Fatalf("Check() = %v, want %v", err, tc.want)
			}
			for _, s := range tc.says {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("message lacks %q:\n%v", s, err)
				}
			}
		})
	}
	if !strings.Contains(InsecureWarning, "--insecure") {
		t.Error("the warning does not name the flag")
	}
}
