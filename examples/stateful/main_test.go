package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestCountsExactlyOnceThroughACrash: the count bolt panics once at 40 %
// of the words; the committed output still holds every word's counts 1..n
// exactly once, and counts.tsv the true counts.
func TestCountsExactlyOnceThroughACrash(t *testing.T) {
	dir := t.TempDir()
	vocab := []string{"storm", "flink", "kafka", "squall", "spout", "bolt", "tuple", "barrier"}
	var text strings.Builder
	want := map[string]int{}
	words := 0
	for range 3000 {
		for range 1 + rand.IntN(9) {
			w := vocab[rand.IntN(len(vocab))]
			want[w]++
			words++
			text.WriteString(w + " ")
		}
		text.WriteString("\n")
	}
	input := filepath.Join(dir, "input.txt")
	if err := os.WriteFile(input, []byte(text.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out")
	res, err := run(context.Background(), input, out, int64(words*40/100), filepath.Join(dir, "state"))
	if err != nil {
		t.Fatal(err)
	}
	if res.Restores < 1 || res.Words != words {
		t.Errorf("result %+v: want a restore and %d words", res, words)
	}
	recs, err := readCommitted(out)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]map[int]int{}
	for _, r := range recs {
		n, _ := strconv.Atoi(r[1])
		if seen[r[0]] == nil {
			seen[r[0]] = map[int]int{}
		}
		seen[r[0]][n]++
	}
	for w, total := range want {
		for n := 1; n <= total; n++ {
			if seen[w][n] != 1 {
				t.Errorf("word %q: count %d committed %d times, want once", w, n, seen[w][n])
			}
		}
		if len(seen[w]) != total {
			t.Errorf("word %q: %d distinct counts committed, want %d", w, len(seen[w]), total)
		}
	}
	got, err := os.ReadFile(filepath.Join(out, "counts.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	for w, total := range want {
		if !strings.Contains(string(got), fmt.Sprintf("%s\t%d\n", w, total)) {
			t.Errorf("counts.tsv has no line %q\t%d", w, total)
		}
	}
}
