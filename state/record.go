package state

import (
	"fmt"
	"maps"
	"slices"

	"google.golang.org/protobuf/proto"

	"github.com/squall-streams/squall/state/internal/statepb"
	"github.com/squall-streams/squall/topology"
)

// TaskCheckpoint is what one task contributed to a checkpoint besides its
// state: a spout's position (topology.CheckpointedSpout), a two-phase
// sink's committable (topology.TwoPhaseSink).
type TaskCheckpoint struct {
	Position    []byte
	Committable []byte
}

// EncodeCheckpointRecord is the coordinator's completed record of a
// checkpoint, every task's contribution, as the meta a Store commits.
func EncodeCheckpointRecord(tasks map[topology.TaskID]TaskCheckpoint) ([]byte, error) {
	rec := &statepb.CheckpointRecord{}
	for _, task := range slices.Sorted(maps.Keys(tasks)) {
		tc := tasks[task]
		if len(tc.Position) == 0 && len(tc.Committable) == 0 {
			continue
		}
		rec.Tasks = append(rec.Tasks, &statepb.TaskCheckpoint{Task: int32(task), Position: tc.Position, Committable: tc.Committable})
	}
	return proto.MarshalOptions{Deterministic: true}.Marshal(rec)
}

// DecodeCheckpointRecord reads what EncodeCheckpointRecord wrote. Malformed
// bytes, a task listed twice or a task id below 1 are errors wrapping
// ErrCorrupt.
func DecodeCheckpointRecord(b []byte) (map[topology.TaskID]TaskCheckpoint, error) {
	var rec statepb.CheckpointRecord
	if err := proto.Unmarshal(b, &rec); err != nil {
		return nil, fmt.Errorf("%w checkpoint record: %w", ErrCorrupt, err)
	}
	out := make(map[topology.TaskID]TaskCheckpoint, len(rec.GetTasks()))
	for _, t := range rec.GetTasks() {
		task := topology.TaskID(t.GetTask())
		if task < 1 {
			return nil, fmt.Errorf("%w checkpoint record: task %d", ErrCorrupt, task)
		}
		if _, dup := out[task]; dup {
			return nil, fmt.Errorf("%w checkpoint record: task %d listed twice", ErrCorrupt, task)
		}
		out[task] = TaskCheckpoint{Position: t.GetPosition(), Committable: t.GetCommittable()}
	}
	return out, nil
}
