package messages

import (
	"errors"
	"fmt"
)

// ErrUnsupportedValue is wrapped by FromGo for a value that cannot cross a node.
var ErrUnsupportedValue = errors.New("unsupported tuple value")

// ErrMalformed is wrapped by ToGo for a value received in a shape squall
// never sends.
var ErrMalformed = errors.New("malformed tuple value")

// MaxListDepth bounds nested lists, on both sides.
const MaxListDepth = 32

// FromGo converts a tuple value to its wire form: string, []byte, the Go
// integer types (as int64), float32/float64, bool, nil, and []any of these.
func FromGo(v any) (*Value, error) { return fromGo(v, 0) }

func fromGo(v any, depth int) (*Value, error) {
	switch x := v.(type) {
	case nil:
		return &Value{}, nil
	case string:
		return &Value{Kind: &Value_Str{Str: x}}, nil
	case []byte:
		return &Value{Kind: &Value_Bytes{Bytes: x}}, nil
	case int:
		return &Value{Kind: &Value_Int{Int: int64(x)}}, nil
	case int64:
		return &Value{Kind: &Value_Int{Int: x}}, nil
	case int32:
		return &Value{Kind: &Value_Int{Int: int64(x)}}, nil
	case uint32:
		return &Value{Kind: &Value_Int{Int: int64(x)}}, nil
	case float64:
		return &Value{Kind: &Value_Double{Double: x}}, nil
	case float32:
		return &Value{Kind: &Value_Double{Double: float64(x)}}, nil
	case bool:
		return &Value{Kind: &Value_Bool{Bool: x}}, nil
	case []any:
		if depth >= MaxListDepth {
			return nil, fmt.Errorf("%w: lists nested deeper than %d", ErrUnsupportedValue, MaxListDepth)
		}
		l := &List{Values: make([]*Value, len(x))}
		for i, e := range x {
			ev, err := fromGo(e, depth+1)
			if err != nil {
				return nil, fmt.Errorf("list element %d: %w", i, err)
			}
			l.Values[i] = ev
		}
		return &Value{Kind: &Value_List{List: l}}, nil
	default:
		return nil, fmt.Errorf("%w: %T (use string, []byte, int64, float64, bool, nil or []any)", ErrUnsupportedValue, v)
	}
}

// ToGo converts a wire value back: integers come back as int64, floats as
// float64, lists as []any.
func ToGo(v *Value) (any, error) { return toGo(v, 0) }

func toGo(v *Value, depth int) (any, error) {
	if v == nil {
		return nil, nil
	}
	switch k := v.Kind.(type) {
	case nil:
		return nil, nil
	case *Value_Str:
		return k.Str, nil
	case *Value_Bytes:
		return k.Bytes, nil
	case *Value_Int:
		return k.Int, nil
	case *Value_Double:
		return k.Double, nil
	case *Value_Bool:
		return k.Bool, nil
	case *Value_List:
		if depth >= MaxListDepth {
			return nil, fmt.Errorf("%w: lists nested deeper than %d", ErrMalformed, MaxListDepth)
		}
		if k.List == nil {
			return []any{}, nil
		}
		out := make([]any, len(k.List.Values))
		for i, e := range k.List.Values {
			g, err := toGo(e, depth+1)
			if err != nil {
				return nil, err
			}
			out[i] = g
		}
		return out, nil
	default:
		return nil, fmt.Errorf("%w: unknown kind %T", ErrMalformed, k)
	}
}

// ValuesFromGo converts a tuple's values.
func ValuesFromGo(vs []any) ([]*Value, error) {
	out := make([]*Value, len(vs))
	for i, v := range vs {
		w, err := FromGo(v)
		if err != nil {
			return nil, fmt.Errorf("field %d: %w", i, err)
		}
		out[i] = w
	}
	return out, nil
}

// ValuesToGo converts a received tuple's values.
func ValuesToGo(vs []*Value) ([]any, error) { return ValuesToGoInto(vs, make([]any, len(vs))) }

// ValuesToGoInto is ValuesToGo into out, which is as long as vs (a
// receiver that allocates the values of many tuples at once).
func ValuesToGoInto(vs []*Value, out []any) ([]any, error) {
	for i, v := range vs {
		g, err := ToGo(v)
		if err != nil {
			return nil, fmt.Errorf("field %d: %w", i, err)
		}
		out[i] = g
	}
	return out, nil
}
