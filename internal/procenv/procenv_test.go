package procenv

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func TestSecret(t *testing.T) {
	for name, want := range map[string]bool{
		"SQUALL_ADMIN_TOKEN":      true,
		"SQUALL_GOSSIP_KEY":       true,
		"squall_admin_token":      true,
		"SQUALL_CERTS_DIR":        true,
		"SQUALL_KAFKA_PASSWORD":   true,
		"SQUALL_S3_SECRET":        true,
		"SQUALL_API_KEYS":         true,
		"SQUALL_PRIVATE_THING":    true,
		"SQUALL_SASL_CREDENTIAL":  true,
		"SQUALL_HTTP":             false,
		"SQUALL_PYTHON":           false,
		"SQUALL_NAME":             false,
		"SQUALL_MULTILANG_HELPER": false,
		"SQUALL_":                 false,
		"ADMIN_TOKEN":             false, // not the node's
		"PATH":                    false,
		"XSQUALL_ADMIN_TOKEN":     false,
	} {
		if got := Secret(name); got != want {
			t.Errorf("Secret(%q) = %v, want %v", name, got, want)
		}
	}
}

func TestFor(t *testing.T) {
	for _, tc := range []struct {
		name    string
		environ []string
		extra   map[string]string
		want    []string
		err     bool
	}{
		{"secrets dropped, the rest kept in order",
			[]string{"PATH=/bin", "SQUALL_ADMIN_TOKEN=t0k", "HOME=/h", "SQUALL_GOSSIP_KEY=k3y", "SQUALL_PYTHON=/py", "SQUALL_CERTS_DIR=/c"},
			nil,
			[]string{"PATH=/bin", "HOME=/h", "SQUALL_PYTHON=/py"}, false},
		{"the topology's environment comes last, sorted",
			[]string{"PATH=/bin"},
			map[string]string{"Z": "1", "A": "2"},
			[]string{"PATH=/bin", "A=2", "Z=1"}, false},
		{"the topology's environment replaces an inherited one",
			[]string{"PATH=/bin", "LANG=C", "HOME=/h"},
			map[string]string{"LANG": "en_US.UTF-8"},
			[]string{"PATH=/bin", "HOME=/h", "LANG=en_US.UTF-8"}, false},
		{"duplicates: the last wins",
			[]string{"A=1", "B=2", "A=3"},
			nil,
			[]string{"B=2", "A=3"}, false},
		{"a duplicate secret is gone in every copy",
			[]string{"SQUALL_ADMIN_TOKEN=a", "X=1", "SQUALL_ADMIN_TOKEN=b"},
			nil,
			[]string{"X=1"}, false},
		{"malformed entries dropped",
			[]string{"NOEQUALS", "=nameless", "OK="},
			nil,
			[]string{"OK="}, false},
		{"values with '=' are kept whole",
			[]string{"OPTS=a=b=c"},
			nil,
			[]string{"OPTS=a=b=c"}, false},
		{"empty", nil, nil, []string{}, false},
		{"the topology may not set a secret", nil, map[string]string{"SQUALL_ADMIN_TOKEN": "x"}, nil, true},
		{"nor one in lower case", nil, map[string]string{"squall_gossip_key": "x"}, nil, true},
		{"a name with '='", nil, map[string]string{"A=B": "x"}, nil, true},
		{"an empty name", nil, map[string]string{"": "x"}, nil, true},
		{"a value with NUL", nil, map[string]string{"A": "x\x00y"}, nil, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := slices.Clone(tc.environ)
			got, err := For(env, tc.extra)
			if tc.err {
				if !errors.Is(err, ErrEnvironment) {
					t.Fatalf("err %v, want ErrEnvironment", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("For = %q\nwant  %q", got, tc.want)
			}
			if !slices.Equal(env, tc.environ) {
				t.Error("For changed its input")
			}
			for _, kv := range got {
				if k, _, _ := strings.Cut(kv, "="); Secret(k) {
					t.Errorf("secret %q passed", kv)
				}
			}
		})
	}
}
