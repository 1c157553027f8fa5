package ptrace

import (
	"fmt"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"

	"glassbox/internal/platform"
)

// Platform is the ptrace platform. One per glassbox kernel.
type Platform struct {
	memfd   int // the memory file, passed to every stub as its fd 0
	stubFD  int // memfd holding the stub ELF
	stubExe string

	layoutOnce sync.Once
	layout     platform.Layout
	vdsoMoves  []vdsoPiece // learned from the first stub
	layoutErr  error

	nextCPU atomic.Uint32
	ncpu    int
}

type vdsoPiece struct {
	from, to, size uint64
	name           string
	prot           int
}

// New returns a ptrace platform whose stubs map guest memory from memfd.
func New(memfd int) (*Platform, error) {
	fd, err := unix.MemfdCreate("glassbox-stub", unix.MFD_CLOEXEC|unix.MFD_ALLOW_SEALING)
	if err != nil {
		return nil, fmt.Errorf("memfd_create: %w", err)
	}
	img := stubELF()
	if _, err := unix.Pwrite(fd, img, 0); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("writing stub: %w", err)
	}
	unix.FcntlInt(uintptr(fd), unix.F_ADD_SEALS, unix.F_SEAL_WRITE|unix.F_SEAL_GROW|unix.F_SEAL_SHRINK|unix.F_SEAL_SEAL)
	quietSIGCHLD()
	return &Platform{
		memfd:   memfd,
		stubFD:  fd,
		stubExe: fmt.Sprintf("/proc/self/fd/%d", fd),
		ncpu:    runtime.NumCPU(),
	}, nil
}

// quietSIGCHLD adds SA_NOCLDSTOP to the Go runtime's SIGCHLD handler so
// that ptrace stops of stubs do not each send glassbox a signal.
func quietSIGCHLD() {
	type sigaction struct {
		handler  uintptr
		flags    uint64
		restorer uintptr
		mask     uint64
	}
	var sa sigaction
	_, _, e := unix.RawSyscall6(unix.SYS_RT_SIGACTION, uintptr(unix.SIGCHLD), 0, uintptr(unsafe.Pointer(&sa)), 8, 0, 0)
	if e != 0 || sa.handler == 0 || sa.handler == 1 {
		return
	}
	sa.flags |= 1 // SA_NOCLDSTOP
	unix.RawSyscall6(unix.SYS_RT_SIGACTION, uintptr(unix.SIGCHLD), uintptr(unsafe.Pointer(&sa)), 0, 8, 0, 0)
}

// Layout implements platform.Platform. It is valid once the first address
// space exists (the vDSO's place is learned from the first stub).
func (p *Platform) Layout() platform.Layout { return p.layout }

// process is one stub process: one host address space.
type process struct {
	p   *Platform
	pid int

	mu      sync.Mutex
	threads int
	gone    chan struct{} // closed when the last thread is released
	goneSet bool
}

func (p *process) markGone() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.goneSet {
		p.goneSet = true
		close(p.gone)
	}
}

// NewAddressSpace implements platform.Platform. The caller must have locked
// its goroutine to its OS thread; that thread becomes the stub's tracer.
func (p *Platform) NewAddressSpace() (platform.Thread, error) {
	cpu := int(p.nextCPU.Add(1)-1) % p.ncpu
	pinSelf(cpu)
	attr := &syscall.ProcAttr{
		Files: []uintptr{uintptr(p.memfd)},
		Sys:   &syscall.SysProcAttr{Ptrace: true, Pdeathsig: syscall.SIGKILL},
	}
	pid, err := syscall.ForkExec(p.stubExe, []string{"glassbox-stub"}, attr)
	if err != nil {
		return nil, fmt.Errorf("starting stub: %w", err)
	}
	proc := &process{p: p, pid: pid, threads: 1, gone: make(chan struct{})}
	t := &thread{proc: proc, tid: pid}
	if err := t.init(cpu); err != nil {
		t.kill()
		return nil, err
	}
	return t, nil
}

