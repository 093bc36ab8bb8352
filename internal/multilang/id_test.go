package multilang

import (
	"errors"
	"testing"
)

func TestID(t *testing.T) {
	num, err := NumberID("1.50")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		id       ID
		zero     bool
		number   bool
		str      string
		goString string
		json     string
	}{
		{"zero", ID{}, true, false, "", "multilang.ID{}", ""},
		{"string", StringID("-6955786537413359385"), false, false, "-6955786537413359385", `multilang.StringID("-6955786537413359385")`, `"-6955786537413359385"`},
		{"empty string", StringID(""), false, false, "", `multilang.StringID("")`, `""`},
		{"int", IntID(-7), false, true, "-7", "multilang.IntID(-7)", "-7"},
		{"number literal kept", num, false, true, "1.50", `multilang.NumberID("1.50")`, "1.50"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.id.IsZero() != tt.zero || tt.id.IsNumber() != tt.number || tt.id.String() != tt.str || tt.id.GoString() != tt.goString {
				t.Errorf("got zero=%v number=%v String=%q GoString=%q", tt.id.IsZero(), tt.id.IsNumber(), tt.id.String(), tt.id.GoString())
			}
			if tt.zero {
				return
			}
			b, err := AppendFrame(nil, JSON, Ack{ID: tt.id})
			if err != nil {
				t.Fatal(err)
			}
			if want := `{"command":"ack","id":` + tt.json + "}\nend\n"; string(b) != want {
				t.Errorf("JSON = %q, want %q", b, want)
			}
		})
	}
	if StringID("1") == IntID(1) {
		t.Error("StringID(\"1\") == IntID(1)")
	}
	if n, ok := IntID(42).Int64(); !ok || n != 42 {
		t.Errorf("IntID(42).Int64() = %d, %v", n, ok)
	}
	if _, ok := StringID("42").Int64(); ok {
		t.Error("StringID(\"42\").Int64() ok")
	}
}

func TestNumberIDRejects(t *testing.T) {
	for _, lit := range []string{"", "x", "1 ", " 1", "01", "1.", "NaN", "--1", "1e", "0x10", `"1"`} {
		if _, err := NumberID(lit); !errors.Is(err, ErrWrongType) {
			t.Errorf("NumberID(%q) error = %v, want ErrWrongType", lit, err)
		}
	}
}
