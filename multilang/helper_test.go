package multilang

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"time"

	wire "github.com/squall-streams/squall/internal/multilang"
)

// The test binary doubles as a fake multilang subprocess (the os/exec
// TestHelperProcess pattern): with helperEnv set, TestMain runs helperMain
// instead of the tests. It misbehaves on purpose, deterministically, in
// ways pystorm never would.
const (
	helperEnv    = "SQUALL_MULTILANG_HELPER"
	helperSerEnv = "SQUALL_MULTILANG_HELPER_SERIALIZER"
)

// helperCommand runs the fake subprocess in mode.
func helperCommand(mode string) ([]string, Option) {
	return []string{os.Args[0], "-test.run=^$"}, WithEnv(map[string]string{helperEnv: mode})
}

func helperMain(mode string) int {
	ser := wire.JSON
	if os.Getenv(helperSerEnv) == "msgpack" {
		ser = wire.Msgpack
	}
	out := bufio.NewWriter(os.Stdout)
	enc, _ := wire.NewEncoder(out, ser)
	dec, _ := wire.NewDecoder(os.Stdin, ser, wire.FromSquall)
	in := wire.NewInbox(dec)
	send := func(m wire.Message) {
		if err := enc.Encode(m); err != nil {
			os.Exit(5)
		}
		if err := out.Flush(); err != nil {
			os.Exit(5)
		}
	}
	m, err := in.ReadCommand()
	if err != nil {
		return 2
	}
	hs, ok := m.(wire.Handshake)
	if !ok {
		return 4
	}
	switch mode {
	case "slowstart": // a start-up longer than the heartbeat timeout
		time.Sleep(time.Second)
	case "mute": // never answers the handshake
		time.Sleep(time.Hour)
	}
	f, err := os.Create(fmt.Sprintf("%s/%d", hs.PIDDir, os.Getpid()))
	if err == nil {
		f.Close()
	}
	send(wire.PIDReply{PID: os.Getpid()})
	switch mode {
	case "spouthang":
		return helperSpout(in, send)
	case "flood":
		floodStderr()
		for i := range floodLogs {
			send(wire.Log{Msg: fmt.Sprintf("log flood %d", i), Level: wire.LogInfo})
		}
	}
	for {
		m, err := in.ReadCommand()
		if err != nil {
			return 2
		}
		t, ok := m.(wire.Tuple)
		if !ok {
			continue
		}
		if t.IsHeartbeat() {
			send(wire.Sync{})
			continue
		}
		word, _ := t.Values[0].(string)
		switch word {
		case "ackunknown":
			send(wire.Ack{ID: wire.StringID("424242")})
			continue
		case "oversize":
			send(wire.Log{Msg: strings.Repeat("x", 4096)})
			continue
		case "badstream":
			send(wire.Emit{Anchors: []wire.ID{t.ID}, Stream: "nope", Values: []any{word}})
			continue
		case "stderr":
			fmt.Fprintln(os.Stderr, "hello stderr")
		case "exit":
			return 3
		case "orphan":
			// A child in our process group that would outlive us, holding
			// our stdout and stderr open.
			c := exec.Command("sleep", "300")
			c.Stdout, c.Stderr = os.Stdout, os.Stderr
			if err := c.Start(); err != nil {
				return 6
			}
			return 3
		}
		send(wire.Emit{Anchors: []wire.ID{t.ID}, Values: []any{word}})
		send(wire.Ack{ID: t.ID})
	}
}

// The "flood" mode writes one line of floodLongLine bytes to stderr, then
// floodStderrBytes in lines of floodLineBytes, then sends
// floodLogs log commands, before it handles its first tuple.
const (
	floodStderrBytes = 50 << 20
	floodLineBytes   = 256
	floodLongLine    = 1 << 20
	floodLogs        = 20000
	floodLines       = floodStderrBytes/floodLineBytes + 1
)

func floodStderr() {
	w := bufio.NewWriterSize(os.Stderr, 64<<10)
	w.WriteString("flood long " + strings.Repeat("y", floodLongLine-len("flood long ")-1) + "\n")
	line := []byte(strings.Repeat("x", floodLineBytes))
	line[len(line)-1] = '\n'
	for i := range floodStderrBytes / floodLineBytes {
		copy(line, fmt.Sprintf("flood %07d ", i))
		w.Write(line)
	}
	w.Flush()
}

// helperSpout emits "s<n>" on each next until the third, which it never
// answers.
func helperSpout(in *wire.Inbox, send func(wire.Message)) int {
	nexts := 0
	for {
		m, err := in.ReadCommand()
		if err != nil {
			return 2
		}
		if _, ok := m.(wire.Next); ok {
			nexts++
			if nexts == 3 {
				time.Sleep(time.Hour) // hang
			}
			send(wire.Emit{ID: wire.IntID(int64(nexts)), Values: []any{fmt.Sprintf("s%d", nexts)}})
		}
		send(wire.Sync{})
	}
}
