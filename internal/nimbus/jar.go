package nimbus

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"slices"
	"strings"
	"time"
)

// Bounds of a jar's resources (cluster.MaxResources bounds the tarball the
// node stores; the unpacked files are bounded the same).
const (
	MaxResourcesBytes = 64 << 20
	maxJarEntries     = 20000
)

// jvmDependencyPrefixes are entries of a jar that lein put there from
// project.clj's :dependencies (storm-core pulls in Clojure).
var jvmDependencyPrefixes = []string{"clojure/", "org/apache/storm/"}

// Resources reads a jar as `sparse submit` builds it (lein jar of the
// project, its src/ copied under resources/) and returns the files under
// resources/, prefix stripped, as the gzipped tar the node distributes
// (regular files and directories, no owners or times, in name order), and
// the set of their paths. Paths that leave the directory, symlinks and
// other special files are refused, and so is a jar that carries Storm's or
// Clojure's classes: lein put project.clj's :dependencies in it, which a
// JVM-free squall does not need.
func Resources(jar []byte) (tgz []byte, files map[string]bool, err error) {
	zr, err := zip.NewReader(bytes.NewReader(jar), int64(len(jar)))
	if err != nil {
		return nil, nil, fmt.Errorf("%w: the uploaded jar is not a zip file: %v", ErrInvalidTopology, err)
	}
	if len(zr.File) > maxJarEntries {
		return nil, nil, fmt.Errorf("%w: the jar has %d entries, more than %d", ErrInvalidTopology, len(zr.File), maxJarEntries)
	}
	type entry struct {
		name string
		f    *zip.File
	}
	var entries []entry
	for _, f := range zr.File {
		for _, p := range jvmDependencyPrefixes {
			if strings.HasPrefix(f.Name, p) {
				return nil, nil, fmt.Errorf("%w: the jar contains %s: lein packed project.clj's :dependencies (storm-core, Clojure) into it; "+
					"squall runs no JVM and needs none of them: set `:dependencies []` in project.clj and submit again", ErrInvalidTopology, f.Name)
			}
		}
		rel, ok := strings.CutPrefix(f.Name, "resources/")
		if !ok || rel == "" {
			continue
		}
		clean := strings.TrimSuffix(rel, "/")
		if strings.Contains(rel, "\\") || !fs.ValidPath(clean) {
			return nil, nil, fmt.Errorf("%w: jar entry %q leaves the resources directory", ErrInvalidTopology, f.Name)
		}
		mode := f.Mode()
		switch {
		case mode&fs.ModeSymlink != 0:
			return nil, nil, fmt.Errorf("%w: jar entry %q is a symlink: ship the file itself", ErrInvalidTopology, f.Name)
		case mode.IsDir() || strings.HasSuffix(f.Name, "/"):
		case !mode.IsRegular():
			return nil, nil, fmt.Errorf("%w: jar entry %q is not a regular file", ErrInvalidTopology, f.Name)
		}
		entries = append(entries, entry{clean, f})
	}
	if len(entries) == 0 {
		return nil, nil, fmt.Errorf("%w: the jar has no resources/ directory: build it with `sparse submit` (or `sparse jar`), "+
			"or pass -j a zip whose resources/ holds the project's src/", ErrInvalidTopology)
	}
	slices.SortFunc(entries, func(a, b entry) int { return strings.Compare(a.name, b.name) })
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	files = map[string]bool{}
	dirs := map[string]bool{}
	var total int64
	addDir := func(dir string) error {
		var missing []string
		for d := dir; d != "." && !dirs[d]; d = path.Dir(d) {
			missing = append(missing, d)
		}
		for _, d := range slices.Backward(missing) {
			dirs[d] = true
			if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: d + "/", Mode: 0o755, ModTime: time.Unix(0, 0)}); err != nil {
				return err
			}
		}
		return nil
	}
	for _, e := range entries {
		if e.f.Mode().IsDir() || strings.HasSuffix(e.f.Name, "/") {
			if err := addDir(e.name); err != nil {
				return nil, nil, err
			}
			continue
		}
		if files[e.name] || dirs[e.name] {
			return nil, nil, fmt.Errorf("%w: jar entry %q is given twice", ErrInvalidTopology, e.f.Name)
		}
		if err := addDir(path.Dir(e.name)); err != nil {
			return nil, nil, err
		}
		data, err := readEntry(e.f, MaxResourcesBytes-total)
		if err != nil {
			return nil, nil, err
		}
		total += int64(len(data))
		mode := int64(0o644)
		if e.f.Mode()&0o111 != 0 {
			mode = 0o755
		}
		h := &tar.Header{Typeflag: tar.TypeReg, Name: e.name, Mode: mode, Size: int64(len(data)), ModTime: time.Unix(0, 0)}
		if err := tw.WriteHeader(h); err != nil {
			return nil, nil, err
		}
		if _, err := tw.Write(data); err != nil {
			return nil, nil, err
		}
		files[e.name] = true
	}
	if err := errors.Join(tw.Close(), gz.Close()); err != nil {
		return nil, nil, err
	}
	if buf.Len() > MaxResourcesBytes {
		return nil, nil, fmt.Errorf("%w: the jar's resources pack to %d bytes, more than %d", ErrInvalidTopology, buf.Len(), MaxResourcesBytes)
	}
	return buf.Bytes(), files, nil
}

// readEntry reads one file of the jar, at most limit bytes whatever its
// header claims.
func readEntry(f *zip.File, limit int64) ([]byte, error) {
	tooBig := fmt.Errorf("%w: the jar's resources/ hold more than %d bytes", ErrInvalidTopology, MaxResourcesBytes)
	if limit <= 0 || f.UncompressedSize64 > uint64(limit) {
		return nil, tooBig
	}
	r, err := f.Open()
	if err != nil {
		return nil, fmt.Errorf("%w: jar entry %q: %v", ErrInvalidTopology, f.Name, err)
	}
	defer r.Close()
	data, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, fmt.Errorf("%w: jar entry %q: %v", ErrInvalidTopology, f.Name, err)
	}
	if int64(len(data)) > limit {
		return nil, tooBig
	}
	return data, nil
}

// checkModules checks, as the optional early check of the spec (§2.5),
// that every streamparse_run component's Python class is in the resources:
// "-s json bolts.wordcount.WordCountBolt" needs bolts/wordcount.py (or
// bolts/wordcount/__init__.py, or either under resources/, Storm 1.0.3's
// layout that streamparse_run also accepts).
func checkModules(doc *fluxDoc, files map[string]bool) error {
	var errs []error
	for _, c := range slices.Concat(doc.Spouts, doc.Bolts) {
		if len(c.Command) == 0 || path.Base(c.Command[0]) != "streamparse_run" {
			continue
		}
		f := strings.Fields(c.Script)
		if len(f) == 0 {
			errs = append(errs, fmt.Errorf("%w: %q: streamparse_run without a component class", ErrInvalidTopology, c.ID))
			continue
		}
		class := f[len(f)-1]
		mod, _, ok := strings.Cut(class, ".")
		if i := strings.LastIndex(class, "."); ok && i > 0 {
			mod = strings.ReplaceAll(class[:i], ".", "/")
		}
		var found bool
		for _, p := range []string{mod + ".py", mod + "/__init__.py", "resources/" + mod + ".py", "resources/" + mod + "/__init__.py"} {
			found = found || files[p]
		}
		if !found {
			errs = append(errs, fmt.Errorf("%w: %q runs %s, but the jar's resources/ has no %s.py: is it in the project's src/?",
				ErrInvalidTopology, c.ID, class, mod))
		}
	}
	return errors.Join(errs...)
}
