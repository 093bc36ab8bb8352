package main

import (
	"context"
	"io"
	"testing"

	"go.uber.org/goleak"

	"github.com/squall-streams/squall/kafka/kafkatest"
	"github.com/squall-streams/squall/nodecmd"
	"github.com/squall-streams/squall/topologies"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m, kafkatest.LeakOptions()...) }

// run runs the command in this process, as the binary would.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return nodecmd.Run(ctx, args, topologies.Registry(), stdout, stderr)
}
