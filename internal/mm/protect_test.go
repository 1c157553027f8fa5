package mm

import (
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
	// Nothing changes: nothing to do.
	if err := m.Mprotect(mp, pg(0), 8*abi.PageSize, unix.PROT_READ); err != nil {
		t.Fatal(err)
	}
	wantCalls(t, mp, "R→R")
	// Runs only over VMAs that keep their protection are left alone.
	if err := m.Mprotect(mp, pg(6), 2*abi.PageSize, rw); err != nil {
		t.Fatal(err)
	}
	mp.calls = nil
	if err := m.Mprotect(mp, pg(0), 8*abi.PageSize, unix.PROT_READ); err != nil {
		t.Fatal(err)
	}
	wantCalls(t, mp, "R,RW(unmapped)→R")
	wantMapped(t, m, 0, 6, true, false)
	// Giving write back unmaps: the pages fault in again writable.
	if err := m.Mprotect(mp, pg(2), 4*abi.PageSize, rw); err != nil {
		t.Fatal(err)
	}
	wantCalls(t, mp, "R→RW", hostCall{"unmap", pg(2), pg(6), 0, 0})
	wantMapped(t, m, 2, 6, false, false)
	// PROT_NONE over [0, 16): the runs either side of the unmapped hole
	// [2, 8).
	if err := m.Mprotect(mp, pg(0), 16*abi.PageSize, unix.PROT_NONE); err != nil {
		t.Fatal(err)
	}
	wantCalls(t, mp, "→NONE", hostCall{"protect", pg(0), pg(2), unix.PROT_NONE, 0},
		hostCall{"protect", pg(8), pg(16), unix.PROT_NONE, 0})
	wantMapped(t, m, 0, 2, true, false)
	wantMapped(t, m, 8, 16, true, false)
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
