package mm

import (
	"bytes"
	"testing"

	"golang.org/x/sys/unix"

	"glassbox/internal/abi"
)

// anonSpace maps pages of anonymous memory at hfBase with prot and has a
// write fault map them all (one window), writable.
func anonSpace(t *testing.T, pages uint64, prot int) (*MM, *hostMapper) {
	t.Helper()
	m, _ := newTestMM(t)
	t.Cleanup(m.DropUser)
	mp := &hostMapper{}
	if _, err := m.Mmap(mp, MapRequest{Addr: hfBase, Length: pages * abi.PageSize, Fixed: true, Prot: prot}); err != nil {
		t.Fatal(err)
	}
	if res, err := m.HandleFault(mp, pg(0), abi.SEGV_MAPERR, false, true); err != nil || res.Signo != 0 {
		t.Fatalf("fault: %v %+v", err, res)
	}
	if maps := mp.take("map"); len(maps) != 1 || maps[0].start != pg(0) || maps[0].end != pg(pages) {
		t.Fatalf("first fault mapped %v", maps)
	}
	return m, mp
}

// wantMapped checks the host-mapping bits of pages [lo, hi).
func wantMapped(t *testing.T, m *MM, lo, hi uint64, mapped, writable bool) {
	t.Helper()
	for i := lo; i < hi; i++ {
		if p := m.pt.get(pg(i)); p.mapped() != mapped || p.mappedWritable() != writable {
			t.Fatalf("page %d: pte %#x, want mapped %v writable %v", i, p, mapped, writable)
		}
	}
}

// wantCalls checks that the mapper saw exactly want, and forgets them.
func wantCalls(t *testing.T, mp *hostMapper, what string, want ...hostCall) {
	t.Helper()
	got := mp.calls
	mp.calls = nil
	if len(got) != len(want) {
		t.Fatalf("%s: host calls %v, want %v", what, got, want)
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("%s: host calls %v, want %v", what, got, want)
		}
	}
}

// TestMprotectLowers: an mprotect that only takes rights away lowers the
// host's mappings in place, one call per run, and they keep no write
// access the VMA lost; one that gives a right back unmaps them; a fork
// then has nothing left to write-protect there.
func TestMprotectLowers(t *testing.T) {
	const rw = unix.PROT_READ | unix.PROT_WRITE
	m, mp := anonSpace(t, 16, rw)
	wantMapped(t, m, 0, 16, true, true)
	if err := m.Mprotect(mp, pg(2), 4*abi.PageSize, unix.PROT_READ); err != nil {
		t.Fatal(err)
	}
	wantCalls(t, mp, "RW→R", hostCall{"protect", pg(2), pg(6), unix.PROT_READ, 0})
	wantMapped(t, m, 0, 2, true, true)
	wantMapped(t, m, 2, 6, true, false)
	wantMapped(t, m, 6, 16, true, true)
	// A write there is refused without a host call.
	if res, err := m.HandleFault(mp, pg(3), abi.SEGV_ACCERR, false, true); err != nil || res.Signo != abi.SIGSEGV || res.Code != abi.SEGV_ACCERR {
		t.Fatalf("write to the lowered page: %v %+v", err, res)
	}
	wantCalls(t, mp, "refused write")
	// Over both VMAs (RW mapped writable, R mapped read-only): one run.
	if err := m.Mprotect(mp, pg(0), 8*abi.PageSize, unix.PROT_READ); err != nil {
		t.Fatal(err)
	}
	wantCalls(t, mp, "RW,R→R", hostCall{"protect", pg(0), pg(8), unix.PROT_READ, 0})
	wantMapped(t, m, 0, 8, true, false)
	// Giving write back unmaps: the pages fault in again writable.
	if err := m.Mprotect(mp, pg(2), 4*abi.PageSize, rw); err != nil {
		t.Fatal(err)
	}
	wantCalls(t, mp, "R→RW", hostCall{"unmap", pg(2), pg(6), 0, 0})
	wantMapped(t, m, 2, 6, false, false)
	// PROT_NONE over [0, 16): the runs either side of the unmapped hole.
	if err := m.Mprotect(mp, pg(0), 16*abi.PageSize, unix.PROT_NONE); err != nil {
		t.Fatal(err)
	}
	wantCalls(t, mp, "→NONE", hostCall{"protect", pg(0), pg(2), unix.PROT_NONE, 0},
		hostCall{"protect", pg(6), pg(16), unix.PROT_NONE, 0})
	wantMapped(t, m, 0, 2, true, false)
	wantMapped(t, m, 6, 16, true, false)
	if res, _ := m.HandleFault(mp, pg(7), abi.SEGV_ACCERR, false, false); res.Signo != abi.SIGSEGV {
		t.Fatalf("read of a PROT_NONE page: %+v", res)
	}
	c, err := m.Fork(mp)
	if err != nil {
		t.Fatal(err)
	}
	defer c.DropUser()
	wantCalls(t, mp, "fork")
}

