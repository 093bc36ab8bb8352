package cluster

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

// Topologies can come with a resources directory (the Python code of shell
// components). The node it is submitted to stores it as a gzipped tar named
// by its SHA-256 and serves it at /api/v1/resources/{digest} (on the public
// API and to other nodes over the transport, see peers.go); every other
// node fetches it from any live member that has it before building the
// topology, checks the digest, and unpacks it into its own data directory.
// Every node that has it serves it too, so nodes that join later find it
// even after the submitting node is gone.

// Config keys the cluster sets on a topology's configuration.
const (
	// ConfResourcesDigest is the SHA-256 of the topology's resources tarball.
	ConfResourcesDigest = "squall.resources.digest"
	// ConfResourcesDir is where this node unpacked them (multilang runs
	// shell components there).
	ConfResourcesDir = "squall.resources.dir"
)

// MaxResources bounds a resources tarball.
const MaxResources = 64 << 20

// TarGz packs dir (regular files and directories only) into a gzipped tar.
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
	if buf.Len() > MaxResources {
		return nil, fmt.Errorf("pack resources %s: %d bytes, more than %d", dir, buf.Len(), MaxResources)
	}
	return buf.Bytes(), nil
}

func digestOf(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func validDigest(d string) bool {
	if len(d) != 64 {
		return false
	}
	_, err := hex.DecodeString(d)
	return err == nil
}

func (n *Node) resourcesPath(digest string) (tarball, dir string) {
	root := filepath.Join(n.dataDir, "resources")
	return filepath.Join(root, digest+".tar.gz"), filepath.Join(root, digest)
}

// storeResources keeps a tarball and unpacks it; it returns its digest.
func (n *Node) storeResources(tgz []byte) (string, error) {
	digest := digestOf(tgz)
	tarball, dir := n.resourcesPath(digest)
	if _, err := os.Stat(dir); err == nil {
		return digest, nil
	}
	if err := os.MkdirAll(filepath.Dir(tarball), 0o700); err != nil {
		return "", err
	}
	tmp, err := os.MkdirTemp(filepath.Dir(dir), ".unpack-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp)
	if err := untarGz(tgz, tmp); err != nil {
		return "", err
	}
	if err := os.WriteFile(tarball+".tmp", tgz, 0o600); err != nil { // the data dir's files are private (internal/datadir)
		return "", err
	}
	if err := os.Rename(tarball+".tmp", tarball); err != nil {
		return "", err
	}
	if err := os.Rename(tmp, dir); err != nil && !errors.Is(err, fs.ErrExist) {
		if _, serr := os.Stat(dir); serr != nil {
			return "", err
		}
	}
	return digest, nil
}

// untarGz unpacks regular files and directories under dst, refusing paths
// that leave it.
func untarGz(tgz []byte, dst string) error {
	gz, err := gzip.NewReader(bytes.NewReader(tgz))
	if err != nil {
		return fmt.Errorf("resources: %w", err)
	}
	tr := tar.NewReader(io.LimitReader(gz, 4*MaxResources))
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

// ensureResources returns the local directory of digest, fetching it from
// a live member that has it when this node does not.
func (n *Node) ensureResources(ctx context.Context, digest string) (string, error) {
	if !validDigest(digest) {
		return "", fmt.Errorf("resources: bad digest %q", digest)
	}
	_, dir := n.resourcesPath(digest)
	if _, err := os.Stat(dir); err == nil {
		return dir, nil
	}
	var errs []error
	for _, m := range n.members() {
		if m.name == n.cfg.Name {
			continue
		}
		b, err := fetchResources(ctx, n.peerClient(resourcesTimeout), peerURL(m, "/api/v1/resources/"+digest))
		if err == nil && digestOf(b) != digest {
			err = errors.New("digest mismatch")
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("from %s: %w", m.name, err))
			continue
		}
		if _, err := n.storeResources(b); err != nil {
			return "", err
		}
		return dir, nil
	}
	return "", fmt.Errorf("resources %s: no live member served them: %w", digest[:12], errors.Join(errs...))
}

// fetchResources downloads a resources tarball from url with client.
func fetchResources(ctx context.Context, client *http.Client, url string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s", resp.Status)
	}
	return io.ReadAll(io.LimitReader(resp.Body, MaxResources+1))
}

func (n *Node) serveResources(w http.ResponseWriter, r *http.Request) {
	digest := r.PathValue("digest")
	if !validDigest(digest) {
		writeErr(w, http.StatusBadRequest, fmt.Errorf("bad digest %q", digest))
		return
	}
	tarball, _ := n.resourcesPath(digest)
	b, err := os.ReadFile(tarball)
	if err != nil {
		writeErr(w, http.StatusNotFound, fmt.Errorf("no resources %s here", digest))
		return
	}
	w.Header().Set("Content-Type", "application/gzip")
	_, _ = w.Write(b)
}
