package resources

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"time"
)

// MaxSize bounds a resources tarball.
const MaxSize = 64 << 20

// ErrBadDigest is returned for a digest that is not 64 hex digits.
var ErrBadDigest = errors.New("bad digest")

// TarGz packs dir (regular files and directories only) into a gzipped tar
// whose bytes depend on the content only (not on modification times or
// owners), so its Digest names the content.
func TarGz(dir string) ([]byte, error) {
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, path)
		if err != nil || rel == "." {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		if !info.Mode().IsRegular() && !info.IsDir() {
			return nil // sockets, symlinks: not shipped
		}
		h, err := tar.FileInfoHeader(info, "")
		if err != nil {
			return err
		}
		h.Name = filepath.ToSlash(rel)
		h.ModTime = time.Unix(0, 0) // the digest depends on content only
		h.Uid, h.Gid, h.Uname, h.Gname = 0, 0, "", ""
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
		if info.Mode().IsRegular() {
			f, err := os.Open(path)
			if err != nil {
				return err
			}
			_, err = io.Copy(tw, f)
			f.Close()
			return err
		}
		return nil
	})
	if err == nil {
		err = errors.Join(tw.Close(), gz.Close())
	}
	if err != nil {
		return nil, fmt.Errorf("pack resources %s: %w", dir, err)
	}
	if buf.Len() > MaxSize {
		return nil, fmt.Errorf("pack resources %s: %d bytes, more than %d", dir, buf.Len(), MaxSize)
	}
	return buf.Bytes(), nil
}

// Digest names a tarball: its SHA-256, in hex.
func Digest(tgz []byte) string {
	s := sha256.Sum256(tgz)
	return hex.EncodeToString(s[:])
}

// ValidDigest reports whether d can be a Digest.
func ValidDigest(d string) bool {
	if len(d) != 64 {
		return false
	}
	_, err := hex.DecodeString(d)
	return err == nil
}

// Unpack unpacks a gzipped tar's regular files and directories under dst.
// It refuses, with an error and before writing it, any entry that would
// land outside dst (absolute, empty, or climbing out with ..) and any
// entry that is not a file or directory (symlinks, hard links, devices,
// FIFOs); it reads at most 4*MaxSize unpacked bytes.
func Unpack(tgz []byte, dst string) error {
	gz, err := gzip.NewReader(bytes.NewReader(tgz))
	if err != nil {
		return fmt.Errorf("resources: %w", err)
	}
	tr := tar.NewReader(io.LimitReader(gz, 4*MaxSize))
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("resources: %w", err)
		}
		name := filepath.FromSlash(h.Name)
		if !filepath.IsLocal(name) { // absolute, empty, or climbing out with ..
			return fmt.Errorf("resources: path %q leaves the directory", h.Name)
		}
		target := filepath.Join(dst, name)
		switch h.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(target, 0o755); err != nil {
				return err
			}
		case tar.TypeReg:
			if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
				return err
			}
			f, err := os.OpenFile(target, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, os.FileMode(h.Mode)&0o755|0o600)
			if err != nil {
				return err
			}
			_, err = io.Copy(f, tr)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return err
			}
		default:
			return fmt.Errorf("resources: %q is not a file or directory", h.Name)
		}
	}
}

// Peer is a node that may hold a tarball.
type Peer struct {
	Name string
	// Addr is where Fetch reaches it (for HTTPFetch, its HTTP API address).
	Addr string
}

// Fetch gets the tarball called digest from peer. It must return within
// ctx; it need not check the digest (Store.Ensure does). Safe for
// concurrent use.
type Fetch func(ctx context.Context, peer Peer, digest string) ([]byte, error)

// HTTPFetch fetches tarballs with c as GET
// http://<Addr>/api/v1/resources/<digest>, reading at most MaxSize+1
// bytes (c may carry the request over any connection: cluster's dials the
// peer's transport).
func HTTPFetch(c *http.Client) Fetch {
	return func(ctx context.Context, peer Peer, digest string) ([]byte, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+peer.Addr+"/api/v1/resources/"+digest, nil)
		if err != nil {
			return nil, err
		}
		resp, err := c.Do(req)
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return nil, fmt.Errorf("%s", resp.Status)
		}
		return io.ReadAll(io.LimitReader(resp.Body, MaxSize+1))
	}
}
