package mm

import (
	"bytes"
	"testing"

	"golang.org/x/sys/unix"

	"glassbox/internal/abi"
	"glassbox/internal/memfile"
	"glassbox/internal/platform"
)

// nopMapper stands in for a stub thread: the host side of mappings is not
// under test here.
type nopMapper struct{ maps, unmaps int }

func (n *nopMapper) Map(addr, length uint64, prot int, off uint64) error { n.maps++; return nil }
func (n *nopMapper) Unmap(addr, length uint64) error                     { n.unmaps++; return nil }
func (n *nopMapper) Protect(addr, length uint64, prot int) error         { return nil }

func TestSwapSlots(t *testing.T) {
	s, err := NewSwap(t.TempDir(), 8*abi.PageSize)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	a, n := s.alloc(5)
	if a != 0 || n != 5 {
		t.Fatalf("alloc(5) = %d, %d", a, n)
	}
	b, n := s.alloc(5)
	if b != 5 || n != 3 {
		t.Fatalf("alloc(5) with 3 left = %d, %d; want 5, 3", b, n)
	}
	if _, n := s.alloc(1); n != 0 {
		t.Fatalf("alloc from a full area got %d slots", n)
	}
	s.ref(1)
	s.unref(0, 2) // slot 0 free, slot 1 still named once
	if got := s.Stats().Used; got != 7 {
		t.Fatalf("used = %d, want 7", got)
	}
	if c, n := s.alloc(2); c != 0 || n != 1 {
		t.Fatalf("alloc(2) = %d, %d; want the one free slot 0", c, n)
	}
	page := bytes.Repeat([]byte{7}, abi.PageSize)
	if err := s.write(3, [][]byte{page}); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, abi.PageSize)
	if err := s.read(3, [][]byte{got}); err != nil || !bytes.Equal(got, page) {
		t.Fatalf("read back: %v, equal %v", err, bytes.Equal(got, page))
	}
}

// TestReclaimRoundTrip: an address space four times the memory limit
// keeps its data through swap-out and swap-in, a fork shares the swapped
// pages without seeing the child's writes, and releasing both gives every
// frame and slot back.
func TestReclaimRoundTrip(t *testing.T) {
	const limitPages, pages = 64, 256
	mf, err := memfile.New(64 << 20)
	if err != nil {
		t.Fatal(err)
	}
	mf.SetLimit(limitPages * abi.PageSize)
	sw, err := NewSwap(t.TempDir(), 4*pages*abi.PageSize)
	if err != nil {
		t.Fatal(err)
	}
	defer sw.Close()
	m := New(mf, platform.Layout{TaskSize: 1 << 40})
	m.SetSwap(sw)
	m.AddUser()
	mp := &nopMapper{}
	addr, err := m.Mmap(mp, MapRequest{Length: pages * abi.PageSize, Prot: unix.PROT_READ | unix.PROT_WRITE})
	if err != nil {
		t.Fatal(err)
	}
	fill := func(mm *MM, gen byte) {
		for i := uint64(0); i < pages; i++ {
			b := bytes.Repeat([]byte{byte(i) + gen}, abi.PageSize)
			if err := mm.CopyOut(mp, addr+i*abi.PageSize, b); err != nil {
				t.Fatalf("write page %d: %v", i, err)
			}
		}
	}
	check := func(mm *MM, gen byte, who string) {
		b := make([]byte, abi.PageSize)
		for i := uint64(0); i < pages; i++ {
			if err := mm.CopyIn(mp, addr+i*abi.PageSize, b); err != nil {
				t.Fatalf("%s: read page %d: %v", who, i, err)
			}
			if b[0] != byte(i)+gen || b[abi.PageSize-1] != byte(i)+gen {
				t.Fatalf("%s: page %d holds %d, want %d", who, i, b[0], byte(i)+gen)
			}
		}
	}
	fill(m, 0)
	check(m, 0, "parent")
	st := m.Stats()
	if st.SwapOuts == 0 || st.MajorFaults == 0 {
		t.Fatalf("no swapping at 4x the limit: %+v", st)
	}
	if used := mf.Stats().InUse; used > limitPages {
		t.Fatalf("%d frames in use, limit %d", used, limitPages)
	}
	c, err := m.Fork(mp)
	if err != nil {
		t.Fatal(err)
	}
	fill(c, 100)
	check(c, 100, "child")
	check(m, 0, "parent after the child wrote")
	c.DropUser()
	m.DropUser()
	if used := mf.Stats().InUse; used != 0 {
		t.Errorf("%d frames still in use after release", used)
	}
	if used := sw.Stats().Used; used != 0 {
		t.Errorf("%d swap slots still in use after release", used)
	}
}
