package multilang

import (
	"bytes"
	"errors"
	"math"
	"os"
	"path/filepath"
	"runtime/metrics"
	"testing"
)

// The fuzzers choose the decoder's size limit too (limit+1 bytes), so they
// explore both ErrTooLarge and inputs nested to the depth limit. Seeds use
// seedLimit, or smallLimit to hit the size limit.
const (
	seedLimit  = math.MaxUint16
	smallLimit = 63
)

// fuzzMaxMessages bounds the messages decoded from one input.
const fuzzMaxMessages = 256

func FuzzDecodeJSON(f *testing.F) {
	for _, seed := range []string{
		"{\"command\":\"sync\"}\nend\n",
		"{\"pid\": 1234}\nend\n",
		"[12, 22, 24]\nend\n",
		"\n\n{\"command\": \"emit\", \"tuple\": [1, 2.5, \"x\", null, true, {\"a\": [1e400]}], \"anchors\": \"a\"}\r\nend\r\n",
		"{\"command\":\"log\",\"msg\":\"m\",\"level\":\"x\"}\nend",
		"{\"id\":\"1\",\"comp\":null,\"stream\":\"__heartbeat\",\"task\":-1,\"tuple\":[]}\nend\n",
		"end\n{}\nend\n{\"command\":\n",
		"{\"command\":\"emit\",\"tuple\":[],\"id\":1.50}\nend\n",
	} {
		f.Add([]byte(seed), false, uint16(seedLimit))
		f.Add([]byte(seed), true, uint16(smallLimit))
	}
	addGoldenSeeds(f, JSON)
	f.Fuzz(func(t *testing.T, data []byte, fromSquall bool, limit uint16) {
		fuzzDecode(t, data, JSON, fromSquall, int(limit)+1)
	})
}

func FuzzDecodeMsgpack(f *testing.F) {
	for _, seed := range [][]byte{
		{0x81, 0xa7, 'c', 'o', 'm', 'm', 'a', 'n', 'd', 0xa4, 's', 'y', 'n', 'c'},
		{0x81, 0xa3, 'p', 'i', 'd', 0xcd, 0x04, 0xd2},
		{0x93, 0x0c, 0x16, 0x18},
		{0xdb, 0xff, 0xff, 0xff, 0xff},
		{0xdd, 0x7f, 0xff, 0xff, 0xff, 0xc0},
		{0x91, 0xd6, 0xff, 0, 0, 0, 0},
		{0x81, 0x90, 0xc0},
		{0xc1},
	} {
		f.Add(seed, false, uint16(seedLimit))
		f.Add(seed, true, uint16(smallLimit))
	}
	addGoldenSeeds(f, Msgpack)
	f.Fuzz(func(t *testing.T, data []byte, fromSquall bool, limit uint16) {
		fuzzDecode(t, data, Msgpack, fromSquall, int(limit)+1)
	})
}

// addGoldenSeeds seeds a fuzzer with the golden transcripts.
func addGoldenSeeds(f *testing.F, s Serializer) {
	for _, kind := range []string{"bolt", "spout"} {
		for dir, fromSquall := range map[string]bool{"in": true, "out": false} {
			b, err := os.ReadFile(filepath.Join("testdata", kind+"."+s.String()+"."+dir))
			if err != nil {
				f.Fatal(err)
			}
			f.Add(b, fromSquall, uint16(seedLimit))
			f.Add(b, fromSquall, uint16(smallLimit))
		}
	}
}

var sentinels = []error{ErrBrokenPipe, ErrTooLarge, ErrMalformed, ErrUnknownCommand, ErrMissingField, ErrWrongType}

// fuzzDecode decodes data until the stream ends and checks that the decoder
// does not panic, returns only sentinel errors, keeps fatal errors sticky,
// allocates within a bound, and that every message it returns encodes to a
// fixed point: encode(decode(encode(m))) == encode(m).
func fuzzDecode(t *testing.T, data []byte, s Serializer, fromSquall bool, maxSize int) {
	side := FromSubprocess
	if fromSquall {
		side = FromSquall
	}
	before := allocatedBytes()

	dec, err := NewDecoder(bytes.NewReader(data), s, side, WithMaxMessageSize(maxSize))
	if err != nil {
		t.Fatal(err)
	}
	var msgs []Message
	for range fuzzMaxMessages {
		m, err := dec.Decode()
		if err != nil {
			n := 0
			for _, s := range sentinels {
				if errors.Is(err, s) {
					n++
				}
			}
			if n != 1 {
				t.Fatalf("error wraps %d sentinels, want 1: %v", n, err)
			}
			if dec.fatal(err) {
				if _, again := dec.Decode(); again != err {
					t.Fatalf("fatal error not sticky: %v, then %v", err, again)
				}
				break
			}
			continue
		}
		msgs = append(msgs, m)
	}

	// Decoding allocates a small multiple of the input, plus the buffers.
	// The count is process-wide, hence the generous constant.
	if n, limit := allocatedBytes()-before, uint64(256*len(data)+4<<20); n > limit {
		t.Errorf("decoding %d bytes allocated %d bytes (limit %d)", len(data), n, limit)
	}

	for _, m := range msgs {
		b1, err := AppendFrame(nil, s, m)
		if err != nil {
			t.Fatalf("re-encoding %#v: %v", m, err)
		}
		d2, err := NewDecoder(bytes.NewReader(b1), s, side)
		if err != nil {
			t.Fatal(err)
		}
		m2, err := d2.Decode()
		if err != nil {
			t.Fatalf("decoding re-encoded %q: %v", b1, err)
		}
		b2, err := AppendFrame(nil, s, m2)
		if err != nil || !bytes.Equal(b1, b2) {
			t.Fatalf("not a fixed point (%v):\n%q\n%q", err, b1, b2)
		}
	}
}

// allocatedBytes is the process's cumulative heap allocation. Unlike
// runtime.ReadMemStats it does not stop the world, so fuzzing stays fast.
func allocatedBytes() uint64 {
	s := []metrics.Sample{{Name: "/gc/heap/allocs:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}
