package sip

import (
	"log/slog"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	SetLibraryLogger(slog.New(slog.DiscardHandler))
	goleak.VerifyTestMain(m)
}
