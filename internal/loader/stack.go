package loader

import (
	"encoding/binary"
	"os"
	"sync"

	"golang.org/x/sys/unix"

	"glassbox/internal/abi"
	"glassbox/internal/mm"
)

// Args is what execve hands the loader.
type Args struct {
	MM     *mm.MM
	Mapper mm.Mapper // may be nil: a fresh address space has no host mappings
	Exe    Image
	// OpenInterp opens the program interpreter named by PT_INTERP.
	OpenInterp func(path string) (Image, error)
	Argv, Envv []string
	ExecFn     string // AT_EXECFN: the path execve was given
	StackSize  uint64 // RLIMIT_STACK
	UID, EUID  uint32
	GID, EGID  uint32
	Secure     bool
	Random     [16]byte
}

// Result is where the new program starts.
type Result struct {
	Entry, SP         uint64
	StackLo, StackTop uint64
	ArgStart, ArgEnd  uint64 // argv strings, for /proc/PID/cmdline
	EnvStart, EnvEnd  uint64
	Interp            string
	Auxv              []uint64
	// First lists the pages the program touches first, in order, for
	// the kernel to map before it runs (mm.Prefault).
	First []Touch
}

// Touch is an access a new program certainly makes at its start: the
// entry's instruction fetch, the initial stack, and what the dynamic
// linker (or a static program's start-up code) reads and writes at once:
// its own data, the program's headers and the program's data.
type Touch struct {
	Addr uint64
	Exec bool
}

// Load maps the executable (and its interpreter) into a.MM, which must be
// empty, and builds the initial stack.
func Load(a Args) (*Result, error) {
	m := a.MM
	lay := m.Layout()
	stackSize := a.StackSize
	if stackSize < 128<<10 || stackSize > 1<<30 {
		stackSize = 8 << 20
	}
	stackSize, _ = abi.PageUp(stackSize)
	stackTop := lay.TaskSize - abi.PageSize // one guard page below the stub area
	gap := max(stackSize, 128<<20) + 1<<20
	m.SetMmapBase(abi.PageDown(stackTop - gap))

	exe, err := loadELF(m, a.Mapper, a.Exe, false)
	if err != nil {
		return nil, err
	}
	entry := exe.entry
	var interpBase, interpData uint64
	if exe.interp != "" {
		if a.OpenInterp == nil {
			return nil, unix.ENOENT
		}
		img, err := a.OpenInterp(exe.interp)
		if err != nil {
			return nil, err
		}
		in, err := loadELF(m, a.Mapper, img, true)
		if err != nil {
			return nil, err
		}
		entry, interpBase, interpData = in.entry, in.bias, in.data
	}
	m.SetBrk(exe.end)

	stackLo := stackTop - stackSize
	if _, err := m.Mmap(a.Mapper, mm.MapRequest{Addr: stackLo, Length: stackSize,
		Prot: unix.PROT_READ | unix.PROT_WRITE, Fixed: true, Name: "[stack]"}); err != nil {
		return nil, err
	}
	r := &Result{Entry: entry, StackLo: stackLo, StackTop: stackTop, Interp: exe.interp}

	// Strings at the top: execfn, then envp, then argv, growing down.
	w := &stackWriter{m: m, mp: a.Mapper, sp: stackTop}
	execfn := w.pushString(a.ExecFn)
	envp := make([]uint64, len(a.Envv))
	r.EnvEnd = w.sp
	for i := len(a.Envv) - 1; i >= 0; i-- {
		envp[i] = w.pushString(a.Envv[i])
	}
	r.EnvStart = w.sp
	argv := make([]uint64, len(a.Argv))
	r.ArgEnd = w.sp
	for i := len(a.Argv) - 1; i >= 0; i-- {
		argv[i] = w.pushString(a.Argv[i])
	}
	r.ArgStart = w.sp
	platform := w.pushString("x86_64")
	w.sp &^= 15
	w.sp -= 16
	random := w.sp
	w.write(random, a.Random[:])

	hw := hostAuxv()
	auxv := []uint64{
		abi.AT_SYSINFO_EHDR, vdsoAddr(lay.VDSO),
		abi.AT_MINSIGSTKSZ, hw[abi.AT_MINSIGSTKSZ],
		abi.AT_HWCAP, hw[abi.AT_HWCAP],
		abi.AT_PAGESZ, abi.PageSize,
		abi.AT_CLKTCK, abi.ClockTicks,
		abi.AT_PHDR, exe.phdr,
		abi.AT_PHENT, uint64(exe.phent),
		abi.AT_PHNUM, uint64(exe.phnum),
		abi.AT_BASE, interpBase,
		abi.AT_FLAGS, 0,
		abi.AT_ENTRY, exe.entry,
		abi.AT_UID, uint64(a.UID),
		abi.AT_EUID, uint64(a.EUID),
		abi.AT_GID, uint64(a.GID),
		abi.AT_EGID, uint64(a.EGID),
		abi.AT_SECURE, b2u(a.Secure),
		abi.AT_RANDOM, random,
		abi.AT_HWCAP2, hw[abi.AT_HWCAP2],
		abi.AT_EXECFN, execfn,
		abi.AT_PLATFORM, platform,
		abi.AT_NULL, 0,
	}
	if lay.VDSO == 0 {
		auxv = auxv[2:]
	}
	r.Auxv = auxv
	// argc, argv..., 0, envp..., 0, auxv: 16-byte aligned at argc.
	words := 1 + len(argv) + 1 + len(envp) + 1 + len(auxv)
	w.sp -= uint64(words * 8)
	w.sp &^= 15
	buf := make([]byte, 0, words*8)
	put := func(v uint64) { buf = binary.LittleEndian.AppendUint64(buf, v) }
	put(uint64(len(argv)))
	for _, p := range argv {
		put(p)
	}
	put(0)
	for _, p := range envp {
		put(p)
	}
	put(0)
	for _, v := range auxv {
		put(v)
	}
	w.write(w.sp, buf)
	if w.err != nil {
		return nil, w.err
	}
	r.SP = w.sp
	r.First = []Touch{{Addr: entry, Exec: true}, {Addr: r.SP}}
	for _, a := range []uint64{interpData, exe.phdr, exe.data} {
		if a != 0 {
			r.First = append(r.First, Touch{Addr: a})
		}
	}
	return r, nil
}

