package mm

import (
	"bytes"
	"testing"

	"golang.org/x/sys/unix"

	"glassbox/internal/abi"
	"glassbox/internal/platform"
)

// Start-up paths: a data segment's first touch, host-file siblings and
// exec's prefault.

// TestDataRun: the first touch of a small writable private mapping of a
// file nothing can change copies all its backed pages that are not pinned
// into new frames and maps them writable with one call (the file's pages
// are not mapped read-only first); pages the address space owned already
// (a zeroed tail) keep their bytes. A mapping of a file that can change,
// or a larger one, copies the page alone.
func TestDataRun(t *testing.T) {
	const rw = unix.PROT_READ | unix.PROT_WRITE
	m, mf, data := hostFileSpace(t, 6, 6, rw)
	defer m.DropUser()
	mp := &hostMapper{}
	// The loader zeroes the segment's tail: page 5 becomes the process's own.
	zero := make([]byte, 100)
	if err := m.CopyOut(mp, pg(5)+abi.PageSize-100, zero); err != nil {
		t.Fatal(err)
	}
	mp.calls = nil
	inUse := mf.Stats().InUse
	res, err := m.HandleFault(mp, pg(2)+8, abi.SEGV_MAPERR, false, false)
	if err != nil || res.Signo != 0 || res.COW != 6 || res.COWAt != pg(0) {
		t.Fatalf("first touch: %v %+v", err, res)
	}
	// One host call: the copies, writable (the file's pages are not
	// mapped read-only first).
	if len(mp.calls) != 1 || mp.calls[0] != (hostCall{"map", pg(0), pg(6), rw, mp.calls[0].off}) {
		t.Fatalf("host calls %v", mp.calls)
	}
	mp.calls = nil
	wantMapped(t, m, 0, 6, true, true)
	for i := uint64(0); i < 6; i++ {
		if r := mf.Refs(m.pt.get(pg(i)).frame()); r != 1 {
			t.Fatalf("page %d: frame refs %d", i, r)
		}
	}
	// Five copies now held; page 5's old frame went back.
	if got := mf.Stats().InUse; got != inUse+5 {
		t.Fatalf("frames in use %d, want %d", got, inUse+5)
	}
	got := make([]byte, 6*abi.PageSize)
	if err := m.CopyIn(mp, pg(0), got); err != nil {
		t.Fatal(err)
	}
	want := append([]byte(nil), data...)
	clear(want[6*abi.PageSize-100:])
	if !bytes.Equal(got, want) {
		t.Fatal("the copies differ from the file's bytes")
	}

	// A pinned page (a read(2) still to write into it) splits the run.
	m2, _, _ := hostFileSpace(t, 6, 6, rw)
	defer m2.DropUser()
	pin, err := m2.Pin(mp, pg(3), 10, true)
	if err != nil {
		t.Fatal(err)
	}
	pinned := m2.pt.get(pg(3)).frame()
	res, err = m2.HandleFault(mp, pg(1), abi.SEGV_MAPERR, false, false)
	if err != nil || res.Signo != 0 || res.COW != 3 || res.COWAt != pg(0) {
		t.Fatalf("first touch beside a pinned page: %v %+v", err, res)
	}
	if m2.pt.get(pg(3)).frame() != pinned {
		t.Fatal("the pinned page moved")
	}
	pin.Unpin()

	// A file that may change: the page alone.
	m3, mf3 := newTestMM(t)
	defer m3.DropUser()
	fc := NewFileCache(mf3, bytes.NewReader(data), uint64(len(data)))
	t.Cleanup(fc.Release)
	if _, err := m3.Mmap(mp, MapRequest{Addr: hfBase, Length: 6 * abi.PageSize, Fixed: true, Prot: rw, File: fc}); err != nil {
		t.Fatal(err)
	}
	if res, err := m3.HandleFault(mp, pg(2), abi.SEGV_MAPERR, false, false); err != nil || res.COW != 1 || res.COWAt != pg(2) {
		t.Fatalf("mutable file: %v %+v", err, res)
	}
	// More than dataRunMax pages: the page alone.
	m4, _, _ := hostFileSpace(t, dataRunMax+1, dataRunMax+1, rw)
	defer m4.DropUser()
	if res, err := m4.HandleFault(mp, pg(2), abi.SEGV_MAPERR, false, false); err != nil || res.COW != 1 || res.COWAt != pg(2) {
		t.Fatalf("large mapping: %v %+v", err, res)
	}
}

