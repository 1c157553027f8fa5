package seccomp

import (
	"fmt"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"

	"golang.org/x/sys/unix"

	"glassbox/internal/platform"
)

// Platform is the seccomp platform. One per glassbox kernel.
type Platform struct {
	memfd   int // the memory file, every stub's fd 0
	stubFD  int // sealed memfd holding the stub ELF
	stubExe string
	stub    *stub

	layout platform.Layout
	vdso   []vdsoPiece

	// fp describes the host's signal-frame XSAVE image, learned from the
	// first ready trap (before any guest code exists).
	fpOnce sync.Once
	fp     fpInfo
	fpErr  error

	// warm holds a stub made ahead (see NewAddressSpace); takes counts
	// the address spaces made.
	warmOnce   sync.Once
	warm       chan warmStub
	prewarm    chan struct{} // closed when Prewarm's stub is in warm (nil: no Prewarm)
	warmerOnce sync.Once
	warmerDone chan struct{} // closed when the warmer has ended
	takes      atomic.Int32
	closing    chan struct{} // closed by Close
	closeOnce  sync.Once
	// reaping counts the stubs not yet reaped (each one's reap goroutine).
	reaping sync.WaitGroup

	nextCPU atomic.Uint32
	ncpu    int
	spinSt  spinState
	spawner spawner
	// patching: EnablePatching was called (patch.go).
	patching bool
}

type vdsoPiece struct {
	rel    uint64 // start minus the [vdso] start (two's complement)
	size   uint64
	target uint64
}

// New returns a seccomp platform whose stubs map guest memory from memfd.
func New(memfd int) (*Platform, error) {
	if err := Available(); err != nil {
		return nil, err
	}
	s := buildStub()
	img := s.image()
	fd, err := unix.MemfdCreate("glassbox-stub", unix.MFD_CLOEXEC|unix.MFD_ALLOW_SEALING)
	if err != nil {
		return nil, fmt.Errorf("memfd_create: %w", err)
	}
	if _, err := unix.Pwrite(fd, img, 0); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("writing stub: %w", err)
	}
	unix.FcntlInt(uintptr(fd), unix.F_ADD_SEALS, unix.F_SEAL_WRITE|unix.F_SEAL_GROW|unix.F_SEAL_SHRINK|unix.F_SEAL_SEAL)
	p := &Platform{
		memfd:   memfd,
		stubFD:  fd,
		stubExe: fmt.Sprintf("/proc/self/fd/%d", fd),
		stub:    s,
		ncpu:    runtime.NumCPU(),
		closing: make(chan struct{}),
	}
	p.spinSt.init(p.ncpu, true)
	if err := p.learnLayout(); err != nil {
		unix.Close(fd)
		return nil, err
	}
	return p, nil
}

// Available reports whether this host can run the platform: x86-64 with
// the FSGSBASE instructions enabled for user space (the handler saves and
// restores fs_base and gs_base with them).
func Available() error {
	if runtime.GOARCH != "amd64" {
		return fmt.Errorf("seccomp platform: needs x86-64")
	}
	// The runtime's copy of the auxiliary vector (no /proc/self/auxv read).
	auxv, err := unix.Auxv()
	if err != nil {
		return fmt.Errorf("seccomp platform: auxiliary vector: %w", err)
	}
	const atHWCAP2, hwcap2FSGSBASE = 26, 2
	for _, kv := range auxv {
		if kv[0] == atHWCAP2 && kv[1]&hwcap2FSGSBASE != 0 {
			return nil
		}
	}
	return fmt.Errorf("seccomp platform: the kernel does not enable FSGSBASE")
}

// Layout implements platform.Platform.
func (p *Platform) Layout() platform.Layout { return p.layout }

// SetSpinning turns spin mode (spin.go) on or off, for measurements; it
// is on by default where there are two CPUs or more. Call it before the
// first address space is made.
func (p *Platform) SetSpinning(on bool) { p.spinSt.init(p.ncpu, on) }

