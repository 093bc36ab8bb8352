package wordcount

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// LedgerEntry is one count a count task recorded in its ledger (see
// CountBolt.LedgerDir): the word at position Pos of line Line.
type LedgerEntry struct {
	Line, Pos int64
	Word      string
}

// ReadLedgers reads every ledger-<task>.tsv in dir. A last line that is not
// line<TAB>position<TAB>word was cut by a node killed mid-write (or is
// being written): it is counted in torn. Such a line anywhere else is an
// error.
func ReadLedgers(dir string) (entries []LedgerEntry, torn int, err error) {
	files, err := filepath.Glob(filepath.Join(dir, "ledger-*.tsv"))
	if err != nil {
		return nil, 0, err
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, 0, err
		}
		sc := bufio.NewScanner(strings.NewReader(string(b)))
		var bad string
		for sc.Scan() {
			if bad != "" {
				return nil, 0, fmt.Errorf("%s: malformed ledger line %q", f, bad)
			}
			e, ok := parseLedgerLine(sc.Text())
			if !ok {
				bad = sc.Text()
				continue
			}
			entries = append(entries, e)
		}
		if bad != "" {
			torn++
		}
	}
	return entries, torn, nil
}

func parseLedgerLine(s string) (LedgerEntry, bool) {
	parts := strings.Split(s, "\t")
	if len(parts) != 3 {
		return LedgerEntry{}, false
	}
	line, err1 := strconv.ParseInt(parts[0], 10, 64)
	pos, err2 := strconv.ParseInt(parts[1], 10, 64)
	return LedgerEntry{line, pos, parts[2]}, err1 == nil && err2 == nil
}