// TestPrefault: Prefault maps a page as the first touch there would,
// counts no fault, leaves a page the host maps already alone, and does
// nothing where the access would be refused.
func TestPrefault(t *testing.T) {
	const rx = unix.PROT_READ | unix.PROT_EXEC
	m, _, _ := hostFileSpace(t, 4, 4, rx)
	defer m.DropUser()
	mp := &hostMapper{}
	const stack = 0x50000000
	if _, err := m.Mmap(mp, MapRequest{Addr: stack, Length: 4 * abi.PageSize, Fixed: true, Prot: unix.PROT_READ | unix.PROT_WRITE}); err != nil {
		t.Fatal(err)
	}
	if err := m.CopyOut(mp, stack+3*abi.PageSize+8, []byte{1, 2, 3}); err != nil {
		t.Fatal(err)
	}
	mp.calls = nil
	if res, err := m.Prefault(mp, pg(1)+5, true); err != nil || res.HostFileMaps != 1 {
		t.Fatalf("entry: %v %+v", err, res)
	}
	wantCalls(t, mp, "entry", hostCall{"file", pg(0), pg(4), rx, 0})
	if _, err := m.Prefault(mp, pg(2), true); err != nil {
		t.Fatal(err)
	}
	wantCalls(t, mp, "mapped already")
	if _, err := m.Prefault(mp, stack+3*abi.PageSize+8, false); err != nil {
		t.Fatal(err)
	}
	if maps := mp.take("map"); len(maps) != 1 || maps[0].start > stack+3*abi.PageSize || maps[0].end != stack+4*abi.PageSize {
		t.Fatalf("stack: maps %v", maps)
	}
	for _, a := range []struct {
		addr uint64
		exec bool
	}{{0x60000000, false}, {stack, true}} {
		if _, err := m.Prefault(mp, a.addr, a.exec); err != nil {
			t.Fatal(err)
		}
		wantCalls(t, mp, "refused")
	}
	if st := m.Stats(); st.MinorFaults != 0 {
		t.Fatalf("faults counted: %+v", st)
	}
}

// TestDataRunSiblings: a data segment's first touch also maps the
// object's adjoining read-only segments below it from the host file.
func TestDataRunSiblings(t *testing.T) {
	const rx, rw = unix.PROT_READ | unix.PROT_EXEC, unix.PROT_READ | unix.PROT_WRITE
	m, _, _ := hostFileSpace(t, 8, 8, rx)
	defer m.DropUser()
	mp := &hostMapper{}
	if err := m.Mprotect(mp, pg(4), 2*abi.PageSize, rw); err != nil {
		t.Fatal(err)
	}
	// Above it, [6, 8) stays as it is (the rest of the reservation a
	// dynamic linker maps a library's span with, about to be replaced).
	if err := m.Mprotect(mp, pg(6), 2*abi.PageSize, unix.PROT_READ); err != nil {
		t.Fatal(err)
	}
	res, err := m.HandleFault(mp, pg(5), abi.SEGV_MAPERR, false, true)
	if err != nil || res.Signo != 0 || res.COW != 2 || res.COWAt != pg(4) || res.HostFileMaps != 1 {
		t.Fatalf("fault: %v %+v", err, res)
	}
	if len(mp.calls) != 2 || mp.calls[0] != (hostCall{"map", pg(4), pg(6), rw, mp.calls[0].off}) ||
		mp.calls[1] != (hostCall{"file", pg(0), pg(4), rx, 0}) {
		t.Fatalf("host calls %v", mp.calls)
	}
	wantRanges(t, m, pendingRange{pg(0), pg(4)})
}

