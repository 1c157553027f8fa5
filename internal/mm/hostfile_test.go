package mm

import (
	"bytes"
	"fmt"
	"testing"

	"golang.org/x/sys/unix"

	"glassbox/internal/abi"
	"glassbox/internal/memfile"
	"glassbox/internal/platform"
)

// hostCall is one call a hostMapper saw.
type hostCall struct {
	op         string // "map", "unmap", "protect", "file"
	start, end uint64
	prot       int
	off        uint64 // file offset of MapHostFile
}

func (c hostCall) String() string {
	return fmt.Sprintf("%s[%#x,%#x) prot %d off %#x", c.op, c.start, c.end, c.prot, c.off)
}

// hostMapper is a platform.HostFileMapper that records every call; with
// noHost set, MapHostFile answers ErrNoHostFile.
type hostMapper struct {
	calls  []hostCall
	noHost bool
	file   platform.HostFile // what the last MapHostFile named
	syncs  int
}

func (h *hostMapper) Map(addr, length uint64, prot int, off uint64) error {
	h.calls = append(h.calls, hostCall{"map", addr, addr + length, prot, off})
	return nil
}

func (h *hostMapper) Unmap(addr, length uint64) error {
	h.calls = append(h.calls, hostCall{op: "unmap", start: addr, end: addr + length})
	return nil
}

func (h *hostMapper) Protect(addr, length uint64, prot int) error {
	h.calls = append(h.calls, hostCall{op: "protect", start: addr, end: addr + length, prot: prot})
	return nil
}

func (h *hostMapper) MapHostFile(addr, length uint64, prot int, f platform.HostFile, off uint64) error {
	if h.noHost {
		return platform.ErrNoHostFile
	}
	if prot&^(unix.PROT_READ|unix.PROT_EXEC) != 0 {
		return unix.EINVAL
	}
	h.file = f
	h.calls = append(h.calls, hostCall{"file", addr, addr + length, prot, off})
	return nil
}

func (h *hostMapper) SyncCore() error { h.syncs++; return nil }

// of returns the calls of one kind and forgets every call.
func (h *hostMapper) take(op string) []hostCall {
	var out []hostCall
	for _, c := range h.calls {
		if c.op == op {
			out = append(out, c)
		}
	}
	h.calls = nil
	return out
}

var _ platform.HostFileMapper = (*hostMapper)(nil)

const hfBase = 0x40000000

// hostFileSpace maps pages pages of a host file (filePages long, each page
// filled with its number + 1) at hfBase, private, with prot.
func hostFileSpace(t *testing.T, pages, filePages uint64, prot int) (*MM, *memfile.File, []byte) {
	t.Helper()
	m, mf := newTestMM(t)
	data := make([]byte, filePages*abi.PageSize)
	for i := range data {
		data[i] = byte(uint64(i)>>abi.PageShift + 1)
	}
	fc := NewHostFileCache(mf, bytes.NewReader(data), uint64(len(data)), platform.HostFile{FD: 99, Dev: 7, Ino: 8})
	t.Cleanup(fc.Release)
	if _, err := m.Mmap(&nopMapper{}, MapRequest{Addr: hfBase, Length: pages * abi.PageSize, Fixed: true, Prot: prot, File: fc}); err != nil {
		t.Fatal(err)
	}
	return m, mf, data
}

func pg(i uint64) uint64 { return hfBase + i*abi.PageSize }

func wantRanges(t *testing.T, m *MM, want ...pendingRange) {
	t.Helper()
	got := m.hostFiles.r
	if len(got) != len(want) {
		t.Fatalf("host-file ranges %#x, want %#x", got, want)
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("host-file ranges %#x, want %#x", got, want)
		}
	}
}

// covered reports whether one of calls covers [start, end).
func covered(calls []hostCall, start, end uint64) bool {
	for _, c := range calls {
		if c.start <= start && end <= c.end {
			return true
		}
	}
	return false
}

