package nimbus

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// ErrUpload is wrapped by the reasons an upload call fails; they reach the
// client as internal errors naming the reason (the IDL declares only
// AuthorizationException for them).
var ErrUpload = errors.New("upload")

// uploads holds jars being uploaded (beginFileUpload, uploadChunk,
// finishFileUpload) as files in dir until a submit takes them. An upload
// not touched for ttl is removed, finished or not: `sparse submit` uploads
// before it checks the name, so abandoned jars are common. Safe for
// concurrent use.
type uploads struct {
	dir      string
	maxBytes int64
	maxOpen  int
	ttl      time.Duration
	now      func() time.Time

	mu   sync.Mutex
	byID map[string]*upload
}

type upload struct {
	path     string
	size     int64
	finished bool
	touched  time.Time
	busy     bool // a chunk is being written
}

// locationPrefix makes locations look like Storm's inbox paths.
const locationPrefix = "/squall/inbox/stormjar-"

func (u *uploads) begin() (string, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.collectLocked()
	if len(u.byID) >= u.maxOpen {
		return "", fmt.Errorf("%w: %d uploads are open, the most this node keeps; try again later", ErrUpload, len(u.byID))
	}
	var b [16]byte
	rand.Read(b[:])
	id := hex.EncodeToString(b[:])
	p := filepath.Join(u.dir, "stormjar-"+id+".jar")
	f, err := os.OpenFile(p, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrUpload, err)
	}
	f.Close()
	u.byID[id] = &upload{path: p, touched: u.now()}
	return locationPrefix + id + ".jar", nil
}

func (u *uploads) lookupLocked(location string) (string, *upload, error) {
	id := strings.TrimSuffix(strings.TrimPrefix(location, locationPrefix), ".jar")
	up := u.byID[id]
	if up == nil {
		return "", nil, fmt.Errorf("%w: no upload at %q (uploads expire %v after their last chunk)", ErrUpload, location, u.ttl)
	}
	return id, up, nil
}

func (u *uploads) chunk(location string, data []byte) error {
	u.mu.Lock()
	_, up, err := u.lookupLocked(location)
	switch {
	case err != nil:
	case up.finished:
		err = fmt.Errorf("%w: upload %q is finished", ErrUpload, location)
	case up.busy:
		err = fmt.Errorf("%w: upload %q: chunks must come one at a time", ErrUpload, location)
	case up.size+int64(len(data)) > u.maxBytes:
		err = fmt.Errorf("%w: upload %q: the jar is larger than %d bytes, the most this node takes", ErrUpload, location, u.maxBytes)
	}
	if err != nil {
		u.mu.Unlock()
		return err
	}
	up.busy = true
	path := up.path
	u.mu.Unlock()

	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err == nil {
		_, err = f.Write(data)
		err = errors.Join(err, f.Close())
	}

	u.mu.Lock()
	defer u.mu.Unlock()
	up.busy = false
	up.touched = u.now()
	if err != nil {
		return fmt.Errorf("%w: upload %q: %v", ErrUpload, location, err)
	}
	up.size += int64(len(data))
	return nil
}

func (u *uploads) finish(location string) error {
	u.mu.Lock()
	defer u.mu.Unlock()
	_, up, err := u.lookupLocked(location)
	if err != nil {
		return err
	}
	up.finished, up.touched = true, u.now()
	return nil
}

// take returns a finished upload's jar and forgets it.
func (u *uploads) take(location string) ([]byte, error) {
	u.mu.Lock()
	id, up, err := u.lookupLocked(location)
	if err == nil && !up.finished {
		err = fmt.Errorf("%w: upload %q is not finished (finishFileUpload)", ErrUpload, location)
	}
	if err != nil {
		u.mu.Unlock()
		return nil, err
	}
	delete(u.byID, id)
	u.mu.Unlock()
	defer os.Remove(up.path)
	b, err := os.ReadFile(up.path)
	if err != nil {
		return nil, fmt.Errorf("%w: upload %q: %v", ErrUpload, location, err)
	}
	return b, nil
}

// collect removes the uploads not touched for ttl.
func (u *uploads) collect() {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.collectLocked()
}

func (u *uploads) collectLocked() {
	now := u.now()
	for id, up := range u.byID {
		if !up.busy && now.Sub(up.touched) >= u.ttl {
			os.Remove(up.path)
			delete(u.byID, id)
		}
	}
}

func (u *uploads) open() int {
	u.mu.Lock()
	defer u.mu.Unlock()
	return len(u.byID)
}

// removeAll drops every upload (Stop).
func (u *uploads) removeAll() {
	u.mu.Lock()
	defer u.mu.Unlock()
	for id, up := range u.byID {
		os.Remove(up.path)
		delete(u.byID, id)
	}
}
