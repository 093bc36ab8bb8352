package multilang

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
)

// ID is a multilang message or tuple id: a JSON string or a JSON number.
//
// ShellBolt's tuple ids are strings (Long.toString of a random long), and
// pystorm echoes them back as strings. A spout's emit id is whatever the
// user's code chose and may be a string or a number; Storm echoes it back
// verbatim in ack and fail, and so does squall: a number keeps its literal
// text ("1", "1.50") and is written back with that text in JSON.
//
// The zero ID means "no id" (an unreliable emit). ID is comparable, so it can
// key the shell task's map of pending tuples; StringID("1") and IntID(1) are
// different ids, as they are in Python.
type ID struct {
	text   string
	number bool
	set    bool
}

// StringID returns an id that is the JSON string s.
func StringID(s string) ID { return ID{text: s, set: true} }

// IntID returns an id that is the JSON number n.
func IntID(n int64) ID { return ID{text: strconv.FormatInt(n, 10), number: true, set: true} }

// NumberID returns an id that is the JSON number with the given literal text
// ("42", "-1.5e3"). It is an error if literal is not a JSON number.
func NumberID(literal string) (ID, error) {
	if !isJSONNumber(literal) {
		return ID{}, fmt.Errorf("multilang: id %q: %w: not a JSON number", literal, ErrWrongType)
	}
	return ID{text: literal, number: true, set: true}, nil
}

// floatID is the id for a msgpack float; callers have rejected NaN and Inf.
func floatID(f float64) ID {
	return ID{text: string(appendJSONFloat(nil, f, 64)), number: true, set: true}
}

// IsZero reports whether the id is absent.
func (id ID) IsZero() bool { return !id.set }

// IsNumber reports whether the id is a JSON number rather than a string.
func (id ID) IsNumber() bool { return id.number }

// String returns the string, or the number's literal text. It does not
// quote strings, so StringID("7") and IntID(7) print alike; use GoString or
// IsNumber to tell them apart.
func (id ID) String() string { return id.text }

// GoString formats the id for %#v: multilang.StringID("x"), multilang.IntID(7).
func (id ID) GoString() string {
	switch {
	case !id.set:
		return "multilang.ID{}"
	case id.number:
		if _, err := strconv.ParseInt(id.text, 10, 64); err == nil {
			return "multilang.IntID(" + id.text + ")"
		}
		return "multilang.NumberID(" + strconv.Quote(id.text) + ")"
	default:
		return "multilang.StringID(" + strconv.Quote(id.text) + ")"
	}
}

// Int64 returns the id as an integer if it is a number that is one.
func (id ID) Int64() (int64, bool) {
	if !id.number {
		return 0, false
	}
	n, err := strconv.ParseInt(id.text, 10, 64)
	return n, err == nil
}

// isJSONNumber reports whether s is exactly one JSON number literal.
func isJSONNumber(s string) bool {
	if s == "" || (s[0] != '-' && (s[0] < '0' || s[0] > '9')) {
		return false
	}
	if !json.Valid([]byte(s)) {
		return false
	}
	// json.Valid accepts surrounding whitespace; an id literal has none.
	last := s[len(s)-1]
	return last >= '0' && last <= '9'
}

// idFromValue converts a decoded JSON or msgpack value to an ID.
func idFromValue(v any) (ID, error) {
	switch v := v.(type) {
	case string:
		return StringID(v), nil
	case []byte: // a msgpack bin, as an old msgpack-python may send strings
		return StringID(string(v)), nil
	case json.Number:
		return ID{text: string(v), number: true, set: true}, nil
	case int64:
		return IntID(v), nil
	case float64:
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return ID{}, fmt.Errorf("%w: got %v, want a string or a finite number", ErrWrongType, v)
		}
		return floatID(v), nil
	default:
		return ID{}, fmt.Errorf("%w: got %s, want a string or a number", ErrWrongType, kindOf(v))
	}
}