// TestMprotectKeepsCOW: taking exec away from RWX pages keeps write access
// on the pages that had it and none on copy-on-write pages, whose next
// write still copies.
func TestMprotectKeepsCOW(t *testing.T) {
	const rw = unix.PROT_READ | unix.PROT_WRITE
	m, mp := anonSpace(t, 16, rw|unix.PROT_EXEC)
	c, err := m.Fork(mp)
	if err != nil {
		t.Fatal(err)
	}
	defer c.DropUser()
	mp.calls = nil
	wantMapped(t, m, 0, 16, true, false)
	if res, err := m.HandleFault(mp, pg(5), abi.SEGV_ACCERR, false, true); err != nil || res.Signo != 0 || res.COW == 0 {
		t.Fatalf("write fault: %v %+v", err, res)
	}
	mp.calls = nil
	// The copied run [5, w) is writable; the rest still shares frames.
	w := uint64(6)
	for w < 16 && m.pt.get(pg(w)).mappedWritable() {
		w++
	}
	wantMapped(t, m, 0, 5, true, false)
	wantMapped(t, m, 5, w, true, true)
	wantMapped(t, m, w, 16, true, false)
	if err := m.Mprotect(mp, pg(0), 16*abi.PageSize, rw); err != nil {
		t.Fatal(err)
	}
	want := []hostCall{{"protect", pg(0), pg(5), unix.PROT_READ, 0}, {"protect", pg(5), pg(w), rw, 0}}
	if w < 16 {
		want = append(want, hostCall{"protect", pg(w), pg(16), unix.PROT_READ, 0})
	}
	wantCalls(t, mp, "RWX→RW", want...)
	wantMapped(t, m, 0, 5, true, false)
	wantMapped(t, m, 5, w, true, true)
	wantMapped(t, m, w, 16, true, false)
	if res, err := m.HandleFault(mp, pg(1), abi.SEGV_ACCERR, false, true); err != nil || res.Signo != 0 || res.COW == 0 {
		t.Fatalf("write fault after mprotect: %v %+v", err, res)
	}
}

// TestMprotectManyRuns: mappings in more than maxProtectRuns pieces are
// unmapped with one call instead; up to maxProtectRuns are lowered.
func TestMprotectManyRuns(t *testing.T) {
	for _, runs := range []uint64{maxProtectRuns, maxProtectRuns + 1} {
		m, mp := anonSpace(t, 2*runs, unix.PROT_READ|unix.PROT_WRITE)
		for i := uint64(1); i < 2*runs; i += 2 {
			if err := m.Madvise(mp, pg(i), abi.PageSize, unix.MADV_DONTNEED); err != nil {
				t.Fatal(err)
			}
		}
		mp.calls = nil
		if err := m.Mprotect(mp, pg(0), 2*runs*abi.PageSize, unix.PROT_READ); err != nil {
			t.Fatal(err)
		}
		if runs > maxProtectRuns {
			wantCalls(t, mp, "many runs", hostCall{"unmap", pg(0), pg(2*runs - 1), 0, 0})
			wantMapped(t, m, 0, 2*runs, false, false)
			continue
		}
		var want []hostCall
		for i := uint64(0); i < 2*runs; i += 2 {
			want = append(want, hostCall{"protect", pg(i), pg(i + 1), unix.PROT_READ, 0})
			wantMapped(t, m, i, i+1, true, false)
		}
		wantCalls(t, mp, "runs", want...)
	}
}

// TestMprotectHostFileAndFrames: host-file ranges and frames either side
// of them, all lowered to the same protection, take one call.
func TestMprotectHostFileAndFrames(t *testing.T) {
	m, _, _ := hostFileSpace(t, 16, 16, unix.PROT_READ|unix.PROT_EXEC)
	defer m.DropUser()
	mp := &hostMapper{}
	for _, code := range []int{abi.SEGV_MAPERR, abi.SEGV_MAPERR} {
		// The first maps the file; the second, in the range, a frame.
		if res, err := m.HandleFault(mp, pg(3), code, false, false); err != nil || res.Signo != 0 {
			t.Fatalf("fault: %v %+v", err, res)
		}
	}
	wantRanges(t, m, pendingRange{pg(0), pg(3)}, pendingRange{pg(4), pg(16)})
	mp.calls = nil
	if err := m.Mprotect(mp, pg(1), 10*abi.PageSize, unix.PROT_READ); err != nil {
		t.Fatal(err)
	}
	wantCalls(t, mp, "RX→R", hostCall{"protect", pg(1), pg(11), unix.PROT_READ, 0})
	wantRanges(t, m, pendingRange{pg(0), pg(3)}, pendingRange{pg(4), pg(16)})
	if p := m.pt.get(pg(3)); !p.mapped() || p.mappedWritable() {
		t.Fatalf("frame page: pte %#x", p)
	}
	if res, _ := m.HandleFault(mp, pg(2), abi.SEGV_ACCERR, true, false); res.Signo != abi.SIGSEGV {
		t.Fatalf("exec of a page that lost PROT_EXEC: %+v", res)
	}
}

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
