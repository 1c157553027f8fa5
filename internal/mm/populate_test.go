package mm

import (
	"bytes"
	"testing"

	"golang.org/x/sys/unix"

	"glassbox/internal/abi"
	"glassbox/internal/memfile"
	"glassbox/internal/platform"
)

// popMapper is a nopMapper that can populate, and records which host
// mappings asked for it.
type popMapper struct {
	nopMapper
	populated []uint64 // start addresses of MapPopulate calls
	plain     []uint64 // start addresses of Map calls
}

func (p *popMapper) Map(addr, length uint64, prot int, off uint64) error {
	p.plain = append(p.plain, addr)
	return nil
}

func (p *popMapper) MapPopulate(addr, length uint64, prot int, off uint64) error {
	p.populated = append(p.populated, addr)
	return nil
}

var _ platform.PopulateMapper = (*popMapper)(nil)

func newTestMM(t *testing.T) (*MM, *memfile.File) {
	t.Helper()
	mf, err := memfile.New(256 << 20)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(mf.Close)
	m := New(mf, platform.Layout{TaskSize: 1 << 40})
	m.AddUser()
	return m, mf
}

// TestPopulateSequential: fresh anonymous runs are populated only for a
// guest that touches memory in order; a fault elsewhere, and pages that
// hold data (a forked child's first touches), are mapped plainly.
func TestPopulateSequential(t *testing.T) {
	m, _ := newTestMM(t)
	defer m.DropUser()
	mp := &popMapper{}
	const base = 0x40000000
	if _, err := m.Mmap(mp, MapRequest{Addr: base, Length: 16 << 20, Fixed: true, Prot: unix.PROT_READ | unix.PROT_WRITE}); err != nil {
		t.Fatal(err)
	}
	fault := func(mm *MM, mp Mapper, a uint64) {
		t.Helper()
		if res, err := mm.HandleFault(mp, a, abi.SEGV_MAPERR, false, true); err != nil || res.Signo != 0 {
			t.Fatalf("fault at %#x: %v %+v", a, err, res)
		}
	}
	fault(m, mp, base)         // the first touch: nothing before it
	fault(m, mp, base+2<<20)   // right after the first window
	fault(m, mp, base+4<<20)   // and the next
	fault(m, mp, base+10<<20)  // a jump
	fault(m, mp, base+8<<20+4) // below the last run: not in order
	want := []uint64{base + 2<<20, base + 4<<20}
	if len(mp.populated) != len(want) || mp.populated[0] != want[0] || mp.populated[1] != want[1] {
		t.Fatalf("populated runs at %#x, want %#x (plain: %#x)", mp.populated, want, mp.plain)
	}
	if len(mp.plain) != 3 {
		t.Fatalf("plain maps at %#x, want 3", mp.plain)
	}
	// A child's touches of the parent's frames, in order, are not
	// populated: the pages hold data and are shared.
	c, err := m.Fork(mp)
	if err != nil {
		t.Fatal(err)
	}
	defer c.DropUser()
	cmp := &popMapper{}
	fault(c, cmp, base)
	fault(c, cmp, base+2<<20)
	if len(cmp.populated) != 0 {
		t.Fatalf("the child populated runs at %#x", cmp.populated)
	}
}

