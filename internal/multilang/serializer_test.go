package multilang

import (
	"errors"
	"strings"
	"testing"
)

func TestParseSerializer(t *testing.T) {
	tests := []struct {
		value   string
		want    Serializer
		wantErr bool
	}{
		{"", JSON, false},
		{"org.apache.storm.multilang.JsonSerializer", JSON, false},
		{"com.yelp.pyleus.serializer.MessagePackSerializer", Msgpack, false},
		{"msgpack", Msgpack, false},
		{"json", JSON, false},
		{"backtype.storm.multilang.JsonSerializer", JSON, false},
		{"MSGPACK", 0, true},
		{" msgpack", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.value, func(t *testing.T) {
			got, err := ParseSerializer(tt.value)
			if tt.wantErr {
				if !errors.Is(err, ErrUnknownSerializer) {
					t.Fatalf("ParseSerializer(%q) error = %v, want ErrUnknownSerializer", tt.value, err)
				}
				for _, part := range []string{SerializerKey, tt.value} {
					if !strings.Contains(err.Error(), part) {
						t.Errorf("error %q does not name %q", err, part)
					}
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("ParseSerializer(%q) = %v, %v; want %v", tt.value, got, err, tt.want)
			}
		})
	}
}

func TestSerializerFromConf(t *testing.T) {
	tests := []struct {
		name    string
		conf    map[string]any
		want    Serializer
		wantErr bool
	}{
		{"nil conf", nil, JSON, false},
		{"absent", map[string]any{"topology.name": "x"}, JSON, false},
		{"null", map[string]any{SerializerKey: nil}, JSON, false},
		{"json class", map[string]any{SerializerKey: JSONSerializerClass}, JSON, false},
		{"pyleus class", map[string]any{SerializerKey: MsgpackSerializerClass}, Msgpack, false},
		{"msgpack", map[string]any{SerializerKey: "msgpack"}, Msgpack, false},
		{"unknown", map[string]any{SerializerKey: "thrift"}, 0, true},
		{"not a string", map[string]any{SerializerKey: int64(1)}, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := SerializerFromConf(tt.conf)
			if tt.wantErr {
				if !errors.Is(err, ErrUnknownSerializer) || !strings.Contains(err.Error(), SerializerKey) {
					t.Fatalf("error = %v, want ErrUnknownSerializer naming %s", err, SerializerKey)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("= %v, %v; want %v", got, err, tt.want)
			}
		})
	}
}

func TestSerializerString(t *testing.T) {
	for s, want := range map[Serializer]string{JSON: "json", Msgpack: "msgpack", 0: "Serializer(0)"} {
		if got := s.String(); got != want {
			t.Errorf("%d.String() = %q, want %q", s, got, want)
		}
	}
}