// TestHostFileFault: a read fault in a read-only private mapping of a host
// file maps the whole file part of the VMA from the file with one call and
// allocates no frame; a page beyond the file's end still raises SIGBUS; a
// second read in the range that faults anyway gets a frame.
func TestHostFileFault(t *testing.T) {
	m, mf, _ := hostFileSpace(t, 10, 8, unix.PROT_READ|unix.PROT_EXEC)
	defer m.DropUser()
	mp := &hostMapper{}
	inUse := mf.Stats().InUse
	res, err := m.HandleFault(mp, pg(3)+5, abi.SEGV_MAPERR, false, false)
	if err != nil || res.Signo != 0 || res.HostFileMaps != 1 {
		t.Fatalf("fault: %v %+v", err, res)
	}
	files := mp.take("file")
	if len(files) != 1 || files[0] != (hostCall{"file", pg(0), pg(8), unix.PROT_READ | unix.PROT_EXEC, 0}) {
		t.Fatalf("MapHostFile calls %v", files)
	}
	if mp.file != (platform.HostFile{FD: 99, Dev: 7, Ino: 8}) {
		t.Fatalf("mapped host file %+v", mp.file)
	}
	if m.Resident() != 0 || mf.Stats().InUse != inUse {
		t.Fatalf("frames: resident %d, in use %d (was %d)", m.Resident(), mf.Stats().InUse, inUse)
	}
	wantRanges(t, m, pendingRange{pg(0), pg(8)})
	if st := m.Stats(); st.HostFileMaps != 1 {
		t.Fatalf("stats %+v", st)
	}
	if res, _ := m.HandleFault(mp, pg(9), abi.SEGV_MAPERR, false, false); res.Signo != abi.SIGBUS {
		t.Fatalf("beyond the file's end: %+v", res)
	}
	// The page is host-mapped: a fault there (the host lost it, or a
	// race) maps frames rather than the file again.
	if _, err := m.HandleFault(mp, pg(2), abi.SEGV_MAPERR, false, false); err != nil {
		t.Fatal(err)
	}
	if len(mp.take("map")) != 1 || m.hostFiles.has(pg(2)) || !m.pt.get(pg(2)).mapped() {
		t.Fatalf("a fault in a host-file range did not map a frame")
	}
	// mincore: host-file pages are resident, pages past the end are not.
	v, err := m.Mincore(pg(0), 10*abi.PageSize)
	if err != nil || !bytes.Equal(v, []byte{1, 1, 1, 1, 1, 1, 1, 1, 0, 0}) {
		t.Fatalf("mincore %v %v", v, err)
	}
}

// TestHostFileWrite: a write fault takes the frame path (and a write to a
// read-only mapping ends in SIGSEGV); the frames mapped replace the
// host-file pages, which leave the set.
func TestHostFileWrite(t *testing.T) {
	m, _, _ := hostFileSpace(t, 8, 8, unix.PROT_READ)
	defer m.DropUser()
	mp := &hostMapper{}
	if _, err := m.HandleFault(mp, pg(6), abi.SEGV_MAPERR, false, false); err != nil {
		t.Fatal(err)
	}
	mp.take("")
	res, err := m.HandleFault(mp, pg(1), abi.SEGV_ACCERR, false, true)
	if err != nil || res.Signo != 0 {
		t.Fatalf("first write fault: %v %+v", err, res)
	}
	maps := mp.take("map")
	if len(maps) != 1 || !covered(maps, pg(1), pg(2)) || len(mp.calls) != 0 {
		t.Fatalf("write fault mapped %v", maps)
	}
	for a := maps[0].start; a < maps[0].end; a += abi.PageSize {
		if m.hostFiles.has(a) || !m.pt.get(a).mapped() {
			t.Fatalf("page %#x: host-file %v, pte %#x", a, m.hostFiles.has(a), m.pt.get(a))
		}
	}
	if res, _ := m.HandleFault(mp, pg(1), abi.SEGV_ACCERR, false, true); res.Signo != abi.SIGSEGV {
		t.Fatalf("write to a read-only mapping: %+v", res)
	}
	// A writable private mapping of the same file is not eligible.
	w, _, _ := hostFileSpace(t, 4, 4, unix.PROT_READ|unix.PROT_WRITE)
	defer w.DropUser()
	if _, err := w.HandleFault(mp, pg(0), abi.SEGV_MAPERR, false, false); err != nil {
		t.Fatal(err)
	}
	if len(mp.take("file")) != 0 || len(w.hostFiles.r) != 0 {
		t.Fatal("host-mapped a writable mapping")
	}
}

