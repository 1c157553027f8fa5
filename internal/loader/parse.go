package loader

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"io"

	"golang.org/x/sys/unix"

	"glassbox/internal/abi"
)

// Every byte of an executable is the guest's: parseELF reads the ELF
// header and program headers with Linux's checks and bounds before
// anything is mapped. The section headers are never read (Linux ignores
// them too). Linux: fs/binfmt_elf.c (load_elf_binary, load_elf_phdrs)

const (
	ehdrSize  = 64
	phdrSize  = 56
	maxPhdrs  = 65536 // bytes of program headers Linux reads at most
	pathMax   = 4096  // PT_INTERP's bound (PATH_MAX, with the NUL)
	minInterp = 2     // a name and its NUL
)

// prog is one program header.
type prog struct {
	typ, flags                uint32
	off, vaddr, filesz, memsz uint64
}

// elfInfo is what loading needs from an executable's headers.
type elfInfo struct {
	typ    elf.Type
	entry  uint64
	phoff  uint64
	phnum  int
	progs  []prog
	interp string // PT_INTERP's name, "" without one
	lo, hi uint64 // the page-aligned span of the PT_LOAD segments
}

// parseELF checks r's ELF header and reads its program headers. Not an
// x86-64 ELF executable, or headers that do not hold together, is
// ENOEXEC; headers past the file's end are EIO, as in Linux.
//
// An interpreter (PT_INTERP's file) that is not an x86-64 ELF file, or
// whose program headers do not hold together, is ELIBBAD instead; one
// shorter than an ELF header is EIO, and one neither ET_EXEC nor ET_DYN
// EINVAL. Linux: fs/binfmt_elf.c (load_elf_binary, load_elf_interp)
func parseELF(r io.ReaderAt, isInterp bool) (*elfInfo, error) {
	noExec := ErrNoExec
	if isInterp {
		noExec = unix.ELIBBAD
	}
	var h [ehdrSize]byte
	n, _ := r.ReadAt(h[:], 0)
	if isInterp && n < len(h) {
		return nil, unix.EIO
	}
	if n < len(h) || !IsELF(h[:]) {
		return nil, noExec
	}
	le := binary.LittleEndian
	if elf.Class(h[elf.EI_CLASS]) != elf.ELFCLASS64 || elf.Data(h[elf.EI_DATA]) != elf.ELFDATA2LSB ||
		elf.Machine(le.Uint16(h[18:])) != elf.EM_X86_64 {
		return nil, noExec
	}
	info := &elfInfo{typ: elf.Type(le.Uint16(h[16:])), entry: le.Uint64(h[24:]), phoff: le.Uint64(h[32:])}
	phent, phnum := int(le.Uint16(h[54:])), int(le.Uint16(h[56:]))
	if phent != phdrSize || phnum == 0 || phnum*phdrSize > maxPhdrs || info.phoff > 1<<62 {
		return nil, noExec
	}
	if info.typ != elf.ET_EXEC && info.typ != elf.ET_DYN {
		if isInterp {
			return nil, unix.EINVAL
		}
		return nil, ErrNoExec
	}
	info.phnum = phnum
	tab := make([]byte, phnum*phdrSize)
	if n, _ := r.ReadAt(tab, int64(info.phoff)); n < len(tab) {
		if isInterp {
			return nil, unix.ELIBBAD
		}
		return nil, unix.EIO
	}
	info.progs = make([]prog, phnum)
	for i := range info.progs {
		b := tab[i*phdrSize:]
		info.progs[i] = prog{typ: le.Uint32(b), flags: le.Uint32(b[4:]), off: le.Uint64(b[8:]),
			vaddr: le.Uint64(b[16:]), filesz: le.Uint64(b[32:]), memsz: le.Uint64(b[40:])}
	}
	lo, hi := ^uint64(0), uint64(0)
	for _, p := range info.progs {
		switch elf.ProgType(p.typ) {
		case elf.PT_LOAD:
			end := p.vaddr + p.memsz
			if end < p.vaddr || p.memsz != 0 && (p.filesz > p.memsz || p.off+p.filesz < p.off ||
				p.vaddr&abi.PageMask != p.off&abi.PageMask) {
				return nil, ErrNoExec
			}
			lo, hi = min(lo, abi.PageDown(p.vaddr)), max(hi, end)
		case elf.PT_INTERP:
			if isInterp {
				continue // an interpreter's own is not looked at
			}
			if info.interp != "" {
				continue // the first one counts
			}
			if p.filesz > pathMax || p.filesz < minInterp || p.off > 1<<62 {
				return nil, ErrNoExec
			}
			b := make([]byte, p.filesz)
			if n, _ := r.ReadAt(b, int64(p.off)); n < len(b) {
				return nil, unix.EIO
			}
			if b[len(b)-1] != 0 {
				return nil, ErrNoExec
			}
			info.interp = string(b[:bytes.IndexByte(b, 0)])
			if info.interp == "" {
				return nil, ErrNoExec
			}
		}
	}
	if hi == 0 || hi < lo {
		return nil, ErrNoExec
	}
	var ok bool
	if info.hi, ok = abi.PageUp(hi); !ok {
		return nil, ErrNoExec
	}
	info.lo = lo
	return info, nil
}
