package hostrand

import (
	"bytes"
	"testing"

	"golang.org/x/sys/unix"
)

// filled reports whether b looks filled with random bytes: its last 4 KiB
// (or all of it, if shorter) are not mostly zero.
func filled(b []byte) bool {
	tail := b[max(0, len(b)-4096):]
	return bytes.Count(tail, []byte{0}) < len(tail)/8+2
}

// Read fills the whole buffer, past what one getrandom call gives, and
// two reads differ.
func TestRead(t *testing.T) {
	b := make([]byte, 1<<20)
	Read(b)
	if !filled(b) {
		t.Error("the buffer's end was left unfilled")
	}
	var x, y [16]byte
	Read(x[:])
	Read(y[:])
	if x == y || x == [16]byte{} {
		t.Errorf("two reads gave %x and %x", x, y)
	}
}

// Where getrandom is refused, Read fills b from /dev/urandom; an EINTR or
// a short read is retried with getrandom.
func TestReadFallsBack(t *testing.T) {
	defer func(g func([]byte, int) (int, error)) { getrandom = g }(getrandom)
	calls := 0
	getrandom = func(b []byte, flags int) (int, error) {
		calls++
		switch calls {
		case 1:
			return 0, unix.EINTR
		case 2:
			b[0] = 0xAA
			return 1, nil // a short read
		}
		return 0, unix.ENOSYS
	}
	b := make([]byte, 64<<10)
	Read(b)
	if calls != 3 {
		t.Errorf("getrandom called %d times, want 3 (EINTR, short read, ENOSYS)", calls)
	}
	if b[0] != 0xAA || !filled(b[1:]) {
		t.Errorf("the rest of the buffer was not filled from /dev/urandom: %x...", b[:16])
	}
}
