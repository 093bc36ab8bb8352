package messages

import (
	"errors"
	"math"
	"reflect"
	"testing"

	"go.uber.org/goleak"
	"google.golang.org/protobuf/proto"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestValuesRoundTrip(t *testing.T) {
	cases := []struct {
		name string
		in   any
		want any
	}{
		{"nil", nil, nil},
		{"string", "héllo", "héllo"},
		{"empty string", "", ""},
		{"bytes", []byte{0, 1, 255}, []byte{0, 1, 255}},
		{"int", 42, int64(42)},
		{"int64 min", int64(math.MinInt64), int64(math.MinInt64)},
		{"int32", int32(-7), int64(-7)},
		{"uint32", uint32(math.MaxUint32), int64(math.MaxUint32)},
		{"float64", 3.25, 3.25},
		{"float32", float32(0.5), 0.5},
		{"bool", true, true},
		{"list", []any{"a", int64(1), []any{false, nil}}, []any{"a", int64(1), []any{false, nil}}},
		{"empty list", []any{}, []any{}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w, err := ValuesFromGo([]any{c.in})
			if err != nil {
				t.Fatal(err)
			}
			// Through the wire and back.
			b, err := proto.Marshal(&Tuple{Values: w})
			if err != nil {
				t.Fatal(err)
			}
			var tu Tuple
			if err := proto.Unmarshal(b, &tu); err != nil {
				t.Fatal(err)
			}
			got, err := ValuesToGo(tu.Values)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got[0], c.want) {
				t.Fatalf("got %#v, want %#v", got[0], c.want)
			}
		})
	}
}

func TestFromGoRejectsUnsupported(t *testing.T) {
	for _, v := range []any{struct{}{}, map[string]any{}, []string{"x"}, uint64(1), []any{make(chan int)}} {
		if _, err := FromGo(v); !errors.Is(err, ErrUnsupportedValue) {
			t.Errorf("FromGo(%T) = %v, want ErrUnsupportedValue", v, err)
		}
	}
	deep := any("x")
	for range MaxListDepth + 1 {
		deep = []any{deep}
	}
	if _, err := FromGo(deep); !errors.Is(err, ErrUnsupportedValue) {
		t.Errorf("deep list: %v", err)
	}
}

// FuzzValues feeds arbitrary bytes to the tuple batch decoder and the value
// conversion: malformed input must be rejected, never panic.
func FuzzValues(f *testing.F) {
	w, _ := ValuesFromGo([]any{"word", int64(3), []any{1.5, true, nil}, []byte("b")})
	seed, _ := proto.Marshal(&TupleBatch{Topology: "t", Epoch: 1, Tuples: []*Tuple{{Stream: "default", Values: w, Anchors: []*Edge{{Root: 1, Id: 2}}}}})
	f.Add(seed)
	f.Add([]byte{})
	f.Add([]byte{0x1a, 0xff, 0xff, 0xff, 0xff, 0x0f})
	f.Fuzz(func(t *testing.T, b []byte) {
		var batch TupleBatch
		if err := proto.Unmarshal(b, &batch); err != nil {
			return
		}
		for _, tu := range batch.Tuples {
			vs, err := ValuesToGo(tu.Values)
			if err != nil {
				if !errors.Is(err, ErrMalformed) {
					t.Fatalf("error not ErrMalformed: %v", err)
				}
				continue
			}
			// What decodes must encode again.
			if _, err := ValuesFromGo(vs); err != nil {
				t.Fatalf("re-encode %v: %v", vs, err)
			}
		}
	})
}
