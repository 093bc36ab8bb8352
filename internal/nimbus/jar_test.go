package nimbus

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"io/fs"
	"strings"
	"testing"
)

type zipEntry struct {
	name string
	body string
	mode fs.FileMode
}

func makeZip(t testing.TB, entries ...zipEntry) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, e := range entries {
		h := &zip.FileHeader{Name: e.name, Method: zip.Deflate}
		if len(e.body) > 1<<20 {
			h.Method = zip.Store // quicker to write
		}
		if e.mode != 0 {
			h.SetMode(e.mode)
		}
		w, err := zw.CreateHeader(h)
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(w, e.body)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// quickstartJar has the layout `lein jar` gives the quickstart (spec §2.5).
func quickstartJar(t testing.TB) []byte {
	return makeZip(t,
		zipEntry{name: "META-INF/MANIFEST.MF", body: "Manifest-Version: 1.0\n"},
		zipEntry{name: "resources/"},
		zipEntry{name: "resources/bolts/__init__.py"},
		zipEntry{name: "resources/bolts/wordcount.py", body: "class WordCountBolt: pass\n"},
		zipEntry{name: "resources/spouts/words.py", body: "class WordSpout: pass\n"},
		zipEntry{name: "resources/run.sh", body: "#!/bin/sh\n", mode: 0o755},
		zipEntry{name: "bolts/wordcount.py", body: "ignored\n"},
	)
}

func untar(t *testing.T, tgz []byte) map[string]string {
	t.Helper()
	gz, err := gzip.NewReader(bytes.NewReader(tgz))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	tr := tar.NewReader(gz)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(tr)
		out[h.Name] = string(b) + map[byte]string{tar.TypeDir: "<dir>", tar.TypeReg: ""}[h.Typeflag]
		if h.Name == "run.sh" && h.Mode != 0o755 {
			t.Errorf("run.sh mode %o, want 755", h.Mode)
		}
	}
}

func TestResources(t *testing.T) {
	tgz, files, err := Resources(quickstartJar(t))
	if err != nil {
		t.Fatal(err)
	}
	got := untar(t, tgz)
	want := map[string]string{"bolts/": "<dir>", "spouts/": "<dir>", "bolts/__init__.py": "",
		"bolts/wordcount.py": "class WordCountBolt: pass\n", "spouts/words.py": "class WordSpout: pass\n", "run.sh": "#!/bin/sh\n"}
	if len(got) != len(want) {
		t.Errorf("tar has %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("tar %s = %q, want %q", k, got[k], v)
		}
	}
	if !files["bolts/wordcount.py"] || files["bolts/"] || len(files) != 4 {
		t.Errorf("files = %v", files)
	}
	again, _, _ := Resources(quickstartJar(t))
	if !bytes.Equal(tgz, again) {
		t.Error("the same jar packs to different tarballs: the digest would change")
	}
}

func TestResourcesRejects(t *testing.T) {
	big := strings.Repeat("\x00", MaxResourcesBytes+1)
	tests := []struct {
		name    string
		jar     []byte
		wantErr string
	}{
		{"not a zip", []byte("PK nonsense"), "the uploaded jar is not a zip file"},
		{"zip slip", makeZip(t, zipEntry{name: "resources/../../etc/cron.d/x", body: "x"}), `"resources/../../etc/cron.d/x" leaves the resources directory`},
		{"absolute", makeZip(t, zipEntry{name: "resources//etc/passwd", body: "x"}), "leaves the resources directory"},
		{"backslash", makeZip(t, zipEntry{name: `resources/..\..\x`, body: "x"}), "leaves the resources directory"},
		{"symlink", makeZip(t, zipEntry{name: "resources/link", body: "/etc/passwd", mode: fs.ModeSymlink | 0o777}), `"resources/link" is a symlink`},
		{"no resources", makeZip(t, zipEntry{name: "bolts/x.py", body: "x"}), "the jar has no resources/ directory"},
		{"lein dependencies", makeZip(t, zipEntry{name: "resources/a.py"}, zipEntry{name: "clojure/core.clj", body: "x"}),
			"set `:dependencies []` in project.clj"},
		{"storm-core", makeZip(t, zipEntry{name: "org/apache/storm/Config.class", body: "x"}), "contains org/apache/storm/Config.class"},
		{"too big", makeZip(t, zipEntry{name: "resources/big.bin", body: big}), "more than 67108864 bytes"},
		{"twice", makeZip(t, zipEntry{name: "resources/a.py"}, zipEntry{name: "resources/a.py"}), `"resources/a.py" is given twice`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := Resources(tt.jar)
			if err == nil || !errors.Is(err, ErrInvalidTopology) || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want ErrInvalidTopology with %q", err, tt.wantErr)
			}
		})
	}
}

func TestNewSubmission(t *testing.T) {
	topo := readTopology(t, "wordcount")
	topo.Spouts["word_spout"].SpoutObject.Shell.Script = "-s json spouts.words.WordSpout"
	topo.Bolts["count_bolt"].BoltObject.Shell.Script = "-s json bolts.wordcount.WordCountBolt"
	s, err := NewSubmission("wc", `{"topology.workers": 1}`, topo, quickstartJar(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	if s.Kind != FluxKind || !strings.Contains(s.Conf[ConfFluxYAML], "name: wc\n") || s.Inactive || len(s.Resources) == 0 {
		t.Errorf("submission %+v", s)
	}
	if !strings.Contains(s.Conf[ConfFluxYAML], "topology.workers: 1") {
		t.Errorf("the jsonConf is not the definition's config:\n%s", s.Conf[ConfFluxYAML])
	}

	topo.Bolts["count_bolt"].BoltObject.Shell.Script = "-s json bolts.counter.CountBolt"
	_, err = NewSubmission("wc", "{}", topo, quickstartJar(t), nil)
	if err == nil || !strings.Contains(err.Error(), `"count_bolt" runs bolts.counter.CountBolt, but the jar's resources/ has no bolts/counter.py`) {
		t.Errorf("missing module: err = %v", err)
	}
	_, err = NewSubmission("wc", "[1]", topo, quickstartJar(t), nil)
	if err == nil || !errors.Is(err, ErrInvalidTopology) || !strings.Contains(err.Error(), "jsonConf is not a JSON object") {
		t.Errorf("bad jsonConf: err = %v", err)
	}
}