// TestHostFileChanges: mprotect taking rights away lowers part of a
// host-file range in the host; mprotect giving rights, munmap, MAP_FIXED
// and mremap over part of it unmap it on the host (never outside the range
// asked for) and take it out of the set.
func TestHostFileChanges(t *testing.T) {
	m, _, data := hostFileSpace(t, 16, 16, unix.PROT_READ)
	defer m.DropUser()
	mp := &hostMapper{}
	fault := func(a uint64) {
		t.Helper()
		if res, err := m.HandleFault(mp, a, abi.SEGV_MAPERR, false, false); err != nil || res.Signo != 0 {
			t.Fatalf("fault at %#x: %v %+v", a, err, res)
		}
	}
	fault(pg(0))
	wantRanges(t, m, pendingRange{pg(0), pg(16)})
	check := func(what string, lo, hi uint64) {
		t.Helper()
		un := mp.take("unmap")
		if !covered(un, lo, hi) {
			t.Fatalf("%s: unmaps %v do not cover [%#x,%#x)", what, un, lo, hi)
		}
		for _, c := range un {
			if c.start < lo || c.end > hi {
				t.Fatalf("%s: unmap %v reaches outside [%#x,%#x)", what, c, lo, hi)
			}
		}
	}
	if err := m.Mprotect(mp, pg(2), 2*abi.PageSize, unix.PROT_NONE); err != nil {
		t.Fatal(err)
	}
	// Taking rights away keeps the host's mapping, lowered.
	if p := mp.take("protect"); len(p) != 1 || p[0] != (hostCall{"protect", pg(2), pg(4), unix.PROT_NONE, 0}) || len(mp.calls) != 0 {
		t.Fatalf("mprotect PROT_NONE: protects %v, other calls %v", p, mp.calls)
	}
	wantRanges(t, m, pendingRange{pg(0), pg(16)})
	if res, _ := m.HandleFault(mp, pg(3), abi.SEGV_ACCERR, false, false); res.Signo != abi.SIGSEGV {
		t.Fatalf("PROT_NONE page: %+v", res)
	}
	// Giving them back unmaps.
	if err := m.Mprotect(mp, pg(2), 2*abi.PageSize, unix.PROT_READ); err != nil {
		t.Fatal(err)
	}
	check("mprotect", pg(2), pg(4))
	wantRanges(t, m, pendingRange{pg(0), pg(2)}, pendingRange{pg(4), pg(16)})
	fault(pg(3)) // maps the pte-less runs not mapped yet: [2, 4)
	if f := mp.take("file"); len(f) != 1 || f[0].start != pg(2) || f[0].end != pg(4) || f[0].off != 2*abi.PageSize {
		t.Fatalf("refault mapped %v", f)
	}
	wantRanges(t, m, pendingRange{pg(0), pg(16)})
	if err := m.Munmap(mp, pg(5), abi.PageSize); err != nil {
		t.Fatal(err)
	}
	check("munmap", pg(5), pg(6))
	wantRanges(t, m, pendingRange{pg(0), pg(5)}, pendingRange{pg(6), pg(16)})
	if _, err := m.Mmap(mp, MapRequest{Addr: pg(7), Length: 2 * abi.PageSize, Fixed: true,
		Prot: unix.PROT_READ | unix.PROT_WRITE}); err != nil {
		t.Fatal(err)
	}
	check("MAP_FIXED", pg(7), pg(9))
	wantRanges(t, m, pendingRange{pg(0), pg(5)}, pendingRange{pg(6), pg(7)}, pendingRange{pg(9), pg(16)})
	// mremap [9, 12) elsewhere: the old place is unmapped, the new one
	// faults and is mapped from the file at the right offset.
	dst, err := m.Mremap(mp, pg(9), 3*abi.PageSize, 3*abi.PageSize, unix.MREMAP_MAYMOVE|unix.MREMAP_FIXED, 0x50000000, MemlockLimit{Capable: true}, NoAddressLimits)
	if err != nil || dst != 0x50000000 {
		t.Fatalf("mremap: %#x %v", dst, err)
	}
	check("mremap", pg(9), pg(12))
	wantRanges(t, m, pendingRange{pg(0), pg(5)}, pendingRange{pg(6), pg(7)}, pendingRange{pg(12), pg(16)})
	fault(dst + abi.PageSize)
	wantRanges(t, m, pendingRange{pg(0), pg(5)}, pendingRange{pg(6), pg(7)}, pendingRange{pg(12), pg(16)}, pendingRange{dst, dst + 3*abi.PageSize})
	if f := mp.take("file"); len(f) != 1 || f[0].start != dst || f[0].end != dst+3*abi.PageSize || f[0].off != 9*abi.PageSize {
		t.Fatalf("moved mapping mapped %v", f)
	}
	b := make([]byte, 3)
	if err := m.CopyIn(mp, dst+abi.PageSize-1, b); err != nil || b[0] != data[9*abi.PageSize] || b[2] != data[10*abi.PageSize] {
		t.Fatalf("moved bytes % x %v", b, err)
	}
	// MADV_DONTNEED drops the host-file pages too.
	if err := m.Madvise(mp, pg(12), 2*abi.PageSize, unix.MADV_DONTNEED); err != nil {
		t.Fatal(err)
	}
	check("MADV_DONTNEED", pg(12), pg(14))
	wantRanges(t, m, pendingRange{pg(0), pg(5)}, pendingRange{pg(6), pg(7)}, pendingRange{pg(14), pg(16)}, pendingRange{dst, dst + 3*abi.PageSize})
	// Adding PROT_WRITE makes the mapping ineligible: its pages go.
	if err := m.Mprotect(mp, pg(0), 5*abi.PageSize, unix.PROT_READ|unix.PROT_WRITE); err != nil {
		t.Fatal(err)
	}
	check("mprotect +w", pg(0), pg(5))
	wantRanges(t, m, pendingRange{pg(6), pg(7)}, pendingRange{pg(14), pg(16)}, pendingRange{dst, dst + 3*abi.PageSize})
	fault(pg(1))
	if len(mp.take("file")) != 0 {
		t.Fatal("host-mapped a writable mapping")
	}
}

