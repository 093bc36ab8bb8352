package gossipkey

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"github.com/hashicorp/memberlist"
)

// Size is the length of a key Generate makes (AES-256).
const Size = 32

// ErrKey is wrapped by every error of Parse and Set.
var ErrKey = errors.New("gossip key")

// Generate returns a new random key of Size bytes.
func Generate() []byte {
	k := make([]byte, Size)
	_, _ = rand.Read(k) // never fails (crypto/rand)
	return k
}

// Encode is k as `node keygen` prints it and --gossip-key takes it:
// standard base64.
func Encode(k []byte) string { return base64.StdEncoding.EncodeToString(k) }

// Keys are a node's gossip keys; Keys[0] encrypts what it sends. It is a
// flag.Value: each Set (a repeated --gossip-key) appends one or several
// comma-separated keys.
type Keys [][]byte

// Parse reads comma-separated base64 keys of 16, 24 or 32 bytes each,
// the primary first. White space around a key is ignored; an empty entry,
// a bad key or a key listed twice is an error naming the entry.
func Parse(s string) (Keys, error) {
	var k Keys
	if err := k.Set(s); err != nil {
		return nil, err
	}
	return k, nil
}

// Set appends the keys of s (see Parse).
func (k *Keys) Set(s string) error {
	for _, entry := range strings.Split(s, ",") {
		entry = strings.TrimSpace(entry)
		if entry == "" {
			return fmt.Errorf("%w %d: empty (generate one with `node keygen`)", ErrKey, len(*k)+1)
		}
		key, err := base64.StdEncoding.DecodeString(entry)
		if err != nil {
			return fmt.Errorf("%w %d: not base64: %v", ErrKey, len(*k)+1, err)
		}
		if n := len(key); n != 16 && n != 24 && n != 32 {
			return fmt.Errorf("%w %d: %d bytes, want 16, 24 or 32 (generate one with `node keygen`)", ErrKey, len(*k)+1, n)
		}
		for j, have := range *k {
			if bytes.Equal(have, key) {
				return fmt.Errorf("%w %d: the same as key %d", ErrKey, len(*k)+1, j+1)
			}
		}
		*k = append(*k, key)
	}
	return nil
}

// String is the keys as Set takes them.
func (k *Keys) String() string {
	if k == nil {
		return ""
	}
	enc := make([]string, len(*k))
	for i, key := range *k {
		enc[i] = Encode(key)
	}
	return strings.Join(enc, ",")
}

// Primary is the key this node sends with (nil without keys).
func (k Keys) Primary() []byte {
	if len(k) == 0 {
		return nil
	}
	return k[0]
}

// Keyring is k as memberlist's keyring: Primary encrypts, all decrypt.
// Set it as memberlist.Config.Keyring and leave SecretKey empty (memberlist
// would make SecretKey the primary). nil without keys.
func (k Keys) Keyring() (*memberlist.Keyring, error) {
	if len(k) == 0 {
		return nil, nil
	}
	kr, err := memberlist.NewKeyring(k[1:], k[0])
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrKey, err)
	}
	return kr, nil
}
