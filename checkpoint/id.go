package checkpoint

import "strconv"

// ID numbers a checkpoint. IDs start at 1, grow by one per triggered
// checkpoint and are never reused, not even after a restore or a
// coordinator failover, so an external sink can deduplicate on them
// (Trident's transactional txid check). 0 means "none".
type ID uint64

func (id ID) String() string { return strconv.FormatUint(uint64(id), 10) }

// Epoch counts global restores. Every restore starts a new epoch; tasks and
// channels drop what belongs to an older one.
type Epoch uint64
