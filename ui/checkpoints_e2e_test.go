//go:build unix

package ui_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/squall-streams/squall/cluster"
	"github.com/squall-streams/squall/cluster/clustertest"
	"github.com/squall-streams/squall/topology"
)

// numberSpout emits 0, 1, 2, … without end; its checkpointed position is
// the next number, so it runs exactly-once.
type numberSpout struct {
	topology.BaseSpout
	next int64
	out  topology.SpoutCollector
}

func (s *numberSpout) Open(_ context.Context, _ *topology.Context, c topology.SpoutCollector) error {
	s.out = c
	return nil
}

func (s *numberSpout) NextTuple() {
	s.out.Emit(topology.Values{s.next, s.next % 5}, s.next)
	s.next++
}

func (s *numberSpout) SnapshotPosition(uint64) ([]byte, error) {
	return binary.AppendVarint(nil, s.next), nil
}

func (s *numberSpout) RestorePosition(pos []byte) error {
	s.next = 0
	if pos != nil {
		v, k := binary.Varint(pos)
		if k <= 0 {
			return fmt.Errorf("position % x: not a varint", pos)
		}
		s.next = v
	}
	return nil
}

func (s *numberSpout) CheckpointComplete(uint64) {}

// TestCheckpointsCardInChromium runs ui/e2e/checkpoints.test.mjs against
// a Solo node (as `node run --http` is) running an exactly-once topology:
// the topology page's Checkpoints card shows checkpoints completing.
func TestCheckpointsCardInChromium(t *testing.T) {
	chromium := chromiumPath(t)
	node := nodeJS(t)
	cfg := cluster.LocalConfig()
	cfg.Name, cfg.Bind, cfg.HTTP, cfg.Insecure, cfg.Solo = "ui-eos", clustertest.FreeAddr(t), "127.0.0.1:0", true, true
	cfg.Topologies = map[string]cluster.Factory{"numbers": cluster.Simple(func(conf topology.Config) (*topology.Topology, error) {
		b := topology.NewBuilder("numbers")
		b.SetSpout("numbers", func() topology.Spout { return &numberSpout{} }, 1).Output("n", "key")
		b.SetBasicBolt("drop", func() topology.BasicBolt {
			return topology.BoltFunc(func(topology.Tuple, topology.BasicCollector) error { return nil })
		}, 2).FieldsGrouping("numbers", "key")
		return b.Build(conf)
	})}
	n, err := cluster.Start(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := n.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})
	if err := n.Submit("numbers", "numbers", map[string]string{topology.GuaranteeKey: "exactly-once", topology.CheckpointIntervalMs: "100"}); err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, filepath.Join("e2e", "checkpoints.test.mjs"), "http://"+n.HTTPAddr(), "numbers")
	cmd.Env = append(os.Environ(), "SQUALL_CHROMIUM="+chromium)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // a timeout ends Chromium with it
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 10 * time.Second
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err = cmd.Run()
	t.Logf("ui/e2e/checkpoints.test.mjs:\n%s", out.String())
	if err != nil {
		t.Fatalf("the Checkpoints card's end-to-end test failed: %v", err)
	}
}
