package loader

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"glassbox/internal/abi"
)

// testELF builds an x86-64 ELF header with the given program headers
// right after it, then extra.
func testELF(typ elf.Type, progs []prog, extra []byte) []byte {
	le := binary.LittleEndian
	b := make([]byte, ehdrSize+len(progs)*phdrSize)
	copy(b, elf.ELFMAG)
	b[elf.EI_CLASS], b[elf.EI_DATA], b[elf.EI_VERSION] = byte(elf.ELFCLASS64), byte(elf.ELFDATA2LSB), 1
	le.PutUint16(b[16:], uint16(typ))
	le.PutUint16(b[18:], uint16(elf.EM_X86_64))
	le.PutUint64(b[24:], 0x401000)
	le.PutUint64(b[32:], ehdrSize)
	le.PutUint16(b[52:], ehdrSize)
	le.PutUint16(b[54:], phdrSize)
	le.PutUint16(b[56:], uint16(len(progs)))
	for i, p := range progs {
		o := b[ehdrSize+i*phdrSize:]
		le.PutUint32(o, p.typ)
		le.PutUint32(o[4:], p.flags)
		le.PutUint64(o[8:], p.off)
		le.PutUint64(o[16:], p.vaddr)
		le.PutUint64(o[24:], p.vaddr)
		le.PutUint64(o[32:], p.filesz)
		le.PutUint64(o[40:], p.memsz)
		le.PutUint64(o[48:], 0x1000)
	}
	return append(b, extra...)
}

func TestParseELF(t *testing.T) {
	load := prog{typ: uint32(elf.PT_LOAD), flags: uint32(elf.PF_R | elf.PF_X), vaddr: 0x400000, filesz: 0x200, memsz: 0x3000}
	interp := func(off, n uint64) prog { return prog{typ: uint32(elf.PT_INTERP), off: off, filesz: n} }
	name := []byte("/lib/ld.so\x00")
	at := uint64(ehdrSize + 2*phdrSize)
	cases := []struct {
		what   string
		b      []byte
		err    error
		interp string
	}{
		{"static", testELF(elf.ET_EXEC, []prog{load}, nil), nil, ""},
		{"with an interpreter", testELF(elf.ET_DYN, []prog{interp(at, uint64(len(name))), load}, name), nil, "/lib/ld.so"},
		{"PT_INTERP of 2^40 bytes", testELF(elf.ET_DYN, []prog{interp(at, 1<<40), load}, name), ErrNoExec, ""},
		{"PT_INTERP past PATH_MAX", testELF(elf.ET_DYN, []prog{interp(at, pathMax+1), load}, name), ErrNoExec, ""},
		{"PT_INTERP without its NUL", testELF(elf.ET_DYN, []prog{interp(at, uint64(len(name)-1)), load}, name), ErrNoExec, ""},
		{"PT_INTERP past the end", testELF(elf.ET_DYN, []prog{interp(1<<20, 16), load}, name), unix.EIO, ""},
		{"segment wrapping around", testELF(elf.ET_EXEC, []prog{{typ: uint32(elf.PT_LOAD), vaddr: ^uint64(0) - 10, memsz: 100}}, nil), ErrNoExec, ""},
		{"no PT_LOAD", testELF(elf.ET_EXEC, []prog{{typ: uint32(elf.PT_NOTE)}}, nil), ErrNoExec, ""},
		{"ET_REL", testELF(elf.ET_REL, []prog{load}, nil), ErrNoExec, ""},
		{"truncated header", testELF(elf.ET_EXEC, []prog{load}, nil)[:40], ErrNoExec, ""},
	}
	for _, c := range cases {
		info, err := parseELF(bytes.NewReader(c.b), false)
		if err != c.err {
			t.Errorf("%s: error %v, want %v", c.what, err, c.err)
			continue
		}
		if err == nil && info.interp != c.interp {
			t.Errorf("%s: interpreter %q, want %q", c.what, info.interp, c.interp)
		}
	}
}

// FuzzParseELF: whatever the file holds, parsing neither panics nor
// allocates beyond Linux's bounds, and what it accepts holds together.
// The seed corpus (testdata/fuzz/FuzzParseELF) holds small executables'
// headers and the cases above.
func FuzzParseELF(f *testing.F) {
	load := prog{typ: uint32(elf.PT_LOAD), flags: uint32(elf.PF_R | elf.PF_W), vaddr: 0x400000, filesz: 0x10, memsz: 0x2000}
	f.Add(testELF(elf.ET_EXEC, []prog{load}, nil))
	f.Add(testELF(elf.ET_DYN, []prog{{typ: uint32(elf.PT_INTERP), off: ehdrSize + 2*phdrSize, filesz: 5}, load}, []byte("/a/b\x00")))
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, isInterp := range []bool{false, true} {
			info, err := parseELF(bytes.NewReader(b), isInterp)
			if err != nil {
				continue
			}
			if info.lo > info.hi || info.hi&abi.PageMask != 0 || info.lo&abi.PageMask != 0 {
				t.Fatalf("span %#x-%#x", info.lo, info.hi)
			}
			if len(info.interp) >= pathMax || strings.IndexByte(info.interp, 0) >= 0 || isInterp && info.interp != "" {
				t.Fatalf("interpreter %q", info.interp)
			}
			if info.phnum != len(info.progs) || info.phnum*phdrSize > maxPhdrs {
				t.Fatalf("%d program headers", info.phnum)
			}
		}
	})
}
