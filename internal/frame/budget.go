package frame

import (
	"fmt"
	"sync/atomic"
)

// Budget is memory (bytes) a peer may hold on this node at once: its
// connections' frame buffers and whatever the transport parks for it.
// It never blocks: a reservation that does not fit fails. Safe for
// concurrent use.
type Budget struct {
	limit int64
	used  atomic.Int64
}

// NewBudget returns a Budget of limit bytes.
func NewBudget(limit int64) *Budget {
	if limit <= 0 {
		panic(fmt.Sprintf("frame: budget of %d bytes", limit)) // a programming error, not input
	}
	return &Budget{limit: limit}
}

// TryReserve takes n bytes if they fit and reports whether it did.
func (b *Budget) TryReserve(n int64) bool {
	if n < 0 {
		return false
	}
	for {
		used := b.used.Load()
		if n > b.limit-used {
			return false
		}
		if b.used.CompareAndSwap(used, used+n) {
			return true
		}
	}
}

// Release gives back n bytes taken with TryReserve.
func (b *Budget) Release(n int64) {
	if b.used.Add(-n) < 0 {
		panic("frame: budget released more than it reserved")
	}
}

// Used is how many bytes are reserved now.
func (b *Budget) Used() int64 { return b.used.Load() }

// Limit is the budget's size.
func (b *Budget) Limit() int64 { return b.limit }
