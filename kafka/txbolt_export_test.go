package kafka

import "testing"

// ExportEncodeCommittable is encodeCommittable for the external tests.
func ExportEncodeCommittable(t testing.TB, txs []PendingTransaction) []byte {
	t.Helper()
	b, err := encodeCommittable(txs)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
