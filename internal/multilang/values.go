package multilang

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
)

// Tuple values, "params" of Metrics and "conf" of a Handshake are JSON
// values. Decoders map them to Go values like this:
//
//	JSON / msgpack                     Go
//	string (msgpack str)               string
//	integer in int64 range             int64   (never float64)
//	integer out of int64 range         float64 (as JavaScript would; Storm rejects it)
//	other number (1.5, 1e3, 2.0)       float64
//	true, false                        bool
//	null (msgpack nil)                 nil
//	array                              []any
//	object (msgpack map)               map[string]any
//	msgpack bin                        []byte
//
// msgpack map keys that are not strings are turned into the strings JSON
// would have made of them (1 -> "1", 1.5 -> "1.5", true -> "true",
// nil -> "null"), so the same pystorm code yields the same Go values under
// both serializers. A msgpack extension type, a list or map as a key, a JSON
// number that overflows float64 and nesting deeper than 10000 are errors.
//
// Encoders accept those types, every Go integer and float type, []string,
// []int, []int64, []float64, map[string]string and map[string][]string
// without reflection, and anything else through encoding/json (JSON) or
// msgpack's reflection (msgpack). Floats are always written so that a JSON
// reader sees a float: 1.0 is written "1.0", not "1". []byte is a base64
// string in JSON (as encoding/json writes it) and a bin in msgpack.

// maxDepth bounds the nesting of decoded and encoded values, like
// encoding/json's limit.
const maxDepth = 10000

// normalizeJSON replaces the json.Numbers of a value decoded with UseNumber
// by int64 or float64, in place, and returns the value.
func normalizeJSON(v any) (any, error) {
	switch v := v.(type) {
	case json.Number:
		return numberValue(v)
	case []any:
		for i, e := range v {
			n, err := normalizeJSON(e)
			if err != nil {
				return nil, err
			}
			v[i] = n
		}
		return v, nil
	case map[string]any:
		for k, e := range v {
			n, err := normalizeJSON(e)
			if err != nil {
				return nil, err
			}
			v[k] = n
		}
		return v, nil
	default:
		return v, nil
	}
}

func numberValue(n json.Number) (any, error) {
	if i, err := strconv.ParseInt(string(n), 10, 64); err == nil {
		return i, nil
	}
	f, err := strconv.ParseFloat(string(n), 64)
	if err != nil || math.IsInf(f, 0) {
		return nil, fmt.Errorf("%w: number %s overflows float64", ErrWrongType, truncate(string(n), 40))
	}
	return f, nil
}

// kindOf names the JSON type of a decoded value, for error messages.
func kindOf(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "string"
	case []byte:
		return "bytes"
	case json.Number, int64, float64:
		return "number"
	case bool:
		return "bool"
	case []any:
		return "list"
	case map[string]any:
		return "object"
	default:
		return fmt.Sprintf("%T", v)
	}
}

// appendJSONFloat appends f as encoding/json formats it, plus ".0" when that
// would read back as an integer. bits is 32 or 64.
func appendJSONFloat(b []byte, f float64, bits int) []byte {
	abs := math.Abs(f)
	format := byte('f')
	if abs != 0 {
		if bits == 64 && (abs < 1e-6 || abs >= 1e21) || bits == 32 && (float32(abs) < 1e-6 || float32(abs) >= 1e21) {
			format = 'e'
		}
	}
	start := len(b)
	b = strconv.AppendFloat(b, f, format, -1, bits)
	if format == 'e' {
		// clean up e-09 to e-9
		n := len(b)
		if n-start >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
		return b
	}
	for _, c := range b[start:] {
		if c == '.' {
			return b
		}
	}
	return append(b, '.', '0')
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
