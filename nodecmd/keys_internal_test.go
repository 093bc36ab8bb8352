package nodecmd

import (
	"errors"
	"strings"
	"testing"

	"github.com/squall-streams/squall/topology"
)

func TestCheckKeys(t *testing.T) {
	known := []string{"wordcount.input", "wordcount.lines", "wordcount.output"}
	for _, tc := range []struct {
		name  string
		known []string
		conf  topology.Config
		want  []string // in the error; nil: no error
	}{
		{"none set", known, topology.Config{}, nil},
		{"known", known, topology.Config{"wordcount.input": "f", "wordcount.lines": "3"}, nil},
		{"Storm's and squall's", known, topology.Config{"topology.workers": "3", "topology.max.spout.pending": "9", "squall.resources.dir": "/x"}, nil},
		{"undeclared: unchecked", nil, topology.Config{"anything": "x"}, nil},
		{"a typo", known, topology.Config{"wordcount.inptu": "f"},
			[]string{`wc: "wordcount.inptu" (did you mean wordcount.input?): it reads wordcount.input, wordcount.lines, wordcount.output, and Storm's topology.* and squall's squall.* keys`}},
		{"far from any", known, topology.Config{"color": "red", "wordcount.input": "f"}, []string{`wc: "color": it reads`}},
		{"two, sorted", known, topology.Config{"zz": "1", "aa": "2"}, []string{`"aa", "zz"`}},
		{"storm. is not topology.", known, topology.Config{"storm.zookeeper.servers": "z"}, []string{`"storm.zookeeper.servers"`}},
		{"an empty set of keys", []string{}, topology.Config{"x": "1"}, []string{`"x": it reads , and Storm's`}},
	} {
		err := checkKeys("wc", tc.known, tc.conf)
		if tc.want == nil {
			if err != nil {
				t.Errorf("%s: %v", tc.name, err)
			}
			continue
		}
		if !errors.Is(err, ErrUnknownKey) {
			t.Errorf("%s: %v, want ErrUnknownKey", tc.name, err)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: %q does not contain %q", tc.name, err, w)
			}
		}
	}
}

func TestEditDistance(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		d    int
	}{{"", "", 0}, {"a", "", 1}, {"inptu", "input", 2}, {"kitten", "sitting", 3}, {"same", "same", 0}} {
		if d := editDistance(tc.a, tc.b); d != tc.d {
			t.Errorf("editDistance(%q, %q) = %d, want %d", tc.a, tc.b, d, tc.d)
		}
	}
}
