package server

import (
	"testing"
	"time"
)

// Shutdown right after Start returns, even before the listeners' serve
// loops have begun.
func TestShutdownRightAfterStart(t *testing.T) {
	for i := 0; i < 20; i++ {
		cfg := DefaultConfig()
		cfg.Port = 0
		cfg.HTTPPort = 0
		cfg.Dir = t.TempDir()
		s, err := New(cfg, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- s.Shutdown() }()
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("shutdown: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("Shutdown did not return")
		}
	}
}