func b2u(b bool) uint64 {
	if b {
		return 1
	}
	return 0
}

type stackWriter struct {
	m   *mm.MM
	mp  mm.Mapper
	sp  uint64
	err error
}

func (w *stackWriter) write(at uint64, b []byte) {
	if w.err == nil {
		w.err = w.m.CopyOut(w.mp, at, b)
	}
}

func (w *stackWriter) pushString(s string) uint64 {
	w.sp -= uint64(len(s) + 1)
	w.write(w.sp, append([]byte(s), 0))
	return w.sp
}

// hostAuxv returns the host's own auxiliary vector values (hardware
// capabilities), which describe the CPU the guest really runs on.
func hostAuxv() map[uint64]uint64 {
	hostAuxvOnce.Do(func() { hostAuxvVals = readHostAuxv() })
	return hostAuxvVals
}

var (
	hostAuxvOnce sync.Once
	hostAuxvVals map[uint64]uint64
)

// readHostAuxv takes the vector the Go runtime kept from this process's
// start (the same words /proc/self/auxv holds, without the host
// formatting a file), or reads /proc/self/auxv where the runtime has none.
func readHostAuxv() map[uint64]uint64 {
	out := map[uint64]uint64{}
	if v, err := unix.Auxv(); err == nil {
		for _, kv := range v {
			out[uint64(kv[0])] = uint64(kv[1])
		}
		return out
	}
	b, err := os.ReadFile("/proc/self/auxv")
	if err != nil {
		return out
	}
	for i := 0; i+16 <= len(b); i += 16 {
		k := binary.LittleEndian.Uint64(b[i:])
		v := binary.LittleEndian.Uint64(b[i+8:])
		out[k] = v
	}
	return out
}

func vdsoAddr(v uint64) uint64 {
	if os.Getenv("GB_NOVDSO") != "" {
		return 0
	}
	return v
}
