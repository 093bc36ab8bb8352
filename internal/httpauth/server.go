package httpauth

import (
	"net/http"
	"time"
)

// Timeouts bound every phase of an HTTP connection, so that idle
// keep-alive connections and slow clients are closed (issue 11 item 7).
type Timeouts struct {
	// ReadHeader bounds reading a request's headers.
	ReadHeader time.Duration
	// Read bounds reading a whole request, body included.
	Read time.Duration
	// Write bounds writing the response, from the end of the request's
	// headers. A route that waits longer (kill/{wait}) extends its own
	// deadline with http.NewResponseController(w).SetWriteDeadline.
	Write time.Duration
	// Idle bounds the wait for the next request on a keep-alive
	// connection.
	Idle time.Duration
	// MaxHeaderBytes bounds a request's header block.
	MaxHeaderBytes int
}

// DefaultTimeouts suit a node's API: a 128 MiB submit has a minute.
func DefaultTimeouts() Timeouts {
	return Timeouts{
		ReadHeader:     5 * time.Second,
		Read:           60 * time.Second,
		Write:          60 * time.Second,
		Idle:           60 * time.Second,
		MaxHeaderBytes: 64 << 10,
	}
}

// LocalTimeouts are short ones for tests on loopback.
func LocalTimeouts() Timeouts {
	return Timeouts{
		ReadHeader:     200 * time.Millisecond,
		Read:           500 * time.Millisecond,
		Write:          500 * time.Millisecond,
		Idle:           200 * time.Millisecond,
		MaxHeaderBytes: 8 << 10,
	}
}

// Server is an http.Server for h with t applied. Set Addr, TLSConfig
// (internal/certs' HTTPServerConfig) and ErrorLog as needed.
func (t Timeouts) Server(h http.Handler) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: t.ReadHeader,
		ReadTimeout:       t.Read,
		WriteTimeout:      t.Write,
		IdleTimeout:       t.Idle,
		MaxHeaderBytes:    t.MaxHeaderBytes,
	}
}