// TestHostFileCopies: a kernel read of a host-mapped page gives it a frame
// with the file's bytes and leaves the host's mapping alone; a
// debugger's write there (no Mapper) queues the host-file page for the
// owner to unmap, so that its next touch maps the written frame; a
// platform that cannot map the file gets frames; a fork child starts with
// nothing host-mapped.
func TestHostFileCopies(t *testing.T) {
	m, _, data := hostFileSpace(t, 8, 8, unix.PROT_READ|unix.PROT_EXEC)
	defer m.DropUser()
	mp := &hostMapper{}
	if _, err := m.HandleFault(mp, pg(0), abi.SEGV_MAPERR, true, false); err != nil {
		t.Fatal(err)
	}
	mp.take("")
	b := make([]byte, 2)
	if err := m.CopyIn(mp, pg(4)-1, b); err != nil || b[0] != data[4*abi.PageSize-1] || b[1] != data[4*abi.PageSize] {
		t.Fatalf("CopyIn % x %v", b, err)
	}
	if len(mp.calls) != 0 || !m.pt.get(pg(4)).present() || !m.hostFiles.has(pg(4)) {
		t.Fatalf("CopyIn changed host mappings: %v", mp.calls)
	}
	if m.Resident() != 2 {
		t.Fatalf("CopyIn of two host-mapped pages gave %d frames", m.Resident())
	}
	// A debugger writes a breakpoint.
	if n, err := m.RemoteCopyForce(pg(4)+8, []byte{0xcc}, true); n != 1 || err != nil {
		t.Fatalf("poke: %d %v", n, err)
	}
	if m.hostFiles.has(pg(4)) || !m.HasStale() {
		t.Fatal("the poked page is still host-file mapped, with no unmap queued")
	}
	if err := m.FlushStale(mp); err != nil {
		t.Fatal(err)
	}
	if un := mp.take("unmap"); len(un) != 1 || un[0].start != pg(4) || un[0].end != pg(5) {
		t.Fatalf("FlushStale unmapped %v", un)
	}
	if _, err := m.HandleFault(mp, pg(4)+8, abi.SEGV_MAPERR, true, false); err != nil {
		t.Fatal(err)
	}
	if len(mp.take("map")) != 1 || !m.pt.get(pg(4)).mapped() {
		t.Fatal("the poked page's frame was not mapped")
	}
	if _, err := m.RemoteCopy(pg(4)+7, b, false); err != nil || b[0] != data[4*abi.PageSize] || b[1] != 0xcc {
		t.Fatalf("after the poke: % x %v", b, err)
	}
	// Fork: the child maps nothing of the parent's.
	c, err := m.Fork(mp)
	if err != nil {
		t.Fatal(err)
	}
	defer c.DropUser()
	if len(c.hostFiles.r) != 0 || len(m.hostFiles.r) == 0 {
		t.Fatalf("after fork: child %#x, parent %#x", c.hostFiles.r, m.hostFiles.r)
	}
	cmp := &hostMapper{}
	if _, err := c.HandleFault(cmp, pg(1), abi.SEGV_MAPERR, false, false); err != nil {
		t.Fatal(err)
	}
	// The child's pte-less runs: all but pages 3 and 4 (frames CopyIn
	// gave them, shared with the parent).
	if f := cmp.take("file"); len(f) != 2 || f[0].start != pg(0) || f[0].end != pg(3) || f[1].start != pg(5) || f[1].end != pg(8) {
		t.Fatalf("child mapped %v", f)
	}
	// ErrNoHostFile: frames, as without the platform's help.
	n, _, _ := hostFileSpace(t, 8, 8, unix.PROT_READ)
	defer n.DropUser()
	nmp := &hostMapper{noHost: true}
	if _, err := n.HandleFault(nmp, pg(2), abi.SEGV_MAPERR, false, false); err != nil {
		t.Fatal(err)
	}
	if len(nmp.take("map")) != 1 || len(n.hostFiles.r) != 0 || !n.pt.get(pg(2)).mapped() {
		t.Fatal("ErrNoHostFile did not fall back to frames")
	}
	// A Mapper that cannot map files: frames.
	o, _, _ := hostFileSpace(t, 8, 8, unix.PROT_READ)
	defer o.DropUser()
	if _, err := o.HandleFault(&nopMapper{}, pg(2), abi.SEGV_MAPERR, false, false); err != nil || len(o.hostFiles.r) != 0 || o.Resident() == 0 {
		t.Fatalf("plain Mapper: %v, ranges %#x", err, o.hostFiles.r)
	}
}

