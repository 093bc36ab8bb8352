package gossipkey

import (
	"bytes"
	"errors"
	"flag"
	"strings"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

var _ flag.Value = (*Keys)(nil)

func TestGenerate(t *testing.T) {
	a, b := Generate(), Generate()
	if len(a) != Size || bytes.Equal(a, b) {
		t.Fatalf("Generate: %d bytes, two equal: %v", len(a), bytes.Equal(a, b))
	}
	k, err := Parse(Encode(a))
	if err != nil || len(k) != 1 || !bytes.Equal(k.Primary(), a) {
		t.Fatalf("Parse(Encode(key)) = %v, %v", k, err)
	}
}

func TestParse(t *testing.T) {
	k16, k24, k32 := Encode(make([]byte, 16)), Encode(bytes.Repeat([]byte{1}, 24)), Encode(bytes.Repeat([]byte{2}, 32))
	for _, tc := range []struct {
		name string
		in   string
		n    int    // keys, when ok
		err  string // part of the error, when not
	}{
		{"one key", k32, 1, ""},
		{"three sizes", k32 + "," + k16 + "," + k24, 3, ""},
		{"spaces around", " " + k32 + " , " + k16 + " ", 2, ""},
		{"empty", "", 0, "key 1: empty"},
		{"empty entry", k32 + ",", 0, "key 2: empty"},
		{"not base64", "not-base64!", 0, "key 1: not base64"},
		{"wrong size", Encode(make([]byte, 20)), 0, "key 1: 20 bytes, want 16, 24 or 32"},
		{"listed twice", k32 + "," + k16 + "," + k32, 0, "key 3: the same as key 1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k, err := Parse(tc.in)
			if tc.err != "" {
				if !errors.Is(err, ErrKey) || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err %v, want ErrKey with %q", err, tc.err)
				}
				return
			}
			if err != nil || len(k) != tc.n {
				t.Fatalf("Parse = %d keys, %v; want %d", len(k), err, tc.n)
			}
		})
	}
}

func TestFlagRepeatedAndKeyring(t *testing.T) {
	primary, old := Generate(), Generate()
	var k Keys
	fs := flag.NewFlagSet("node", flag.ContinueOnError)
	fs.Var(&k, "gossip-key", "")
	if err := fs.Parse([]string{"--gossip-key", Encode(primary), "--gossip-key", Encode(old)}); err != nil {
		t.Fatal(err)
	}
	if len(k) != 2 || !bytes.Equal(k.Primary(), primary) {
		t.Fatalf("keys %v", k.String())
	}
	if got := k.String(); got != Encode(primary)+","+Encode(old) {
		t.Errorf("String() = %q", got)
	}
	kr, err := k.Keyring()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(kr.GetPrimaryKey(), primary) {
		t.Error("the keyring's primary is not the first key")
	}
	keys := kr.GetKeys()
	if len(keys) != 2 || !bytes.Equal(keys[0], primary) || !bytes.Equal(keys[1], old) {
		t.Errorf("keyring holds %d keys", len(keys))
	}
	if kr, err := (Keys(nil)).Keyring(); kr != nil || err != nil {
		t.Errorf("no keys: keyring %v, %v; want nil, nil", kr, err)
	}
	if (Keys(nil)).Primary() != nil || (*Keys)(nil).String() != "" {
		t.Error("empty Keys: Primary or String not empty")
	}
}