// TestCowRunCopies: a child that writes every page of a large region in
// order gets exact copies of the parent's pages in runs (up to cowMaxRun
// pages a fault), its writes stay its own, and every old frame goes back
// to its single owner.
func TestCowRunCopies(t *testing.T) {
	m, mf := newTestMM(t)
	mp := &nopMapper{}
	const pages = 3000
	addr, err := m.Mmap(mp, MapRequest{Length: pages * abi.PageSize, Prot: unix.PROT_READ | unix.PROT_WRITE})
	if err != nil {
		t.Fatal(err)
	}
	pattern := func(i uint64, gen byte) []byte {
		b := bytes.Repeat([]byte{byte(i) ^ gen}, abi.PageSize)
		b[0], b[abi.PageSize-1] = byte(i>>8), gen
		return b
	}
	for i := uint64(0); i < pages; i++ {
		if err := m.CopyOut(mp, addr+i*abi.PageSize, pattern(i, 1)); err != nil {
			t.Fatal(err)
		}
	}
	c, err := m.Fork(mp)
	if err != nil {
		t.Fatal(err)
	}
	faults := 0
	for i := uint64(0); i < pages; i++ {
		a := addr + i*abi.PageSize
		for k := 0; !c.pt.get(a).mappedWritable(); k++ {
			if k == 3 {
				t.Fatalf("page %d: not writable after %d faults", i, k)
			}
			code := abi.SEGV_MAPERR
			if c.pt.get(a).mapped() {
				code = abi.SEGV_ACCERR
			}
			if res, err := c.HandleFault(mp, a, code, false, true); err != nil || res.Signo != 0 {
				t.Fatalf("page %d: %v %+v", i, err, res)
			}
			faults++
		}
	}
	if st := c.Stats(); st.COWCopies != pages {
		t.Fatalf("%d pages copied, want %d", st.COWCopies, pages)
	}
	if faults > pages/8 {
		t.Fatalf("%d faults for %d pages written in order", faults, pages)
	}
	b := make([]byte, abi.PageSize)
	for i := uint64(0); i < pages; i++ {
		a := addr + i*abi.PageSize
		if mf.Refs(m.pt.get(a).frame()) != 1 || mf.Refs(c.pt.get(a).frame()) != 1 {
			t.Fatalf("page %d: refs parent %d child %d, want 1 and 1", i,
				mf.Refs(m.pt.get(a).frame()), mf.Refs(c.pt.get(a).frame()))
		}
		if err := c.CopyIn(mp, a, b); err != nil || !bytes.Equal(b, pattern(i, 1)) {
			t.Fatalf("child page %d is not the parent's copy (%v)", i, err)
		}
		if err := c.CopyOut(mp, a, pattern(i, 2)); err != nil {
			t.Fatal(err)
		}
	}
	for i := uint64(0); i < pages; i++ {
		if err := m.CopyIn(mp, addr+i*abi.PageSize, b); err != nil || !bytes.Equal(b, pattern(i, 1)) {
			t.Fatalf("parent page %d changed with the child's writes (%v)", i, err)
		}
	}
	c.DropUser()
	m.DropUser()
	if used := mf.Stats().InUse; used != 0 {
		t.Fatalf("%d frames in use after release", used)
	}
}

// TestCowRunAtLimit: near the memory limit a sequential writer's copy
// runs shrink to the page the write needs rather than fail for want of
// frames for the pages ahead of it.
func TestCowRunAtLimit(t *testing.T) {
	m, mf := newTestMM(t)
	defer m.DropUser()
	mp := &nopMapper{}
	const pages, spare = 100, 10
	addr, err := m.Mmap(mp, MapRequest{Length: pages * abi.PageSize, Prot: unix.PROT_READ | unix.PROT_WRITE})
	if err != nil {
		t.Fatal(err)
	}
	for i := uint64(0); i < pages; i++ {
		if err := m.CopyOut(mp, addr+i*abi.PageSize, []byte{byte(i)}); err != nil {
			t.Fatal(err)
		}
	}
	c, err := m.Fork(mp)
	if err != nil {
		t.Fatal(err)
	}
	defer c.DropUser()
	mf.SetLimit((mf.Stats().InUse + spare) * abi.PageSize)
	for i := uint64(0); i < spare; i++ {
		a := addr + i*abi.PageSize
		if c.pt.get(a).mappedWritable() {
			continue
		}
		code := abi.SEGV_MAPERR
		if c.pt.get(a).mapped() {
			code = abi.SEGV_ACCERR
		}
		if _, err := c.HandleFault(mp, a, code, false, true); err != nil {
			t.Fatalf("page %d, %d frames left: %v", i, mf.Limit()/abi.PageSize-mf.Stats().InUse, err)
		}
		if !c.pt.get(a).mappedWritable() {
			if _, err := c.HandleFault(mp, a, abi.SEGV_ACCERR, false, true); err != nil {
				t.Fatalf("page %d: %v", i, err)
			}
		}
	}
}