// TestHostFilePatch: a syscall site in a host-mapped page is patched in
// the page's own frame, which replaces the file's page on the host.
func TestHostFilePatch(t *testing.T) {
	mf, err := memfile.New(64 << 20)
	if err != nil {
		t.Fatal(err)
	}
	defer mf.Close()
	code := make([]byte, abi.PageSize)
	copy(code[0x10:], origSite)
	fc := NewHostFileCache(mf, bytes.NewReader(code), uint64(len(code)), platform.HostFile{FD: 5})
	defer fc.Release()
	m := New(mf, platform.Layout{TaskSize: 1 << 40, Patch: testPatchSpec()})
	m.AddUser()
	defer m.DropUser()
	if _, err := m.Mmap(&nopMapper{}, MapRequest{Addr: 0x400000, Length: abi.PageSize, Fixed: true,
		Prot: unix.PROT_READ | unix.PROT_EXEC, File: fc}); err != nil {
		t.Fatal(err)
	}
	mp := &hostMapper{}
	if _, err := m.HandleFault(mp, 0x400010, abi.SEGV_MAPERR, true, false); err != nil {
		t.Fatal(err)
	}
	if !m.hostFiles.has(0x400000) || m.Resident() != 0 {
		t.Fatal("the code page is not host-file mapped")
	}
	mp.take("")
	for i := 1; i < patchAfter; i++ {
		if m.PatchSite(mp, 0x400017, 39) {
			t.Fatalf("patched at trap %d", i)
		}
	}
	if m.Resident() != 0 {
		t.Fatal("a frame before the site was worth patching")
	}
	if !m.PatchSite(mp, 0x400017, 39) {
		t.Fatal("did not patch the site")
	}
	if m.hostFiles.has(0x400000) || !covered(mp.take("map"), 0x400000, 0x401000) {
		t.Fatal("the patched frame does not replace the file's page")
	}
	b := make([]byte, 7)
	if err := m.CopyIn(mp, 0x400010, b); err != nil || !bytes.Equal(b, []byte{0xff, 0x24, 0x25, 8, 0, 0x0f, 0x0b}) {
		t.Fatalf("patched bytes % x %v", b, err)
	}
	if got := fc.Size(); got != abi.PageSize || code[0x10] != 0xb8 {
		t.Fatal("the file changed")
	}
}

