package mm

import (
	"golang.org/x/sys/unix"

	"glassbox/internal/abi"
)

// Residency as mincore(2), /proc/PID/smaps and /proc/PID/pagemap report
// it, computed from glassbox' own tables. A page is resident when it has a
// frame (glassbox gives frames to a whole fault window at once, so pages
// next to a touched one are resident too, as Linux's fault-around and
// transparent huge pages make them); a file page is also resident for
// mincore when the file's cache holds it, or when the host maps it from a
// host file (hostfile.go: the host's page cache holds it, or will on the
// first touch). Such pages have no frame and do not count in Rss.

// pageKind says what backs a present page.
type pageKind struct {
	cache    bool // the frame is the object's own (page cache or shmem), not a private copy
	shmem    bool // ... of shared memory (MAP_SHARED anonymous, tmpfs)
	mapcount int  // address spaces mapping the frame
}

// shmemObject is implemented by Mappables that are shared memory (tmpfs
// files), so smaps can count their pages as Shmem.
type shmemObject interface{ IsShmem() bool }

func isShmem(o Mappable) bool {
	if _, ok := o.(*Shmem); ok {
		return true
	}
	s, ok := o.(shmemObject)
	return ok && s.IsShmem()
}

// kindOf classifies the present page at a of v.
func (m *MM) kindOf(v *VMA, a uint64, p pte) pageKind {
	refs := int(m.mf.Refs(p.frame()))
	k := pageKind{mapcount: refs}
	if v.File == nil {
		return k
	}
	cache := true
	if lk, ok := v.File.(Lookuper); ok {
		fr, ok := lk.Lookup(v.fileOffset(a) >> abi.PageShift)
		cache = ok && fr == p.frame()
	} else if !v.Shared {
		cache = false
	}
	if cache {
		k.cache, k.shmem = true, isShmem(v.File)
		k.mapcount = max(refs-1, 1) // the object holds one reference
	}
	return k
}

// Mincore reports, one byte per page of [addr, addr+length), whether the
// page is resident. A hole gives ENOMEM with the bytes before it.
// Linux: mm/mincore.c
func (m *MM) Mincore(addr, length uint64) ([]byte, error) {
	if addr&abi.PageMask != 0 {
		return nil, unix.EINVAL
	}
	if length > m.layout.TaskSize || addr+length > m.layout.TaskSize {
		return nil, unix.ENOMEM
	}
	end := pageRoundUp(addr + length)
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]byte, 0, min((end-addr)>>abi.PageShift, 1<<16))
	for a := addr; a < end; a += abi.PageSize {
		v := m.vmas.find(a)
		if v == nil {
			return out, unix.ENOMEM
		}
		var r byte
		if p := m.pt.get(a); p.present() || m.hostFiles.has(a) {
			// (A page the host maps from a host file is in the host's
			// page cache, as Linux's mincore of a file page reports.)
			r = 1
		} else if lk, ok := v.File.(Lookuper); ok && a < m.eofAddr(v) {
			if _, ok := lk.Lookup(v.fileOffset(a) >> abi.PageShift); ok {
				r = 1
			}
		}
		out = append(out, r)
	}
	return out, nil
}

// Pagemap bits. Linux: fs/proc/task_mmu.c, Documentation/admin-guide/mm/pagemap.rst
const (
	PMPresent    = 1 << 63
	PMSwap       = 1 << 62
	PMFile       = 1 << 61 // file page or shared anonymous
	PMExclusive  = 1 << 56 // mapped by this address space only
	PMSoftDirty  = 1 << 55
	pmPFNDefault = 0 // PFNs are never shown (Linux shows them to CAP_SYS_ADMIN only)
)

// Pagemap returns the /proc/PID/pagemap entries of n pages from page
// address start. PFN bits are always zero: glassbox frames are not host
// page frames. Soft-dirty (bit 55) stays clear, as on kernels built
// without CONFIG_MEM_SOFT_DIRTY.
func (m *MM) Pagemap(start uint64, n int) []uint64 {
	out := make([]uint64, n)
	m.mu.Lock()
	defer m.mu.Unlock()
	for i := range out {
		a := start + uint64(i)<<abi.PageShift
		if a >= m.layout.TaskSize {
			break
		}
		v := m.vmas.find(a)
		if v == nil {
			continue
		}
		var e uint64
		p := m.pt.get(a)
		switch {
		case p.present():
			k := m.kindOf(v, a, p)
			e |= PMPresent | pmPFNDefault
			if k.cache {
				e |= PMFile
			}
			if k.mapcount == 1 {
				e |= PMExclusive
			}
		case p.swapped():
			e |= PMSwap
		}
		out[i] = e
	}
	return out
}

// Usage is one VMA's memory as /proc/PID/smaps reports it, in bytes (Pss
// fields in bytes too, rounded down).
type Usage struct {
	VMA
	Rss, Pss, PssAnon, PssFile, PssShmem, PssDirty uint64
	SharedClean, SharedDirty                       uint64
	PrivateClean, PrivateDirty                     uint64
	Anonymous, Swap, Locked                        uint64
}

// Smaps returns the usage of every VMA, in address order. Shared means
// another address space maps the frame too; anonymous pages (private
// copies included) and shared memory count as dirty, file cache pages as
// clean (glassbox keeps no dirty bits). Linux: fs/proc/task_mmu.c (smaps_account)
func (m *MM) Smaps() []Usage {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]Usage, len(m.vmas.v))
	for i, v := range m.vmas.v {
		u := &out[i]
		u.VMA = *v
		var pss, pssAnon, pssFile, pssShmem, pssDirty uint64 // bytes << 12
		m.pt.forRange(v.Start, v.End, func(a uint64, p pte) {
			if !p.present() {
				if p.swapped() {
					u.Swap += abi.PageSize
				}
				return
			}
			k := m.kindOf(v, a, p)
			dirty := !k.cache || k.shmem
			share := uint64(abi.PageSize<<12) / uint64(k.mapcount)
			u.Rss += abi.PageSize
			pss += share
			switch {
			case !k.cache:
				u.Anonymous += abi.PageSize
				pssAnon += share
			case k.shmem:
				pssShmem += share
			default:
				pssFile += share
			}
			if dirty {
				pssDirty += share
			}
			switch {
			case k.mapcount > 1 && dirty:
				u.SharedDirty += abi.PageSize
			case k.mapcount > 1:
				u.SharedClean += abi.PageSize
			case dirty:
				u.PrivateDirty += abi.PageSize
			default:
				u.PrivateClean += abi.PageSize
			}
		})
		u.Pss, u.PssAnon, u.PssFile, u.PssShmem, u.PssDirty = pss>>12, pssAnon>>12, pssFile>>12, pssShmem>>12, pssDirty>>12
		if v.Flags&VMLocked != 0 {
			u.Locked = u.Pss
		}
	}
	return out
}