// TestHostFileSiblings: a host-file fault also maps the adjoining
// mappings of the same object that may be host-file mapped (an ELF
// object's segments), each with its own protection, and stops at one
// that may not (writable), at a hole and at another object.
func TestHostFileSiblings(t *testing.T) {
	const rx = unix.PROT_READ | unix.PROT_EXEC
	m, mf, data := hostFileSpace(t, 10, 12, rx)
	defer m.DropUser()
	mp := &hostMapper{}
	for _, c := range []struct {
		page, n uint64
		prot    int
	}{{0, 2, unix.PROT_READ}, {6, 2, unix.PROT_READ}, {8, 2, unix.PROT_READ | unix.PROT_WRITE}} {
		if err := m.Mprotect(mp, pg(c.page), c.n*abi.PageSize, c.prot); err != nil {
			t.Fatal(err)
		}
	}
	// Beyond the writable one: the same object again, and a hole before
	// another read-only mapping of it.
	other := NewHostFileCache(mf, bytes.NewReader(data), uint64(len(data)), platform.HostFile{FD: 98, Dev: 7, Ino: 9})
	t.Cleanup(other.Release)
	for _, r := range []MapRequest{
		{Addr: pg(10), Length: 2 * abi.PageSize, Off: 10 * abi.PageSize, Prot: unix.PROT_READ},
		{Addr: pg(13), Length: abi.PageSize, Prot: unix.PROT_READ},
	} {
		r.Fixed, r.File = true, m.vmas.v[0].File
		if _, err := m.Mmap(mp, r); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := m.Mmap(mp, MapRequest{Addr: pg(20), Length: abi.PageSize, Fixed: true, Prot: unix.PROT_READ, File: other}); err != nil {
		t.Fatal(err)
	}
	mp.calls = nil
	if res, err := m.HandleFault(mp, pg(3), abi.SEGV_MAPERR, true, false); err != nil || res.Signo != 0 || res.HostFileMaps != 3 {
		t.Fatalf("fault: %v %+v", err, res)
	}
	wantCalls(t, mp, "siblings",
		hostCall{"file", pg(2), pg(6), rx, 2 * abi.PageSize},
		hostCall{"file", pg(0), pg(2), unix.PROT_READ, 0},
		hostCall{"file", pg(6), pg(8), unix.PROT_READ, 6 * abi.PageSize})
	wantRanges(t, m, pendingRange{pg(0), pg(8)})
	// A fault in the mapping past the writable one maps it alone: its
	// neighbour is a hole on one side and writable on the other.
	if _, err := m.HandleFault(mp, pg(10), abi.SEGV_MAPERR, false, false); err != nil {
		t.Fatal(err)
	}
	wantCalls(t, mp, "past the writable one", hostCall{"file", pg(10), pg(12), unix.PROT_READ, 10 * abi.PageSize})
	// A platform that cannot map the file: frames, the page's run alone.
	m2, _, _ := hostFileSpace(t, 4, 4, rx)
	defer m2.DropUser()
	if err := m2.Mprotect(mp, pg(0), abi.PageSize, unix.PROT_READ); err != nil {
		t.Fatal(err)
	}
	mp.noHost = true
	if res, err := m2.HandleFault(mp, pg(2), abi.SEGV_MAPERR, true, false); err != nil || res.Signo != 0 || res.HostFileMaps != 0 {
		t.Fatalf("no host file: %v %+v", err, res)
	}
	if len(mp.take("file")) != 0 || len(m2.hostFiles.r) != 0 {
		t.Fatal("host-file mapped without the platform")
	}
}
