package kernel

import (
	"bytes"
	"testing"
)

// HostRandom fills the whole buffer, past what one getrandom call gives.
func TestHostRandom(t *testing.T) {
	b := make([]byte, 1<<20)
	HostRandom(b)
	if bytes.Count(b[len(b)-4096:], []byte{0}) > 256 {
		t.Error("the buffer's end was left unfilled")
	}
	var small [16]byte
	HostRandom(small[:])
	if small == [16]byte{} {
		t.Error("16 bytes all zero")
	}
}
