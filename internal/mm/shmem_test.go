package mm

import (
	"testing"

	"glassbox/internal/abi"
	"glassbox/internal/memfile"
)

// TestShmemPunchHole: punching a hole in a shared memory object (as
// MADV_REMOVE does) frees its whole pages, zeroes partial ones, and the
// frames the object holds stay counted right, so nothing looks leaked
// once it is gone.
func TestShmemPunchHole(t *testing.T) {
	mf, err := memfile.New(64 << 20)
	if err != nil {
		t.Fatal(err)
	}
	defer mf.Close()
	s := NewShmem(mf, 8*abi.PageSize)
	fr, n, err := s.Translate(0, 8)
	if err != nil || n != 8 {
		t.Fatalf("Translate: %d pages, %v", n, err)
	}
	b := mf.Bytes(fr, 8)
	for i := range b {
		b[i] = 1
	}
	mf.DecRef(fr, n) // the caller's references
	if err := s.PunchHole(abi.PageSize+100, 3*abi.PageSize); err != nil {
		t.Fatal(err)
	}
	if s.Resident() != 6 {
		t.Fatalf("%d pages resident after punching two, want 6", s.Resident())
	}
	if b[abi.PageSize+99] != 1 || b[abi.PageSize+100] != 0 || b[4*abi.PageSize+99] != 0 || b[4*abi.PageSize+100] != 1 {
		t.Fatal("partial pages not zeroed over just the hole")
	}
	if held, inUse := mf.Held(), mf.Stats().InUse; held != 6 || inUse != 6 {
		t.Fatalf("held %d, in use %d; want 6 and 6", held, inUse)
	}
	s.DecRef()
	if mf.Held() != 0 || mf.Leaked() != 0 {
		t.Fatalf("after the last user: held %d, leaked %d", mf.Held(), mf.Leaked())
	}
}
