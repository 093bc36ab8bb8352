package nimbus

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"sync"
	"time"

	"github.com/apache/thrift/lib/go/thrift"

	"github.com/squall-streams/squall/internal/nimbus/storm"
)

// DefaultPort is Storm's nimbus.thrift.port.
const DefaultPort = 6627

// StormVersion is the Storm version squall reports: streamparse parses it
// with packaging's parse_version, which refuses anything not PEP 440.
const StormVersion = "2.8.8"

// Config configures a Server.
type Config struct {
	// Addr is host:port to listen on. Only a loopback address is accepted
	// unless Insecure: the API has no authentication, so anyone who reaches
	// it can submit topologies.
	Addr     string
	Insecure bool
	// MaxFrameSize bounds one Thrift frame (streamparse sends 300 KiB
	// chunks; Storm's nimbus.thrift.max_buffer_size is 1 MiB).
	MaxFrameSize int32
	// IdleTimeout bounds the wait for a call and the call itself; a
	// connection idle longer is closed.
	IdleTimeout time.Duration
	// CallTimeout bounds a Backend call.
	CallTimeout time.Duration
	// MaxConns bounds open connections; more are closed at once.
	MaxConns int
	// UploadDir holds jars being uploaded (created if missing).
	UploadDir string
	// MaxJarBytes bounds an uploaded jar, MaxUploads the uploads open at
	// once, UploadTTL how long an upload lives after its last call.
	MaxJarBytes int64
	MaxUploads  int
	UploadTTL   time.Duration
	// NimbusConf is merged over the defaults getNimbusConf answers
	// (storm.log.dir, ui.port, ...).
	NimbusConf map[string]any
	Logger     *slog.Logger
	// Now is the clock uploads expire by (tests); nil is time.Now.
	Now func() time.Time
}

// DefaultConfig serves on Storm's port on the loopback interface.
func DefaultConfig() Config {
	return Config{
		Addr:         fmt.Sprintf("127.0.0.1:%d", DefaultPort),
		MaxFrameSize: 4 << 20,
		IdleTimeout:  2 * time.Minute,
		CallTimeout:  5 * time.Second,
		MaxConns:     64,
		MaxJarBytes:  512 << 20,
		MaxUploads:   16,
		UploadTTL:    600 * time.Second, // Storm's nimbus.file.copy.expiration.secs
	}
}

// LocalConfig is DefaultConfig on a free loopback port with short timers,
// for tests.
func LocalConfig() Config {
	c := DefaultConfig()
	c.Addr = "127.0.0.1:0"
	c.IdleTimeout = 10 * time.Second
	c.UploadTTL = time.Minute
	return c
}

