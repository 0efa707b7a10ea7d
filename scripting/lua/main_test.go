package lua

import (
	"testing"

	"go.uber.org/goleak"
)

// Every script's goroutine, every consumer's pump and every background
// run has ended when the tests end.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
