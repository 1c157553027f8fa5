package memfile

import (
	"testing"
	"time"

	"glassbox/internal/abi"
)

// Once prefillAfter bytes of fresh frames were handed out, the margin
// above top gets allocated in the background, and frames handed out from
// it read as zeros; under a limit too tight for the margin nothing is
// filled; Close stops the filler.
func TestPrefill(t *testing.T) {
	f, err := New(1 << 30)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	const chunk = 1 << 20 >> abi.PageShift
	for i := 0; i < prefillAfter>>abi.PageShift/chunk; i++ {
		if _, err := f.Alloc(chunk); err != nil {
			t.Fatal(err)
		}
	}
	want := uint64(prefillAhead) // the margin; nothing below top was touched
	deadline := time.Now().Add(5 * time.Second)
	for f.ResidentBytes() < want && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if got := f.ResidentBytes(); got < want {
		t.Fatalf("resident %d bytes after handing out %d: want the %d-byte margin filled", got, prefillAfter, want)
	}
	fr, err := f.Alloc(chunk)
	if err != nil {
		t.Fatal(err)
	}
	for i, b := range f.Bytes(fr, chunk) {
		if b != 0 {
			t.Fatalf("byte %d of a filled frame is %d", i, b)
		}
	}

	g, err := New(1 << 30)
	if err != nil {
		t.Fatal(err)
	}
	g.SetLimit(prefillAfter + prefillAhead/2)
	for i := 0; i < prefillAfter>>abi.PageShift/chunk; i++ {
		if _, err := g.Alloc(chunk); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(50 * time.Millisecond)
	if got := g.ResidentBytes(); got != 0 {
		t.Errorf("resident %d bytes under a limit with no room for the margin", got)
	}
	g.Close()
}
