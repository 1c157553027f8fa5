package loader

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
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
}

// IsELF reports whether the header looks like ELF.
func IsELF(hdr []byte) bool { return len(hdr) >= 4 && bytes.Equal(hdr[:4], []byte(elf.ELFMAG)) }

// loadELF maps img into m. isInterp selects where an ET_DYN image goes.
func loadELF(m *mm.MM, mp mm.Mapper, img Image, isInterp bool) (*loaded, error) {
	f, err := elf.NewFile(img)
	if err != nil {
		return nil, ErrNoExec
	}
	if f.Class != elf.ELFCLASS64 || f.Machine != elf.EM_X86_64 || f.Data != elf.ELFDATA2LSB {
		return nil, ErrNoExec
	}
	if f.Type != elf.ET_EXEC && f.Type != elf.ET_DYN {
		return nil, ErrNoExec
	}
	var hdr [64]byte
	if _, err := img.ReadAt(hdr[:], 0); err != nil {
		return nil, ErrNoExec
	}
	phoff := binary.LittleEndian.Uint64(hdr[32:])
	l := &loaded{phnum: len(f.Progs), phent: int(binary.LittleEndian.Uint16(hdr[54:]))}

	// The span of all PT_LOAD segments.
	lo, hi := ^uint64(0), uint64(0)
	for _, p := range f.Progs {
		switch p.Type {
		case elf.PT_LOAD:
			lo = min(lo, abi.PageDown(p.Vaddr))
			hi = max(hi, p.Vaddr+p.Memsz)
		case elf.PT_INTERP:
			if isInterp {
				return nil, ErrNoExec
			}
			b := make([]byte, p.Filesz)
			if _, err := img.ReadAt(b, int64(p.Off)); err != nil {
				return nil, ErrNoExec
			}
			l.interp = string(bytes.TrimRight(b, "\x00"))
		}
	}
	if hi == 0 || hi < lo {
		return nil, ErrNoExec
	}
	hi, ok := abi.PageUp(hi)
	if !ok {
		return nil, ErrNoExec
	}
	obj, err := img.Mappable()
	if err != nil {
		return nil, err
	}
	name := img.Name()
	dev, ino := img.DevIno()

	if f.Type == elf.ET_DYN {
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
	for _, p := range f.Progs {
		if p.Type != elf.PT_LOAD || p.Memsz == 0 {
			continue
		}
		if p.Filesz > p.Memsz || p.Vaddr&abi.PageMask != p.Off&abi.PageMask {
			return nil, ErrNoExec
		}
		prot := 0
		if p.Flags&elf.PF_R != 0 {
			prot |= unix.PROT_READ
		}
		if p.Flags&elf.PF_W != 0 {
			prot |= unix.PROT_WRITE
		}
		if p.Flags&elf.PF_X != 0 {
			prot |= unix.PROT_EXEC
		}
		start := abi.PageDown(p.Vaddr) + l.bias
		fileEnd := p.Vaddr + p.Filesz + l.bias
		memEnd := p.Vaddr + p.Memsz + l.bias
		if p.Filesz > 0 {
			mapEnd, _ := abi.PageUp(fileEnd)
			if _, err := m.Mmap(mp, mm.MapRequest{Addr: start, Length: mapEnd - start, Prot: prot, Fixed: true,
				File: obj, Off: abi.PageDown(p.Off), Name: name, Dev: dev, Ino: ino}); err != nil {
				return nil, err
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
		if phoff >= p.Off && phoff < p.Off+p.Filesz {
			l.phdr = p.Vaddr + (phoff - p.Off) + l.bias
		}
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_PHDR {
			l.phdr = p.Vaddr + l.bias
		}
	}
	l.entry = f.Entry + l.bias
	return l, nil
}
