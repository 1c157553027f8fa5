package mm

import (
	"encoding/binary"
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"

	"glassbox/internal/abi"
	"glassbox/internal/memfile"
)

// Patched syscall sites (platform.PatchSpec). When the platform offers
// them, the kernel asks PatchSite to replace a site that just trapped
// (for the patchAfter'th time) with a jump into the platform's trampoline
// for it.
// The address space keeps:
//
//   - the patch region: memory-file frames of its own, mapped read-only
//     and executable at spec.Base in the stub, with no VMA: the guest
//     cannot see it in /proc/PID/maps, read it through the kernel, or
//     change it. A guest mapping over it (mmap, brk, mremap) first
//     restores every site and retires the region for good (collide).
//   - a record of each patched site: its original bytes, so that a
//     debugger's or another process's read of the page (RemoteCopy,
//     RemoteCopyForce: /proc/PID/mem, process_vm_readv, PTRACE_PEEKTEXT)
//     sees them, and so that the site can be restored before anything
//     may write the page or move it: mprotect adding PROT_WRITE, a
//     remote write over the site, mremap of it. munmap and MAP_FIXED over
//     it drop the record with the page. A record whose bytes are no
//     longer the jump (the page was dropped and read again from its file,
//     madvise(MADV_DONTNEED)) is stale and ignored.
//   - the entries handed out. An entry is never reused within the
//     address space or its forks: a thread may still be inside a
//     trampoline whose site has just been restored.
//
// Another thread of the process must execute either the old instruction
// pair or the new jump, never a mix. A site whose 7 bytes lie in one
// aligned 8-byte word is patched and restored with one atomic 8-byte
// store. Any other site is rewritten as Linux's text_poke_bp does: an
// int3 over its first byte, then the other six, then the first, with the
// platform's SyncCore (membarrier SYNC_CORE: every CPU running the
// process serialised) after each of the first two steps, so that no CPU
// can still be executing an instruction it fetched before. Meanwhile the
// only ways in are the first byte (int3: the kernel sees the SIGTRAP one
// byte after a site it rewrote, whose first byte is no longer int3, and
// runs the guest from the site again: PatchedTrap) and the syscall's
// place, whose first byte 0f stays and whose second is one store (05,
// syscall, or 0b, ud2: the patched call). Without SyncCore (a platform
// that lacks it) such sites are not patched. The page first becomes the
// process's own copy (as for PTRACE_POKETEXT): other processes mapping
// the same file page are unchanged.
//
// Fork copies the region (the child's stub maps it before the child runs:
// MapPatchRegion) and the records; exec starts with a new address space.
// All of it is guarded by MM.mu.
type patchState struct {
	sites   map[uint64]*patchSite // by the address of the mov
	entries []patchEntry          // by entry; kept after a site's record goes
	region  memfile.Frame         // its first frame; valid when frames > 0
	frames  uint64
	unmap   atomic.Bool // the region is not host-mapped yet (a fork child)
	retired bool        // a guest mapping took the region's place
	// rewritten lists the sites ever rewritten in three steps: a SIGTRAP
	// just after one is the int3 of a rewrite (PatchedTrap).
	rewritten map[uint64]bool
	noSync    bool // SyncCore failed: only one-word sites are patched
	// traps counts the traps of each site not patched yet (patchAfter).
	traps map[uint64]uint8
}

// patchAfter is the trap of a site that patches it: a call made once or
// twice (most of a short process's) is not worth a private copy of its
// page, the region's mapping or a three-step rewrite.
const patchAfter = 3

// syncCorer is the Mapper's SyncCore (see patchState's doc).
type syncCorer interface{ SyncCore() error }

type patchSite struct {
	orig, jump [7]byte
	entry      int
}

type patchEntry struct {
	insn [5]byte // the site's instruction before its syscall
	site uint64
}

// Patterns of patchable sites: a 5-byte instruction, then syscall.
var (
	movNR  = [5]byte{0xb8}                         // mov $nr,%eax (imm32 = the number)
	movR9  = [5]byte{0x4c, 0x8b, 0x4c, 0x24, 0x08} // mov 0x8(%rsp),%r9 (glibc's syscall())
	sysIns = [2]byte{0x0f, 0x05}
)

