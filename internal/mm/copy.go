package mm

import (
	"golang.org/x/sys/unix"

	"glassbox/internal/abi"
	"glassbox/internal/memfile"
)

// prepare makes the page at page ready for a kernel access and returns its
// frame: backed, and for writes owned by this address space alone.
// Linux: mm/gup.c — kernel accesses obey the VMA's protection.
func (m *MM) prepare(mp Mapper, page uint64, write bool) (memfile.Frame, error) {
	return m.prepareForce(mp, page, write, false)
}

// prepareForce is prepare; with force it also reaches pages the
// protection forbids, as a debugger does (Linux's FOLL_FORCE): any mapped
// page for reading, and a private mapping's page for writing, which
// becomes the process's own copy.
func (m *MM) prepareForce(mp Mapper, page uint64, write, force bool) (memfile.Frame, error) {
	v := m.vmas.find(page)
	if v == nil {
		return 0, unix.EFAULT
	}
	if force {
		if write && v.Shared && v.Prot&unix.PROT_WRITE == 0 {
			return 0, unix.EFAULT
		}
	} else if v.Prot == unix.PROT_NONE || write && v.Prot&unix.PROT_WRITE == 0 {
		return 0, unix.EFAULT
	}
	p := m.pt.get(page)
	if v.Uffd != nil {
		if e := m.userfault(v, page, p, write); e != nil {
			return 0, e
		}
	}
	if !p.present() {
		if v.File != nil && v.fileOffset(page) >= pageRoundUp(v.File.Size()) {
			return 0, unix.EFAULT
		}
		_, _, hostOK := m.hostFileTarget(mp, v)
		window := func() (uint64, uint64) {
			if hostOK || m.hostFiles.has(page) {
				// The host maps (or will map) the file here: the guest's
				// touches need no frames, the kernel's access this one.
				return page, page + abi.PageSize
			}
			return m.window(v, page)
		}
		lo, hi := window()
		err := m.withReclaim(mp, page, lo, hi, func() error {
			lo, hi := window() // narrower on the last try
			return m.fill(v, lo, hi)
		})
		if err != nil {
			return 0, err
		}
		p = m.pt.get(page)
	}
	if write && !v.Shared {
		err := m.withReclaim(mp, page, page, page+abi.PageSize, func() error {
			return m.ownPage(mp, v, page)
		})
		if err != nil {
			return 0, err
		}
		p = m.pt.get(page)
	}
	return p.frame(), nil
}

// ownPage breaks copy-on-write for the present private page at page and
// keeps the host in step: if the host maps the page, the new frame is
// mapped there (mp nil: a remote access; the mapping is queued for the
// owner to drop, remote.go) before the old frame is let go. A page the
// host maps from a host file (hostfile.go) is about to be written through
// its own frame: the frame replaces the file's page in the host, copied
// or not.
func (m *MM) ownPage(mp Mapper, v *VMA, page uint64) error {
	old, cow, err := m.breakCOW(v, page)
	if err != nil {
		return err
	}
	p := m.pt.get(page)
	if m.hostFiles.has(page) {
		if mp == nil {
			m.stale.addFile(m, page)
		} else {
			err = m.hostMap(mp, page, page+abi.PageSize, m.hostProt(v, p), p.frame())
		}
		if cow {
			m.mf.DecRef(old, 1) // the host never mapped it here
		}
		return err
	}
	if !cow {
		return nil
	}
	switch {
	case !p.mapped():
	case mp == nil:
		m.stale.add(m, page, old)
		return nil
	default:
		err = m.hostMap(mp, page, page+abi.PageSize, m.hostProt(v, p), p.frame())
	}
	m.mf.DecRef(old, 1)
	return err
}

// rangeOK checks that [addr, addr+n) lies in the guest's half.
func (m *MM) rangeOK(addr uint64, n int) bool {
	end := addr + uint64(n)
	return end >= addr && end <= m.layout.TaskSize
}