// TestHostFileSet: the interval set's add and remove.
func TestHostFileSet(t *testing.T) {
	var s hostFileSet
	s.add(10, 20)
	s.add(30, 40)
	s.add(20, 25) // adjacent: merged
	if fmt.Sprint(s.r) != "[{10 25} {30 40}]" {
		t.Fatalf("after adds %v", s.r)
	}
	if lo, hi := s.remove(22, 35); lo != 22 || hi != 35 || fmt.Sprint(s.r) != "[{10 22} {35 40}]" {
		t.Fatalf("remove: %d %d %v", lo, hi, s.r)
	}
	if lo, hi := s.remove(0, 5); hi != 0 || lo != 0 {
		t.Fatal("removed from nothing")
	}
	if lo, hi := s.remove(0, 100); lo != 10 || hi != 40 || len(s.r) != 0 {
		t.Fatalf("remove all: %d %d %v", lo, hi, s.r)
	}
	s.add(5, 8)
	s.add(1, 100)
	if fmt.Sprint(s.r) != "[{1 100}]" || !s.has(99) || s.has(100) || s.has(0) {
		t.Fatalf("covering add: %v", s.r)
	}
}

// TestHostFilePopulated: pages that have frames already (MAP_POPULATE)
// are mapped as frames, a run at once, and no file page is mapped over
// them; a write fault elsewhere gives a frame to its page alone.
func TestHostFilePopulated(t *testing.T) {
	m, mf := newTestMM(t)
	defer m.DropUser()
	data := bytes.Repeat([]byte{7}, 16*abi.PageSize)
	fc := NewHostFileCache(mf, bytes.NewReader(data), uint64(len(data)), platform.HostFile{FD: 3})
	defer fc.Release()
	if _, err := m.Mmap(&nopMapper{}, MapRequest{Addr: hfBase, Length: 8 * abi.PageSize, Fixed: true,
		Prot: unix.PROT_READ, File: fc, Populate: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Mmap(&nopMapper{}, MapRequest{Addr: pg(8), Length: 8 * abi.PageSize, Fixed: true,
		Prot: unix.PROT_READ, File: fc, Off: 8 * abi.PageSize}); err != nil {
		t.Fatal(err)
	}
	mp := &hostMapper{}
	if _, err := m.HandleFault(mp, pg(3), abi.SEGV_MAPERR, false, false); err != nil {
		t.Fatal(err)
	}
	if maps := mp.take("map"); len(maps) != 1 || maps[0].start != pg(0) || maps[0].end != pg(8) || len(mp.calls) != 0 {
		t.Fatalf("populated pages mapped %v", maps)
	}
	if len(m.hostFiles.r) != 0 {
		t.Fatalf("host-file ranges %#x over populated pages", m.hostFiles.r)
	}
	before := m.Resident()
	if _, err := m.HandleFault(mp, pg(12), abi.SEGV_ACCERR, false, true); err != nil {
		t.Fatal(err)
	}
	if maps := mp.take("map"); len(maps) != 1 || maps[0].start != pg(12) || maps[0].end != pg(13) || m.Resident() != before+1 {
		t.Fatalf("write fault mapped %v, resident %d (was %d)", maps, m.Resident(), before)
	}
}

// TestUnmapSparesPatchRegion: a munmap whose host mappings lie on both
// sides of the patch region (which has no VMA) leaves the region mapped.
func TestUnmapSparesPatchRegion(t *testing.T) {
	mf, err := memfile.New(64 << 20)
	if err != nil {
		t.Fatal(err)
	}
	defer mf.Close()
	spec := testPatchSpec()
	m := New(mf, platform.Layout{TaskSize: 1 << 40, Patch: spec})
	m.AddUser()
	defer m.DropUser()
	fr, err := mf.Alloc(spec.Size >> abi.PageShift)
	if err != nil {
		t.Fatal(err)
	}
	m.patch.region, m.patch.frames = fr, spec.Size>>abi.PageShift // mapped, as after a first patch
	mp := &hostMapper{}
	below, above := spec.Base-4*abi.PageSize, spec.Base+spec.Size+4*abi.PageSize
	for _, a := range []uint64{below, above} {
		if _, err := m.Mmap(mp, MapRequest{Addr: a, Length: abi.PageSize, Fixed: true, Prot: unix.PROT_READ | unix.PROT_WRITE}); err != nil {
			t.Fatal(err)
		}
		if _, err := m.HandleFault(mp, a, abi.SEGV_MAPERR, false, true); err != nil {
			t.Fatal(err)
		}
	}
	mp.take("")
	if err := m.Munmap(mp, below, above+abi.PageSize-below); err != nil {
		t.Fatal(err)
	}
	un := mp.take("unmap")
	if !covered(un, below, below+abi.PageSize) || !covered(un, above, above+abi.PageSize) {
		t.Fatalf("unmaps %v miss the pages", un)
	}
	for _, c := range un {
		if c.start < spec.Base+spec.Size && spec.Base < c.end {
			t.Fatalf("unmap %v takes the patch region [%#x,%#x)", c, spec.Base, spec.Base+spec.Size)
		}
	}
}

// TestHostFileKernelRead: a kernel read in a host-mappable mapping the
// host has not mapped yet gives a frame to the page read alone; the
// guest's first touch then maps the file around it.
func TestHostFileKernelRead(t *testing.T) {
	m, _, data := hostFileSpace(t, 8, 8, unix.PROT_READ)
	defer m.DropUser()
	mp := &hostMapper{}
	b := make([]byte, 4)
	if err := m.CopyIn(mp, pg(5)+10, b); err != nil || !bytes.Equal(b, data[5*abi.PageSize+10:][:4]) {
		t.Fatalf("CopyIn % x %v", b, err)
	}
	if m.Resident() != 1 || len(mp.calls) != 0 {
		t.Fatalf("a kernel read gave %d frames, host calls %v", m.Resident(), mp.calls)
	}
	if _, err := m.HandleFault(mp, pg(1), abi.SEGV_MAPERR, false, false); err != nil {
		t.Fatal(err)
	}
	if f := mp.take("file"); len(f) != 2 || f[0].start != pg(0) || f[0].end != pg(5) || f[1].start != pg(6) || f[1].end != pg(8) {
		t.Fatalf("mapped %v", f)
	}
}