// learnLayout reads glassbox' own vDSO pieces ([vvar], [vvar_vclock],
// [vdso] on current kernels): every process of this kernel gets the same
// ones, at the same offsets from one another. Each stub moves its own to
// vdsoArea, where the ptrace platform puts them too.
func (p *Platform) learnLayout() error {
	maps, err := platform.ReadHostMaps(os.Getpid())
	if err != nil {
		return err
	}
	var group []platform.HostMap
	var vdsoStart uint64
	for _, m := range maps {
		if strings.HasPrefix(m.Name, "[vvar") || m.Name == "[vdso]" {
			group = append(group, m)
			if m.Name == "[vdso]" {
				vdsoStart = m.Start
			}
		}
	}
	l := platform.Layout{TaskSize: StubBase}
	l.Pieces = append(l.Pieces, platform.Piece{Start: StubBase, End: StubBase + codePage,
		Prot: unix.PROT_READ | unix.PROT_EXEC, Name: "[glassbox-stub]"})
	if len(group) > 0 && vdsoStart != 0 {
		base := group[0].Start
		if span := group[len(group)-1].End - base; span > vdsoMax || len(group) > maxVDSO {
			return fmt.Errorf("host vDSO area too large (%#x bytes, %d pieces)", span, len(group))
		}
		for _, m := range group {
			v := vdsoPiece{rel: m.Start - vdsoStart, size: m.End - m.Start, target: vdsoArea + (m.Start - base)}
			p.vdso = append(p.vdso, v)
			pc := platform.Piece{Start: v.target, End: v.target + v.size, Prot: m.Prot, Name: m.Name}
			if m.Name == "[vdso]" {
				pc.Data = readSelf(m.Start, m.End-m.Start)
				l.VDSO = v.target
			}
			l.Pieces = append(l.Pieces, pc)
		}
	}
	p.layout = l
	return nil
}

// readSelf reads glassbox' own memory (its vDSO image: what the guest
// reads at its vDSO address), with process_vm_readv on itself.
func readSelf(addr, size uint64) []byte {
	b := make([]byte, size)
	local := []unix.Iovec{{Base: &b[0]}}
	local[0].SetLen(len(b))
	remote := []unix.RemoteIovec{{Base: uintptr(addr), Len: int(size)}}
	if n, err := unix.ProcessVMReadv(os.Getpid(), local, remote, 0); err != nil || n != len(b) {
		return nil
	}
	return b
}

// The spawner is one goroutine per platform, locked to its OS thread
// until Close: every stub is its child, so the stubs' PDEATHSIG fires only
// when that thread ends — when glassbox ends, or the platform is closed
// (a stub's parent is the thread that forked it, not the process).
type spawnReq struct {
	path  string
	files []uintptr
	reply chan spawnRes
}

type spawnRes struct {
	pid int
	err error
}

// spawner is the platform's share of stub creation.
type spawner struct {
	mu     sync.Mutex
	ch     chan spawnReq // nil until the first spawn; closed by stop
	closed bool
}

// spawn starts a stub process. A stub it starts counts in p.reaping
// (counted under the spawner's mu, before stop, so before Close waits).
func (p *Platform) spawn(path string, files []uintptr) (int, error) {
	s := &p.spawner
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return 0, fmt.Errorf("seccomp platform closed")
	}
	p.reaping.Add(1)
	if s.ch == nil {
		s.ch = make(chan spawnReq)
		go func(ch chan spawnReq) {
			// The OS thread ends with the goroutine (it stays locked).
			runtime.LockOSThread()
			for r := range ch {
				attr := &syscall.ProcAttr{
					Files: r.files,
					Sys:   &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL},
				}
				pid, err := syscall.ForkExec(r.path, []string{"glassbox-stub"}, attr)
				r.reply <- spawnRes{pid, err}
			}
		}(s.ch)
	}
	ch := s.ch
	reply := make(chan spawnRes, 1)
	// Sent under mu, so stop cannot close ch in between.
	ch <- spawnReq{path, files, reply}
	s.mu.Unlock()
	r := <-reply
	if r.err != nil {
		p.reaping.Done()
	}
	return r.pid, r.err
}

// stop ends the spawner: no stub may be made afterwards, and any stub
// still alive gets its PDEATHSIG as the spawner's thread ends, which it
// does on its own: Close waits for the stubs' reaping, not for the
// thread (a wait for the goroutine is a cross-thread wake-up at the end
// of every run).
func (s *spawner) stop() {
	s.mu.Lock()
	s.closed = true
	ch := s.ch
	s.mu.Unlock()
	if ch != nil {
		close(ch)
	}
}

func cpuSet(cpu int) *unix.CPUSet {
	var s unix.CPUSet
	s.Set(cpu)
	return &s
}

// pinSelf binds the calling OS thread to cpu. A guest thread's stub thread
// runs on the same CPU, so a hand-off is a switch between two threads of
// one run queue rather than a wake-up across CPUs.
func pinSelf(cpu int) { unix.SchedSetaffinity(0, cpuSet(cpu)) }

func (p *Platform) pickCPU() int { return int(p.nextCPU.Add(1)-1) % p.ncpu }
