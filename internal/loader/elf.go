package loader

import (
	"bytes"
	"debug/elf"
	"io"

	"golang.org/x/sys/unix"

	"glassbox/internal/abi"
	"glassbox/internal/mm"
)

// Image is an executable file to load.
type Image interface {
	io.ReaderAt
	Mappable() (mm.Mappable, error)
	// Identity for /proc/PID/maps.
	Name() string
	DevIno() (uint64, uint64)
}

// ErrNoExec is returned for files that are not ELF x86-64 executables:
// execve reports ENOEXEC.
var ErrNoExec = unix.ENOEXEC

// Linux's ELF_ET_DYN_BASE for x86-64 without randomization.
const etDynBase = 0x555555554000

type loaded struct {
	entry  uint64
	bias   uint64
	phdr   uint64 // address of the program headers in memory
	phnum  int
	phent  int
	end    uint64 // end of the highest segment (start of brk)
	interp string
	data   uint64 // the first writable segment's file-backed start (0: none)
}

// IsELF reports whether the header looks like ELF.
func IsELF(hdr []byte) bool { return len(hdr) >= 4 && bytes.Equal(hdr[:4], []byte(elf.ELFMAG)) }

// loadELF maps img into m. isInterp selects where an ET_DYN image goes.
func loadELF(m *mm.MM, mp mm.Mapper, img Image, isInterp bool) (*loaded, error) {
	info, err := parseELF(img, isInterp)
	if err != nil {
		return nil, err
	}
	phoff := info.phoff
	l := &loaded{phnum: info.phnum, phent: phdrSize, interp: info.interp}
	lo, hi := info.lo, info.hi
	obj, err := img.Mappable()
	if err != nil {
		return nil, err
	}
	name := img.Name()
	dev, ino := img.DevIno()

	if info.typ == elf.ET_DYN {
		// Reserve the whole span, then place segments inside it.
		hint := uint64(0)
		if !isInterp && l.interp != "" {
			hint = etDynBase
		}
		base, err := m.Mmap(mp, mm.MapRequest{Addr: hint, Length: hi - lo, Prot: unix.PROT_NONE})
		if err != nil {
			return nil, err
		}
		l.bias = base - lo
	}
	for _, p := range info.progs {
		if elf.ProgType(p.typ) != elf.PT_LOAD || p.memsz == 0 {
			continue
		}
		prot := 0
		if elf.ProgFlag(p.flags)&elf.PF_R != 0 {
			prot |= unix.PROT_READ
		}
		if elf.ProgFlag(p.flags)&elf.PF_W != 0 {
			prot |= unix.PROT_WRITE
		}
		if elf.ProgFlag(p.flags)&elf.PF_X != 0 {
			prot |= unix.PROT_EXEC
		}
		start := abi.PageDown(p.vaddr) + l.bias
		fileEnd := p.vaddr + p.filesz + l.bias
		memEnd := p.vaddr + p.memsz + l.bias
		if p.filesz > 0 {
			mapEnd, _ := abi.PageUp(fileEnd)
			if _, err := m.Mmap(mp, mm.MapRequest{Addr: start, Length: mapEnd - start, Prot: prot, Fixed: true,
				File: obj, Off: abi.PageDown(p.off), Name: name, Dev: dev, Ino: ino}); err != nil {
				return nil, err
			}
			if prot&unix.PROT_WRITE != 0 && l.data == 0 {
				l.data = start
			}
			// With a .bss, the rest of the last file page is zeroed up to
			// the page end (ld.so's minimal malloc counts on it).
			// Linux: fs/binfmt_elf.c (elf_load, padzero)
			if memEnd > fileEnd && fileEnd&abi.PageMask != 0 {
				n := abi.PageSize - fileEnd&abi.PageMask
				if prot&unix.PROT_WRITE == 0 {
					return nil, ErrNoExec
				}
				if err := m.Zero(mp, fileEnd, int(n)); err != nil {
					return nil, err
				}
			}
			start = mapEnd
		}
		if end, _ := abi.PageUp(memEnd); end > start {
			if _, err := m.Mmap(mp, mm.MapRequest{Addr: start, Length: end - start, Prot: prot, Fixed: true}); err != nil {
				return nil, err
			}
		}
		if memEnd > l.end {
			l.end = memEnd
		}
		// The program headers live in the segment that holds phoff.
		if phoff >= p.off && phoff < p.off+p.filesz {
			l.phdr = p.vaddr + (phoff - p.off) + l.bias
		}
	}
	for _, p := range info.progs {
		if elf.ProgType(p.typ) == elf.PT_PHDR {
			l.phdr = p.vaddr + l.bias
		}
	}
	l.entry = info.entry + l.bias
	return l, nil
}
