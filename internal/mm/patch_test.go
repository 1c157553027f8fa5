package mm

import (
	"bytes"
	"encoding/binary"
	"testing"

	"golang.org/x/sys/unix"

	"glassbox/internal/abi"
	"glassbox/internal/memfile"
	"glassbox/internal/platform"
)

// testPatchSpec is a platform.PatchSpec whose jump names the entry.
func testPatchSpec() *platform.PatchSpec {
	return &platform.PatchSpec{
		Base: 0x0b0f0000, Size: 2 * abi.PageSize, Sites: 16,
		Init: func(region []byte) { region[0] = 0xee },
		Site: func(region []byte, k int, insn [5]byte, ret uint64) [7]byte {
			binary.LittleEndian.PutUint64(region[abi.PageSize+8*k:], ret)
			return [7]byte{0xff, 0x24, 0x25, byte(8 * k), 0, 0x0f, 0x0b}
		},
		Trampoline: func(addr uint64) int {
			if addr >= 0x0b0f1000 && addr < 0x0b0f2000 {
				return int(addr-0x0b0f1000) / 32
			}
			return 0
		},
	}
}

// syncMapper is a nopMapper with the platform's SyncCore.
type syncMapper struct {
	nopMapper
	syncs int
}

func (s *syncMapper) SyncCore() error { s.syncs++; return nil }

var origSite = []byte{0xb8, 0x27, 0, 0, 0, 0x0f, 0x05}

