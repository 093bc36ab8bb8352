package linelimit

import (
	"context"
	"log/slog"
)

// SlogSink logs each line as msg at level with a "line" attribute (and
// "cut_bytes" when it was cut), and each drop report at warn level as
// "log lines dropped" with "dropped": the node log's view of a
// subprocess. Put the task's identity on log (log.With).
func SlogSink(log *slog.Logger, level slog.Level, msg string) Sink {
	return slogSink{log: log, level: level, msg: msg}
}

type slogSink struct {
	log   *slog.Logger
	level slog.Level
	msg   string
}

func (s slogSink) Line(line []byte, cut int) {
	if cut > 0 {
		s.log.Log(context.Background(), s.level, s.msg, "line", string(line), "cut_bytes", cut)
		return
	}
	s.log.Log(context.Background(), s.level, s.msg, "line", string(line))
}

func (s slogSink) Dropped(n uint64) {
	s.log.Warn("log lines dropped", "dropped", n, "why", "over the rate limit")
}
