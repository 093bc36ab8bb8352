package flux_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/squall-streams/squall/flux"
)

// FuzzLoad: no input makes Load panic; it builds a topology or returns an
// error. (Building makes shell component factories but starts nothing.)
func FuzzLoad(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.yaml"))
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	for _, s := range []string{
		"", "name: x", "- [", "name: &a x\nspouts: *a", "spouts:\n  - &c {id: s, command: x}\n  - *c\n",
		"name: t\nspouts:\n  - {id: s, command: [x], outputs: {default: {fields: [a], direct: yes}}}\n",
		"name: t\nspouts: [{id: s, command: x, fields: [a]}]\nbolts: [{id: b, className: org.apache.storm.flux.wrappers.bolts.FluxShellBolt, constructorArgs: [[x], [a]], configMethods: [{name: setNamedStream, args: [s, [b]]}]}]\nstreams: [{from: s, to: b, grouping: {type: custom, customClass: {className: org.apache.storm.grouping.PartialKeyGrouping, constructorArgs: [[a]]}}}]\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 64<<10 {
			return
		}
		topo, err := flux.Load(data)
		if err == nil && topo == nil {
			t.Fatal("no topology and no error")
		}
	})
}