// TestPatchSite: a patched site is the process's own (another process
// mapping the file, and a fork child after the parent restores it, keep
// theirs), reads as it was through the debugger's paths, is restored when
// the page becomes writable or a mapping lands on the region, and every
// frame is given back.
func TestPatchSite(t *testing.T) {
	mf, err := memfile.New(64 << 20)
	if err != nil {
		t.Fatal(err)
	}
	code := make([]byte, abi.PageSize)
	copy(code[0x10:], origSite) // aligned: patchable
	copy(code[0x23:], origSite) // 3 bytes into a word: not
	fc := NewFileCache(mf, bytes.NewReader(code), uint64(len(code)))
	layout := platform.Layout{TaskSize: 1 << 40, Patch: testPatchSpec()}
	newSpace := func() *MM {
		m := New(mf, layout)
		m.AddUser()
		if _, err := m.Mmap(&nopMapper{}, MapRequest{Addr: 0x400000, Length: abi.PageSize, Fixed: true,
			Prot: unix.PROT_READ | unix.PROT_EXEC, File: fc}); err != nil {
			t.Fatal(err)
		}
		return m
	}
	read := func(m *MM, how string) []byte {
		b := make([]byte, 7)
		var err error
		switch how {
		case "kernel":
			err = m.CopyIn(&nopMapper{}, 0x400010, b)
		case "remote":
			_, err = m.RemoteCopy(0x400010, b, false)
		case "debugger":
			_, err = m.RemoteCopyForce(0x40000e, b, false) // two bytes before the site
		}
		if err != nil {
			t.Fatalf("%s read: %v", how, err)
		}
		return b
	}
	jump := []byte{0xff, 0x24, 0x25, 8, 0, 0x0f, 0x0b}
	mp := &nopMapper{}
	m := newSpace()
	read(m, "kernel") // fault the page in
	if m.PatchSite(mp, 0x400017, 40) {
		t.Fatal("patched a site whose number is another")
	}
	if m.PatchSite(mp, 0x40002a, 39) {
		t.Fatal("patched a site that straddles two words")
	}
	for i := 1; i < patchAfter; i++ {
		if m.PatchSite(mp, 0x400017, 39) {
			t.Fatalf("patched at trap %d", i)
		}
	}
	if !m.PatchSite(mp, 0x400017, 39) || mp.maps == 0 {
		t.Fatalf("did not patch the aligned site (host maps %d)", mp.maps)
	}
	if got := read(m, "kernel"); !bytes.Equal(got, jump) {
		t.Fatalf("patched bytes % x", got)
	}
	if got := read(m, "remote"); !bytes.Equal(got, origSite) {
		t.Fatalf("process_vm_readv sees % x", got)
	}
	if got := read(m, "debugger"); !bytes.Equal(got[2:], origSite[:5]) {
		t.Fatalf("/proc/PID/mem sees % x", got)
	}
	other := newSpace()
	if got := read(other, "kernel"); !bytes.Equal(got, origSite) {
		t.Fatalf("another process mapping the file sees % x", got)
	}
	if c, ok := m.PatchedTrap(0x400015, true); !ok || c.Insn || c.Ret != 0x400017 {
		t.Fatalf("ud2 at the old syscall: %+v %v", c, ok)
	}
	if c, ok := m.PatchedTrap(0x0b0f1000+32, false); !ok || !c.Insn || c.NR != 39 || c.Ret != 0x400017 {
		t.Fatalf("trap on the trampoline: %+v %v", c, ok)
	}
	c, err := m.Fork(mp)
	if err != nil {
		t.Fatal(err)
	}
	if !c.PatchRegionPending() {
		t.Fatal("the child's region is not waiting to be mapped")
	}
	if err := m.Mprotect(mp, 0x400000, abi.PageSize, unix.PROT_READ|unix.PROT_WRITE|unix.PROT_EXEC); err != nil {
		t.Fatal(err)
	}
	if got := read(m, "kernel"); !bytes.Equal(got, origSite) {
		t.Fatalf("writable page holds % x", got)
	}
	if got := read(c, "kernel"); !bytes.Equal(got, jump) {
		t.Fatalf("the child's copy changed with the parent's: % x", got)
	}
	if got := read(c, "remote"); !bytes.Equal(got, origSite) {
		t.Fatalf("the child reads % x", got)
	}
	cmp := &nopMapper{}
	if err := c.MapPatchRegion(cmp); err != nil || cmp.maps != 1 {
		t.Fatalf("child's region: %v, %d maps", err, cmp.maps)
	}
	// A guest mapping on the region: the sites go back, the region goes.
	if _, err := c.Mmap(cmp, MapRequest{Addr: 0x0b0f0000, Length: abi.PageSize, Fixed: true, Prot: unix.PROT_READ}); err != nil {
		t.Fatal(err)
	}
	if got := read(c, "kernel"); !bytes.Equal(got, origSite) || cmp.unmaps != 1 {
		t.Fatalf("after a mapping on the region: % x, %d unmaps", got, cmp.unmaps)
	}
	if patchN(c, cmp, 0x400017) {
		t.Fatal("patched again after the region was retired")
	}
	// With SyncCore, a site that straddles two words is patched in three
	// steps; a SIGTRAP just after its first byte is the rewrite's int3.
	sm := &syncMapper{}
	if !patchN(other, sm, 0x40002a) || sm.syncs != 2 {
		t.Fatalf("straddling site with SyncCore: %d syncs", sm.syncs)
	}
	b := make([]byte, 7)
	other.CopyIn(sm, 0x400023, b)
	if !bytes.Equal(b, []byte{0xff, 0x24, 0x25, 8, 0, 0x0f, 0x0b}) {
		t.Fatalf("straddling site holds % x", b)
	}
	if c, ok := other.PatchedTrap(0x400024, false); !ok || !c.Retry || c.Ret != 0x400023 {
		t.Fatalf("int3 of a rewrite: %+v %v", c, ok)
	}
	if err := other.Mprotect(sm, 0x400000, abi.PageSize, unix.PROT_READ|unix.PROT_WRITE); err != nil || sm.syncs != 4 {
		t.Fatalf("restore: %v, %d syncs", err, sm.syncs)
	}
	other.CopyIn(sm, 0x400023, b)
	if !bytes.Equal(b, origSite) {
		t.Fatalf("restored straddling site holds % x", b)
	}
	// A remote write over such a site (no Mapper: a fresh copy of the
	// page takes the original bytes and the write).
	third := newSpace()
	read(third, "kernel")
	if !patchN(third, sm, 0x40002a) {
		t.Fatal("straddling site not patched")
	}
	if n, err := third.RemoteCopyForce(0x400024, []byte{0x99}, true); n != 1 || err != nil {
		t.Fatalf("remote write: %d %v", n, err)
	}
	third.FlushStale(sm)
	third.CopyIn(sm, 0x400023, b)
	if !bytes.Equal(b, []byte{0xb8, 0x99, 0, 0, 0, 0x0f, 0x05}) {
		t.Fatalf("after a remote write over a straddling site: % x", b)
	}
	for _, x := range []*MM{m, c, other, third} {
		x.DropUser()
	}
	fc.Release()
	if used := mf.Stats().InUse; used != 0 {
		t.Errorf("%d frames still in use after release", used)
	}
}

// patchN is PatchSite of a getpid site as often as it takes (patchAfter).
func patchN(m *MM, mp Mapper, ret uint64) bool {
	for i := 1; i < patchAfter; i++ {
		if m.PatchSite(mp, ret, 39) {
			return false
		}
	}
	return m.PatchSite(mp, ret, 39)
}
