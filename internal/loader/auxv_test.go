package loader

import (
	"encoding/binary"
	"os"
	"testing"
)

// The runtime's copy of the host's auxiliary vector gives what
// /proc/self/auxv gives.
func TestHostAuxvMatchesProc(t *testing.T) {
	b, err := os.ReadFile("/proc/self/auxv")
	if err != nil {
		t.Skip(err)
	}
	got := readHostAuxv()
	n := 0
	for i := 0; i+16 <= len(b); i += 16 {
		k := binary.LittleEndian.Uint64(b[i:])
		v := binary.LittleEndian.Uint64(b[i+8:])
		if k == 0 {
			break
		}
		n++
		if got[k] != v {
			t.Errorf("auxv[%d] = %#x, /proc/self/auxv has %#x", k, got[k], v)
		}
	}
	if n == 0 {
		t.Fatal("/proc/self/auxv is empty")
	}
}