// each calls fn for each page-sized piece of [addr, addr+n), with glassbox'
// view of the backing memory, holding m.mu.
func (m *MM) each(mp Mapper, addr uint64, n int, write bool, fn func(b []byte)) error {
	if n == 0 {
		return nil
	}
	if !m.rangeOK(addr, n) {
		if b := m.fixedBytes(addr, n); b != nil && !write {
			fn(b)
			return nil
		}
		return unix.EFAULT
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for n > 0 {
		page := abi.PageDown(addr)
		off := addr - page
		l := abi.PageSize - int(off)
		if l > n {
			l = n
		}
		fr, err := m.prepare(mp, page, write)
		if err != nil {
			return err
		}
		fn(m.mf.Bytes(fr, 1)[off : off+uint64(l)])
		addr += uint64(l)
		n -= l
	}
	return nil
}

// CopyIn reads guest memory at addr into dst.
func (m *MM) CopyIn(mp Mapper, addr uint64, dst []byte) error {
	return m.each(mp, addr, len(dst), false, func(b []byte) { dst = dst[copy(dst, b):] })
}

// CopyOut writes src to guest memory at addr.
func (m *MM) CopyOut(mp Mapper, addr uint64, src []byte) error {
	return m.each(mp, addr, len(src), true, func(b []byte) { src = src[copy(b, src):] })
}

// Zero writes n zero bytes at addr.
func (m *MM) Zero(mp Mapper, addr uint64, n int) error {
	return m.each(mp, addr, n, true, func(b []byte) { clear(b) })
}

// ReadString reads a NUL-terminated string of at most max bytes (without
// the NUL). A string that does not end within max bytes is ENAMETOOLONG.
func (m *MM) ReadString(mp Mapper, addr uint64, max int) (string, error) {
	var out []byte
	for len(out) < max {
		n := abi.PageSize - int(addr&abi.PageMask)
		if n > max-len(out) {
			n = max - len(out)
		}
		var buf [abi.PageSize]byte
		if err := m.CopyIn(mp, addr, buf[:n]); err != nil {
			return "", err
		}
		for i := 0; i < n; i++ {
			if buf[i] == 0 {
				return string(append(out, buf[:i]...)), nil
			}
		}
		out = append(out, buf[:n]...)
		addr += uint64(n)
	}
	return "", unix.ENAMETOOLONG
}

// Pinned is guest memory held for host I/O outside the address space lock.
type Pinned struct {
	mf     *memfile.File
	Bufs   [][]byte
	frames []memfile.Frame
}

// Unpin releases the memory.
func (p *Pinned) Unpin() {
	if len(p.frames) > 0 {
		p.mf.UnpinAll(p.frames)
	}
	p.frames = nil
	p.Bufs = nil
}

// Pin prepares [addr, addr+n) for host I/O (write: the host writes into
// guest memory) and returns glassbox' view of it as a list of buffers.
func (m *MM) Pin(mp Mapper, addr uint64, n int, write bool) (*Pinned, error) {
	p := &Pinned{mf: m.mf}
	if n == 0 {
		return p, nil
	}
	if !m.rangeOK(addr, n) {
		if b := m.fixedBytes(addr, n); b != nil && !write {
			p.Bufs = [][]byte{b}
			return p, nil
		}
		return nil, unix.EFAULT
	}
	p.frames = make([]memfile.Frame, 0, (addr&abi.PageMask+uint64(n)+abi.PageMask)>>abi.PageShift)
	m.mu.Lock()
	defer m.mu.Unlock()
	// Runs of consecutive frames become one buffer.
	var runFrame memfile.Frame
	var runOff, runLen uint64
	flush := func() {
		if runLen > 0 {
			pages := (runOff + runLen + abi.PageMask) >> abi.PageShift
			p.Bufs = append(p.Bufs, m.mf.Bytes(runFrame, pages)[runOff:runOff+runLen:runOff+runLen])
			runLen = 0
		}
	}
	for n > 0 {
		page := abi.PageDown(addr)
		off := addr - page
		l := abi.PageSize - int(off)
		if l > n {
			l = n
		}
		fr, err := m.prepare(mp, page, write || m.sharedWritable(page) && m.pt.get(page)&pteUffdWP == 0)
		if err != nil {
			p.Unpin()
			return nil, err
		}
		m.mf.Pin(fr)
		p.frames = append(p.frames, fr)
		if runLen > 0 && off == 0 && (runOff+runLen)&abi.PageMask == 0 &&
			fr == runFrame+memfile.Frame((runOff+runLen)>>abi.PageShift) {
			runLen += uint64(l)
		} else {
			flush()
			runFrame, runOff, runLen = fr, off, uint64(l)
		}
		addr += uint64(l)
		n -= l
	}
	flush()
	return p, nil
}

// sharedWritable reports whether page is a private writable page whose
// frame is shared copy-on-write. Pin gives such a page its own frame even
// when the host only reads it: the pin outlives m.mu, and a write(2)
// blocked on a full pipe reads the rest of its buffer later, as Linux
// copies from the user's page when the space comes. Had the pinned frame
// stayed shared, the writer's process writing that buffer meanwhile would
// have copied the page and the I/O would have sent the old bytes.
func (m *MM) sharedWritable(page uint64) bool {
	v := m.vmas.find(page)
	if v == nil || v.Shared || v.Prot&unix.PROT_WRITE == 0 {
		return false
	}
	p := m.pt.get(page)
	if !p.present() {
		return v.File != nil // filled from the file's cache: shared
	}
	return m.mf.Refs(p.frame()) > 1
}

// fixedBytes returns a copy of [addr, addr+n) when it lies inside one of
// the platform's fixed pieces whose contents glassbox knows (the vDSO, which
// guests read like any other memory: ld.so hands out pointers to its
// strings), or nil.
func (m *MM) fixedBytes(addr uint64, n int) []byte {
	for _, p := range m.layout.Pieces {
		if p.Data == nil || addr < p.Start || addr+uint64(n) > p.Start+uint64(len(p.Data)) || addr+uint64(n) < addr {
			continue
		}
		off := addr - p.Start
		return append([]byte(nil), p.Data[off:off+uint64(n)]...)
	}
	return nil
}
