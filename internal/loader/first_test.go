package loader

import (
	"bytes"
	"debug/elf"
	"testing"

	"glassbox/internal/abi"
	"glassbox/internal/memfile"
	"glassbox/internal/mm"
	"glassbox/internal/platform"
)

type testImage struct {
	*bytes.Reader
	fc *mm.FileCache
}

func (i testImage) Mappable() (mm.Mappable, error) { return i.fc, nil }
func (i testImage) Name() string                   { return "test" }
func (i testImage) DevIno() (uint64, uint64)       { return 1, 2 }

// TestLoadFirst: the pages a program touches first are, in order, its
// entry (fetched), its stack pointer's, the interpreter's data, the
// program's headers and the program's data.
func TestLoadFirst(t *testing.T) {
	mf, err := memfile.New(64 << 20)
	if err != nil {
		t.Fatal(err)
	}
	defer mf.Close()
	image := func(b []byte) testImage {
		b = append(b, make([]byte, 0x2000-len(b))...)
		return testImage{bytes.NewReader(b), mm.NewFileCache(mf, bytes.NewReader(b), uint64(len(b)))}
	}
	const r, rx, rw = uint32(elf.PF_R), uint32(elf.PF_R | elf.PF_X), uint32(elf.PF_R | elf.PF_W)
	name := []byte("/lib/ld.so\x00")
	at := uint64(ehdrSize + 3*phdrSize)
	exe := image(testELF(elf.ET_DYN, []prog{
		{typ: uint32(elf.PT_INTERP), off: at, filesz: uint64(len(name))},
		{typ: uint32(elf.PT_LOAD), flags: r, filesz: 0x1000, memsz: 0x1000},
		{typ: uint32(elf.PT_LOAD), flags: rw, off: 0x1000, vaddr: 0x2000, filesz: 0x100, memsz: 0x800},
	}, name))
	interp := image(testELF(elf.ET_DYN, []prog{
		{typ: uint32(elf.PT_LOAD), flags: rx, filesz: 0x1000, memsz: 0x1000},
		{typ: uint32(elf.PT_LOAD), flags: rw, off: 0x1000, vaddr: 0x5000, filesz: 0x10, memsz: 0x10},
	}, nil))
	m := mm.New(mf, platform.Layout{TaskSize: 1 << 47})
	m.AddUser()
	defer m.DropUser()
	res, err := Load(Args{MM: m, Exe: exe, OpenInterp: func(string) (Image, error) { return interp, nil },
		Argv: []string{"x"}, ExecFn: "x"})
	if err != nil {
		t.Fatal(err)
	}
	aux := map[uint64]uint64{}
	for i := 0; i+1 < len(res.Auxv); i += 2 {
		aux[res.Auxv[i]] = res.Auxv[i+1]
	}
	phdr, base := aux[abi.AT_PHDR], aux[abi.AT_BASE]
	exeBias := phdr - ehdrSize
	want := []Touch{{res.Entry, true}, {res.SP, false}, {base + 0x5000, false}, {phdr, false}, {exeBias + 0x2000, false}}
	if len(res.First) != len(want) {
		t.Fatalf("first touches %+v, want %+v", res.First, want)
	}
	for i := range want {
		if res.First[i] != want[i] {
			t.Fatalf("first touches %+v, want %+v", res.First, want)
		}
	}
}