// PatchSite patches the syscall site whose syscall instruction ends at
// ret (the call's number was nr), if it is one of the patterns with that
// number, in a private, executable, non-writable mapping, and its 7 bytes
// lie in one aligned 8-byte word. It reports whether it patched the site.
func (m *MM) PatchSite(mp Mapper, ret, nr uint64) bool {
	spec := m.layout.Patch
	site := ret - 7
	if spec == nil || ret < 7 || !m.rangeOK(site, 7) || abi.PageDown(site) != abi.PageDown(site+6) {
		return false
	}
	if _, ok := mp.(syncCorer); (!ok || m.patch.noSync) && site&7 > 1 {
		return false
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	ps := &m.patch
	if ps.retired || len(ps.entries) >= spec.Sites-1 {
		return false
	}
	if s, ok := ps.sites[site]; ok && m.patchValid(site, s) {
		return false // another thread patched it first
	}

	v := m.vmas.find(site)
	if v == nil || v.Shared || v.Prot&unix.PROT_EXEC == 0 || v.Prot&unix.PROT_WRITE != 0 || v.Flags&VMUffdWP != 0 || v.Uffd != nil {
		return false
	}
	page := abi.PageDown(site)
	if !m.pt.get(page).present() {
		// A page the host maps from a host file (hostfile.go) has no
		// frame: it gets one (and ownPage maps its copy over the file's
		// page) only once the site has trapped often enough to patch.
		if !m.hostFiles.has(page) {
			return false
		}
		if n := ps.traps[site] + 1; n < patchAfter {
			if ps.traps == nil {
				ps.traps = map[uint64]uint8{}
			}
			ps.traps[site] = n
			return false
		}
		if m.fill(v, page, page+abi.PageSize) != nil {
			return false
		}
	}
	var orig [7]byte
	copy(orig[:], m.pageBytes(page)[site-page:])
	var insn [5]byte
	copy(insn[:], orig[:5])
	switch {
	case [2]byte(orig[5:]) != sysIns:
		return false
	case insn[0] == movNR[0]:
		if uint64(binary.LittleEndian.Uint32(insn[1:])) != nr {
			return false
		}
	case insn != movR9:
		return false
	}
	if ps.traps == nil {
		ps.traps = map[uint64]uint8{}
	}
	if n := ps.traps[site] + 1; n < patchAfter {
		ps.traps[site] = n
		return false
	}
	delete(ps.traps, site)
	if ps.frames == 0 {
		if m.vmas.overlaps(spec.Base, spec.Base+spec.Size) {
			ps.retired = true
			return false
		}
		n := spec.Size >> abi.PageShift
		fr, err := m.mf.Alloc(n)
		if err != nil {
			return false
		}
		ps.region, ps.frames = fr, n
		spec.Init(m.mf.Bytes(fr, n))
		ps.unmap.Store(true)
	}
	if ps.unmap.Load() {
		if err := m.mapPatchRegion(mp); err != nil {
			return false
		}
	}
	if err := m.ownPage(mp, v, page); err != nil {
		return false
	}
	k := len(ps.entries) + 1
	jump := spec.Site(m.mf.Bytes(ps.region, ps.frames), k, insn, ret)
	ps.entries = append(ps.entries, patchEntry{insn, site})
	if ps.sites == nil {
		ps.sites = map[uint64]*patchSite{}
	}
	if err := m.write7(mp, page, site, jump); err != nil {
		// The site holds its original bytes (write7 restores them on
		// failure); the entry stays used.
		return false
	}
	ps.sites[site] = &patchSite{orig: orig, jump: jump, entry: k}
	m.stats.PatchedSites++
	return true
}

// pageBytes is glassbox' view of the present page at page.
func (m *MM) pageBytes(page uint64) []byte {
	return m.mf.Bytes(m.pt.get(page).frame(), 1)
}

// write7 replaces the 7 bytes at site in the present page, which no other
// address space shares, as patchState's doc says: with one atomic store
// when they lie in one aligned word, else in three steps with mp's
// SyncCore between them. mp nil: nothing maps the page's frame on the host
// (a remote write's fresh copy), so plain stores do.
func (m *MM) write7(mp Mapper, page, site uint64, b [7]byte) error {
	if site&7 <= 1 {
		m.store7(page, site, b)
		return nil
	}
	pb := m.pageBytes(page)[site-page : site-page+7]
	if mp == nil {
		copy(pb, b[:])
		return nil
	}
	sc, ok := mp.(syncCorer)
	if !ok {
		return errNoMapper
	}
	if m.patch.rewritten == nil {
		m.patch.rewritten = map[uint64]bool{}
	}
	m.patch.rewritten[site] = true
	first := pb[0]
	storeByte(&pb[0], 0xcc)
	if err := sc.SyncCore(); err != nil {
		storeByte(&pb[0], first)
		m.patch.noSync = true
		return err
	}
	for i := 6; i >= 1; i-- {
		storeByte(&pb[i], b[i])
	}
	// A failure now (the stub is going) cannot leave the int3.
	err := sc.SyncCore()
	storeByte(&pb[0], b[0])
	return err
}

// storeByte is one byte store the compiler keeps as it is.
func storeByte(p *byte, v byte) {
	w := (*uint32)(unsafe.Pointer(uintptr(unsafe.Pointer(p)) &^ 3))
	sh := (uintptr(unsafe.Pointer(p)) & 3) * 8
	for {
		old := atomic.LoadUint32(w)
		nw := old&^(0xff<<sh) | uint32(v)<<sh
		if atomic.CompareAndSwapUint32(w, old, nw) {
			return
		}
	}
}

// store7 replaces the 7 bytes at site (inside one aligned 8-byte word of
// the present page) with one atomic store.
func (m *MM) store7(page, site uint64, b [7]byte) {
	pb := m.pageBytes(page)
	word := (site - page) &^ 7
	w := (*uint64)(unsafe.Pointer(&pb[word]))
	var cur [8]byte
	binary.LittleEndian.PutUint64(cur[:], atomic.LoadUint64(w))
	copy(cur[site-page-word:], b[:])
	atomic.StoreUint64(w, binary.LittleEndian.Uint64(cur[:]))
}

// patchValid reports whether site still holds its jump.
func (m *MM) patchValid(site uint64, s *patchSite) bool {
	page := abi.PageDown(site)
	p := m.pt.get(page)
	if !p.present() {
		return false
	}
	var cur [7]byte
	copy(cur[:], m.mf.Bytes(p.frame(), 1)[site-page:])
	return cur == s.jump
}

// MapPatchRegion maps the patch region into a fork child's stub before
// its first instruction; mp must be a thread of this address space.
func (m *MM) MapPatchRegion(mp Mapper) error {
	if !m.patch.unmap.Load() {
		return nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.patch.unmap.Load() {
		return nil
	}
	return m.mapPatchRegion(mp)
}

// PatchRegionPending reports whether MapPatchRegion has work.
func (m *MM) PatchRegionPending() bool { return m.patch.unmap.Load() }

func (m *MM) mapPatchRegion(mp Mapper) error {
	ps := &m.patch
	spec := m.layout.Patch
	if ps.retired || ps.frames == 0 {
		ps.unmap.Store(false)
		return nil
	}
	m.stats.HostMaps++
	if err := mp.Map(spec.Base, spec.Size, unix.PROT_READ|unix.PROT_EXEC, ps.region.Offset()); err != nil {
		return err
	}
	ps.unmap.Store(false)
	return nil
}

// unpatchRange restores every valid site that overlaps [start, end) and
// forgets the records; mp may be nil (a remote access: the page is then
// made the process's own copy with the host mapping left stale, as
// RemoteCopy does). m.mu is held.
func (m *MM) unpatchRange(mp Mapper, start, end uint64) error {
	ps := &m.patch
	for site, s := range ps.sites {
		if site+7 <= start || site >= end {
			continue
		}
		delete(ps.sites, site)
		page := abi.PageDown(site)
		v := m.vmas.find(site)
		if v == nil {
			continue
		}
		if !m.pt.get(page).present() {
			// Swapped out: read it back to restore it. (A page read
			// again from its file holds the original bytes already.)
			if _, err := m.prepareForce(mp, page, false, true); err != nil {
				continue
			}
		}
		if !m.patchValid(site, s) {
			continue
		}
		if err := m.ownPage(mp, v, page); err != nil {
			return err
		}
		if mp == nil && site&7 > 1 {
			// A remote write cannot serialise the owner's CPUs: it
			// rewrites a fresh copy that no thread runs yet.
			if err := m.freshCopy(v, page); err != nil {
				return err
			}
		}
		if err := m.write7(mp, page, site, s.orig); err != nil {
			return err
		}
	}
	return nil
}

// freshCopy gives the present private page a new frame with the same
// bytes; the host mapping of the old one is queued for the owner to drop
// (remote.go). For remote writers only (no Mapper). m.mu is held.
func (m *MM) freshCopy(v *VMA, page uint64) error {
	p := m.pt.get(page)
	nf, err := m.mf.Alloc(1)
	if err != nil {
		return err
	}
	copy(m.mf.Bytes(nf, 1), m.mf.Bytes(p.frame(), 1))
	m.pt.set(page, mkpte(nf)|p&(pteMapped|pteMapW|pteUffdWP))
	if p.mapped() {
		m.stale.add(m, page, p.frame())
	} else {
		m.mf.DecRef(p.frame(), 1)
	}
	return nil
}

// dropPatches forgets the records in [start, end) whose pages go away.
func (m *MM) dropPatches(start, end uint64) {
	for site := range m.patch.sites {
		if site+7 > start && site < end {
			delete(m.patch.sites, site)
		}
	}
}

// collide retires the patch region if [start, end) overlaps it: every
// site is restored first, then the region is unmapped, so that the guest's
// new mapping there starts empty. m.mu is held.
func (m *MM) collide(mp Mapper, start, end uint64) error {
	spec := m.layout.Patch
	ps := &m.patch
	if spec == nil || ps.retired || end <= spec.Base || start >= spec.Base+spec.Size {
		return nil
	}
	ps.retired = true
	if err := m.unpatchRange(mp, 0, ^uint64(0)); err != nil {
		return err
	}
	if ps.frames != 0 && !ps.unmap.Load() {
		if mp == nil {
			return errNoMapper
		}
		m.stats.HostMaps++
		if err := mp.Unmap(spec.Base, spec.Size); err != nil {
			return err
		}
	}
	ps.unmap.Store(false)
	// The frames stay until Release: a thread may still be inside a
	// trampoline (see patchState).
	return nil
}

// overlayOriginal puts the original bytes of valid sites over b, which
// holds the guest's bytes at addr. m.mu is held.
func (m *MM) overlayOriginal(addr uint64, b []byte) {
	end := addr + uint64(len(b))
	for site, s := range m.patch.sites {
		if site+7 <= addr || site >= end || !m.patchValid(site, s) {
			continue
		}
		for i := uint64(0); i < 7; i++ {
			if a := site + i; a >= addr && a < end {
				b[a-addr] = s.orig[i]
			}
		}
	}
}

// PatchedTrap says whether a trap at rip was a patched site's syscall:
// a SIGILL (ill) at the ud2 that replaced a site's syscall instruction (a
// jump into the middle of the site, or a restarted call: rax holds the
// number), or a trap on a trampoline's first instruction (a single-stepped
// jump: the site's own instruction has not run). It returns what the
// trap amounts to.
func (m *MM) PatchedTrap(rip uint64, ill bool) (PatchedCall, bool) {
	spec := m.layout.Patch
	if spec == nil {
		return PatchedCall{}, false
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	ps := &m.patch
	if !ill && rip >= 1 && ps.rewritten[rip-1] {
		// The int3 of a three-step rewrite (or a debugger's over it).
		if p := m.pt.get(abi.PageDown(rip - 1)); p.present() && m.mf.Bytes(p.frame(), 1)[(rip-1)&abi.PageMask] != 0xcc {
			return PatchedCall{Retry: true, Ret: rip - 1}, true
		}
	}
	if ill && rip >= 5 {
		if s, found := ps.sites[rip-5]; found && m.patchValid(rip-5, s) {
			return PatchedCall{Ret: rip + 2}, true
		}
	}
	if ps.frames != 0 && !ps.retired {
		if k := spec.Trampoline(rip); k > 0 && k <= len(ps.entries) {
			e := ps.entries[k-1]
			c := PatchedCall{Ret: e.site + 7, Insn: true}
			if e.insn[0] == movNR[0] {
				c.NR = uint64(binary.LittleEndian.Uint32(e.insn[1:]))
			} else {
				c.LoadR9 = true
			}
			return c, true
		}
	}
	return PatchedCall{}, false
}

// PatchedCall is a trap that PatchedTrap turned into a syscall.
type PatchedCall struct {
	// Retry: no syscall; the guest runs again from Ret (the int3 of a
	// site's rewrite, which is over).
	Retry bool
	Ret   uint64 // where the syscall instruction returns
	// Insn: the site's instruction is still to be done: rax = NR, or
	// (LoadR9) r9 = the 8 bytes at rsp+8. Else rax holds the number.
	Insn   bool
	NR     uint64
	LoadR9 bool
}

// forkPatches gives the child c a copy of the region and the records.
// Both m.mu and the child's are held (the child is new).
func (m *MM) forkPatches(c *MM) error {
	ps := &m.patch
	if ps.rewritten != nil {
		c.patch.rewritten = make(map[uint64]bool, len(ps.rewritten))
		for a := range ps.rewritten {
			c.patch.rewritten[a] = true
		}
	}
	c.patch.noSync = ps.noSync
	if ps.frames == 0 || ps.retired {
		c.patch.retired = ps.retired
		c.patch.entries = append([]patchEntry(nil), ps.entries...)
		return nil
	}
	fr, err := m.mf.Alloc(ps.frames)
	if err != nil {
		return err
	}
	copy(m.mf.Bytes(fr, ps.frames), m.mf.Bytes(ps.region, ps.frames))
	cp := &c.patch
	cp.region, cp.frames = fr, ps.frames
	cp.entries = append([]patchEntry(nil), ps.entries...)
	cp.sites = make(map[uint64]*patchSite, len(ps.sites))
	for a, s := range ps.sites {
		ns := *s
		cp.sites[a] = &ns
	}
	cp.unmap.Store(true)
	return nil
}

// releasePatches frees the region (the stub is gone). m.mu is held.
func (m *MM) releasePatches() {
	ps := &m.patch
	if ps.frames != 0 {
		m.mf.DecRef(ps.region, ps.frames)
		ps.frames = 0
	}
	ps.sites = nil
	ps.unmap.Store(false)
}