func (c *Config) validate() error {
	var errs []error
	host, _, err := net.SplitHostPort(c.Addr)
	switch {
	case err != nil:
		errs = append(errs, fmt.Errorf("nimbus address %q: want HOST:PORT: %v", c.Addr, err))
	case !c.Insecure && !isLoopback(host):
		errs = append(errs, fmt.Errorf("nimbus address %q is not a loopback address: the Nimbus API has no authentication, "+
			"so anyone who reaches it can submit topologies; listen on 127.0.0.1 (streamparse reaches it through its SSH tunnel) or run --insecure", c.Addr))
	}
	if c.MaxFrameSize < 1<<20 {
		errs = append(errs, fmt.Errorf("nimbus max frame size %d: want at least 1 MiB (streamparse sends 300 KiB chunks)", c.MaxFrameSize))
	}
	for name, d := range map[string]time.Duration{"idle timeout": c.IdleTimeout, "call timeout": c.CallTimeout, "upload TTL": c.UploadTTL} {
		if d <= 0 {
			errs = append(errs, fmt.Errorf("nimbus %s %v: want > 0", name, d))
		}
	}
	if c.MaxConns < 1 || c.MaxUploads < 1 || c.MaxJarBytes < 1 {
		errs = append(errs, fmt.Errorf("nimbus limits: MaxConns %d, MaxUploads %d, MaxJarBytes %d: want > 0", c.MaxConns, c.MaxUploads, c.MaxJarBytes))
	}
	if c.UploadDir == "" {
		errs = append(errs, errors.New("nimbus upload directory: empty"))
	}
	return errors.Join(errs...)
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Server serves the Nimbus API on one listener.
type Server struct {
	cfg     Config
	ln      net.Listener
	log     *slog.Logger
	handler *handler
	cancel  context.CancelFunc
	wg      sync.WaitGroup

	mu      sync.Mutex
	conns   map[net.Conn]struct{}
	stopped bool
	once    sync.Once
}

// Start listens on cfg.Addr and serves b until Stop.
func Start(cfg Config, b Backend) (*Server, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if err := os.MkdirAll(cfg.UploadDir, 0o700); err != nil {
		return nil, fmt.Errorf("nimbus upload directory: %w", err)
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("nimbus: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &Server{cfg: cfg, ln: ln, log: cfg.Logger, cancel: cancel, conns: map[net.Conn]struct{}{}}
	s.handler = newHandler(&s.cfg, b, ln.Addr().(*net.TCPAddr).Port)
	s.wg.Go(func() { s.acceptLoop(ctx) })
	s.wg.Go(func() { s.collectLoop(ctx) })
	return s, nil
}

// Addr is the address the server listens on.
func (s *Server) Addr() net.Addr { return s.ln.Addr() }

// Stop closes the listener and every connection and waits for them, at
// most until ctx is done. It is safe to call more than once.
func (s *Server) Stop(ctx context.Context) error {
	s.once.Do(func() {
		s.cancel()
		s.ln.Close()
		s.mu.Lock()
		s.stopped = true
		for c := range s.conns {
			c.Close()
		}
		s.mu.Unlock()
	})
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
		s.handler.uploads.removeAll()
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (s *Server) acceptLoop(ctx context.Context) {
	for {
		c, err := s.ln.Accept()
		if err != nil {
			if ctx.Err() == nil && !errors.Is(err, net.ErrClosed) {
				s.log.Warn("nimbus: accept", "err", err)
			}
			return
		}
		s.mu.Lock()
		full := len(s.conns) >= s.cfg.MaxConns
		if s.stopped || full {
			s.mu.Unlock()
			if full {
				s.log.Warn("nimbus: connection refused: too many open", "remote", c.RemoteAddr().String(), "max", s.cfg.MaxConns)
			}
			c.Close()
			continue
		}
		s.conns[c] = struct{}{}
		s.mu.Unlock()
		s.wg.Go(func() {
			defer func() {
				s.mu.Lock()
				delete(s.conns, c)
				s.mu.Unlock()
				c.Close()
			}()
			s.serveConn(ctx, c)
		})
	}
}

// collectLoop removes abandoned uploads.
func (s *Server) collectLoop(ctx context.Context) {
	t := time.NewTicker(min(s.cfg.UploadTTL/4, time.Minute))
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			s.handler.uploads.collect()
		}
	}
}

// serveConn answers the calls of one connection, one at a time, until the
// client closes it, stays idle past IdleTimeout, or sends what cannot be
// decoded.
func (s *Server) serveConn(ctx context.Context, c net.Conn) {
	tcfg := &thrift.TConfiguration{MaxFrameSize: s.cfg.MaxFrameSize, MaxMessageSize: s.cfg.MaxFrameSize}
	// The socket's own per-read deadlines are off (ownDeadlines): one
	// deadline bounds the wait for a call and the call together.
	trans := thrift.NewTFramedTransportConf(thrift.NewTSocketFromConnConf(ownDeadlines{c}, tcfg), tcfg)
	proto := thrift.NewTBinaryProtocolConf(trans, tcfg)
	proc := storm.NewNimbusProcessor(s.handler)
	for ctx.Err() == nil {
		if err := c.SetDeadline(time.Now().Add(s.cfg.IdleTimeout)); err != nil {
			return
		}
		ok, err := proc.Process(ctx, proto, proto)
		if err == nil {
			continue
		}
		var app thrift.TApplicationException
		switch {
		case errors.As(err, &app) && app.TypeId() == thrift.UNKNOWN_METHOD:
			continue // answered; the arguments were skipped
		case ok:
			continue // a handler's error, answered
		}
		var te thrift.TTransportException
		if !errors.As(err, &te) {
			s.log.Debug("nimbus: closing connection", "remote", c.RemoteAddr().String(), "err", err)
		}
		return
	}
}

// ownDeadlines keeps TSocket from moving the connection's deadline.
type ownDeadlines struct{ net.Conn }

func (ownDeadlines) SetDeadline(time.Time) error      { return nil }
func (ownDeadlines) SetReadDeadline(time.Time) error  { return nil }
func (ownDeadlines) SetWriteDeadline(time.Time) error { return nil }
