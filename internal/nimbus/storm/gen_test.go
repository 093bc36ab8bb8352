package storm

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestGeneratedFromThisIDL(t *testing.T) {
	b, err := os.ReadFile("nimbus.thrift")
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(b)
	if got := hex.EncodeToString(sum[:]); got != idlDigest {
		t.Errorf("nimbus.thrift (sha256 %s) changed since the code was generated (from %s): run go generate ./internal/nimbus/storm", got, idlDigest)
	}
}