// init runs once on a freshly exec'd stub stopped at its exec SIGTRAP.
func (t *thread) init(cpu int) error {
	ws, err := wait(t.tid)
	if err != nil {
		return fmt.Errorf("waiting for stub: %w", err)
	}
	if !ws.Stopped() || ws.StopSignal() != unix.SIGTRAP {
		return fmt.Errorf("stub did not stop after exec (status %#x)", uint32(ws))
	}
	opts := unix.PTRACE_O_TRACESYSGOOD | unix.PTRACE_O_EXITKILL
	if err := ptrace(unix.PTRACE_SETOPTIONS, t.tid, 0, uintptr(opts)); err != nil {
		return fmt.Errorf("PTRACE_SETOPTIONS: %w", err)
	}
	unix.SchedSetaffinity(t.tid, cpuSet(cpu))
	if err := getRegs(t.tid, &t.cur); err != nil {
		return err
	}
	t.cur.Orig_rax = ^uint64(0)
	maps, err := platform.ReadHostMaps(t.tid)
	if err != nil {
		return err
	}
	p := t.proc.p
	p.layoutOnce.Do(func() { p.layoutErr = p.learnLayout(maps) })
	if p.layoutErr != nil {
		return p.layoutErr
	}
	// Clear the reservation above the stub page, move the vDSO into it,
	// drop the host stack, then lock the stub down.
	if _, err := t.syscall(unix.SYS_MUNMAP, StubBase+0x1000, stubReserve-0x1000); err != nil {
		return fmt.Errorf("stub munmap: %w", err)
	}
	for _, m := range maps {
		for _, v := range p.vdsoMoves {
			if m.Name == v.name {
				if _, err := t.syscall(unix.SYS_MREMAP, m.Start, v.size, v.size,
					unix.MREMAP_MAYMOVE|unix.MREMAP_FIXED, v.to); err != nil {
					return fmt.Errorf("moving %s: %w", v.name, err)
				}
			}
		}
		if m.Name == "[stack]" {
			if _, err := t.syscall(unix.SYS_MUNMAP, m.Start, m.End-m.Start); err != nil {
				return fmt.Errorf("unmapping stub stack: %w", err)
			}
		}
	}
	if _, err := t.syscall(unix.SYS_PRCTL, unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		return fmt.Errorf("no_new_privs: %w", err)
	}
	if _, err := t.syscall(unix.SYS_SECCOMP, 1 /* SET_MODE_FILTER */, 0, StubBase+fprogOff); err != nil {
		return fmt.Errorf("installing stub seccomp filter: %w", err)
	}
	return nil
}

// learnLayout finds the host's vDSO pieces ([vvar], [vvar_vclock], [vdso]
// on current kernels) in the first stub and plans where every stub keeps
// them: at vdsoArea, with their offsets to one another unchanged.
func (p *Platform) learnLayout(maps []platform.HostMap) error {
	var group []platform.HostMap
	for _, m := range maps {
		if strings.HasPrefix(m.Name, "[vvar") || m.Name == "[vdso]" {
			group = append(group, m)
		}
	}
	l := platform.Layout{TaskSize: StubBase}
	l.Pieces = append(l.Pieces, platform.Piece{Start: StubBase, End: StubBase + 0x1000,
		Prot: unix.PROT_READ | unix.PROT_EXEC, Name: "[glassbox-stub]"})
	if len(group) > 0 {
		base := group[0].Start
		span := group[len(group)-1].End - base
		if span > stubReserve-(vdsoArea-StubBase) {
			return fmt.Errorf("host vDSO area too large (%#x bytes)", span)
		}
		for _, m := range group {
			v := vdsoPiece{from: m.Start, to: vdsoArea + (m.Start - base), size: m.End - m.Start, name: m.Name, prot: m.Prot}
			p.vdsoMoves = append(p.vdsoMoves, v)
			pc := platform.Piece{Start: v.to, End: v.to + v.size, Prot: m.Prot, Name: m.Name}
			if m.Name == "[vdso]" {
				pc.Data = ownVDSO(v.size)
			}
			l.Pieces = append(l.Pieces, pc)
			if m.Name == "[vdso]" {
				l.VDSO = v.to
			}
		}
	}
	p.layout = l
	return nil
}

func cpuSet(cpu int) *unix.CPUSet {
	var s unix.CPUSet
	s.Set(cpu)
	return &s
}

// pinSelf binds the calling OS thread to cpu: tracer and stub thread share
// a CPU, which makes each trap about five times cheaper here.
func pinSelf(cpu int) { unix.SchedSetaffinity(0, cpuSet(cpu)) }

// ownVDSO reads glassbox' own copy of the host vDSO: the same kernel
// gives every process the same image, so it is what the guest sees at its
// vDSO address. nil if it cannot be read or differs in size.
func ownVDSO(size uint64) []byte {
	maps, err := platform.ReadHostMaps(os.Getpid())
	if err != nil {
		return nil
	}
	for _, m := range maps {
		if m.Name != "[vdso]" || m.End-m.Start != size {
			continue
		}
		f, err := os.Open("/proc/self/mem")
		if err != nil {
			return nil
		}
		defer f.Close()
		b := make([]byte, size)
		if _, err := f.ReadAt(b, int64(m.Start)); err != nil {
			return nil
		}
		return b
	}
	return nil
}

// Close closes the stub image's descriptor; no stub may start afterwards.
func (p *Platform) Close() {
	if p.stubFD >= 0 {
		unix.Close(p.stubFD)
		p.stubFD = -1
	}
}
