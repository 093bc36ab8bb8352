package certs

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// ErrNoToken: dir/admin-token is missing or empty.
var ErrNoToken = errors.New("certs: no admin token")

// AdminToken returns the token in dir/admin-token, first generating one
// (32 random bytes, base64url: safe in a URL's ?token=) into a new file of
// mode 0600 if there is none — what a node started with --certs-dir and no
// --admin-token does. created says which. Nodes that share dir and start
// together agree on one token: the file appears whole (a hard link of a
// written temporary file) or not at all.
func AdminToken(dir string) (token string, created bool, err error) {
	token, err = ReadAdminToken(dir)
	if !errors.Is(err, fs.ErrNotExist) {
		return token, false, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", false, fmt.Errorf("certs: %w", err)
	}
	b := make([]byte, 32)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	token = base64.RawURLEncoding.EncodeToString(b)
	tmp, err := os.CreateTemp(dir, "."+AdminTokenFile+".tmp*")
	if err != nil {
		return "", false, fmt.Errorf("certs: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := closeWrite(tmp, []byte(token+"\n"), tmp.Name()); err != nil {
		return "", false, err
	}
	// CreateTemp made it 0600.
	switch err := os.Link(tmp.Name(), filepath.Join(dir, AdminTokenFile)); {
	case errors.Is(err, fs.ErrExist): // another node was first: use its token
		token, err = ReadAdminToken(dir)
		return token, false, err
	case err != nil:
		return "", false, fmt.Errorf("certs: %w", err)
	}
	return token, true, nil
}

// ReadAdminToken reads dir/admin-token, as the client commands do. A
// missing file is an error wrapping fs.ErrNotExist and ErrNoToken; a file
// group or others may read is ErrPermissions.
func ReadAdminToken(dir string) (string, error) {
	path := filepath.Join(dir, AdminTokenFile)
	if err := checkPrivate(path); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return "", fmt.Errorf("%w: %w", ErrNoToken, err)
		}
		return "", err
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("certs: %w", err)
	}
	token := strings.TrimSpace(string(b))
	if token == "" {
		return "", fmt.Errorf("%w: %s is empty", ErrNoToken, path)
	}
	return token, nil
}
