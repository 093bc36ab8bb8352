package kafka

import (
	"testing"
)

// FuzzMetadataTopologyID: commit metadata is outside bytes (any client of
// the group may have written it); reading it must never panic.
func FuzzMetadataTopologyID(f *testing.F) {
	f.Add(`{"topologyId":"wc@1","taskId":3,"threadName":"t"}`)
	f.Add(`{"topologyId":3}`)
	f.Add("")
	f.Add("not json")
	f.Fuzz(func(t *testing.T, metadata string) {
		id := metadataTopologyID(metadata)
		if id != "" && decideStart(Earliest, 0, metadata, id) != startResume {
			t.Fatalf("metadata %q names topology %q but is not ours", metadata, id)
		}
	})
}
