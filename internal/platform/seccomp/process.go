package seccomp

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"

	"glassbox/internal/platform"
)

// process is one stub process: one host address space.
type process struct {
	p   *Platform
	pid int
	// ctl is glassbox' read-write mapping of the control memfd: the
	// command page (read-only in the stub) and the slots.
	ctl  []byte
	resR int // read end of the result pipe (the stub writes fd 2)
	sock int // glassbox' end of the stub's host-file socket (its fd 1)

	// cmdMu serialises commands to the syscall thread; seq, sysCPU,
	// queue and unread are guarded by it.
	cmdMu  sync.Mutex
	seq    uint32
	sysCPU int
	queue  []cmdEntry // mapping changes not made yet (queue.go)
	unread int        // results of resumes not read yet (queue.go)
	files  hostFiles  // the host files the stub holds (hostfile.go), under cmdMu

	// mu guards threads and slots.
	mu      sync.Mutex
	threads int         // live and starting threads
	slots   []slotState // what glassbox knows of each slot

	dead atomic.Bool // the stub process is gone
	// byGuest says glassbox killed the stub for something its guest did.
	byGuest  atomic.Bool
	killOnce sync.Once
	unmapped bool // ctl is unmapped (under mu)
	// killed and reaped say kill and the reaping have happened (under mu):
	// ctl is unmapped at the second (unmap).
	killed, reaped bool

	// sigMu orders signals to the stub's threads before its reaping: once
	// sigOff is set (the stub was SIGKILLed, or reap is about to reap it,
	// after which the pid may name another process) nothing is sent.
	sigMu  sync.Mutex
	sigOff bool
}

// slotState is glassbox' record of a slot.
type slotState uint8

const (
	slotFree     slotState = iota
	slotUsed               // a thread glassbox knows lives in it
	slotZombie             // its thread was released; free once its state word is stDead
	slotReserved           // never a thread's (rxSlot)
)

var errGone = errors.New("stub process is gone")

// NewAddressSpace implements platform.Platform. The caller's goroutine must
// be locked to its OS thread for life and is the only one that may use the
// returned Thread.
//
// From the second address space on, stubs are made ahead: a warm one
// (process and first thread, waiting at its ready trap) is taken, and the
// next one is made in the background, so that fork and exec wait for a
// stub only when they come faster than stubs can be made. The first one
// is Probe's, if it ran (a run of one process makes one stub).
func (p *Platform) NewAddressSpace() (platform.Thread, error) { return p.newSpace(-1) }

// newSpace is NewAddressSpace with its thread on cpu (-1: the next in
// turn).
func (p *Platform) newSpace(cpu int) (platform.Thread, error) {
	p.warmOnce.Do(func() { p.warm = make(chan warmStub, 1) })
	var w warmStub
	ok := false
	if p.takes.Add(1) >= 2 {
		p.warmerOnce.Do(func() {
			p.warmerDone = make(chan struct{})
			go p.warmer()
		})
		w, ok = <-p.warm
	} else if p.prewarm != nil {
		w, ok = <-p.warm // Prewarm's stub, made or failed
	} else {
		select {
		case w, ok = <-p.warm:
		default:
		}
	}
	t := w.t
	if !ok || w.err != nil {
		var err error
		if t, err = p.coldStub(); err != nil {
			return nil, err
		}
	}
	if cpu < 0 {
		cpu = p.pickCPU()
	}
	t.bind(cpu)
	return t, nil
}

// Probe makes the first stub now, so that a platform that cannot work on
// this host says so before any guest runs. NewAddressSpace uses the stub.
func (p *Platform) Probe() error {
	var err error
	p.warmOnce.Do(func() {
		p.warm = make(chan warmStub, 1)
		var t *thread
		if t, err = p.coldStub(); err != nil {
			close(p.warm)
			return
		}
		p.warm <- warmStub{t: t}
	})
	return err
}

// Prewarm starts making the first stub in the background, for the first
// NewAddressSpace to take (it waits for it): the stub comes up while
// glassbox sets up the rest of the sandbox. It does nothing after Probe or
// NewAddressSpace.
func (p *Platform) Prewarm() {
	p.warmOnce.Do(func() {
		p.warm = make(chan warmStub, 1)
		p.prewarm = make(chan struct{})
		go func() {
			defer close(p.prewarm)
			t, err := p.coldStub()
			p.warm <- warmStub{t, err}
		}()
	})
}

// warmStub is a stub made ahead, or why making one failed.
type warmStub struct {
	t   *thread
	err error
}

// warmer makes stubs ahead until making one fails (then NewAddressSpace
// makes each itself and reports its error) or the platform is closed.
func (p *Platform) warmer() {
	defer close(p.warmerDone)
	for {
		select {
		case <-p.closing:
			return
		default:
		}
		t, err := p.coldStub()
		select {
		case p.warm <- warmStub{t, err}:
		case <-p.closing:
			if t != nil {
				t.proc.kill()
			}
			return
		}
		if err != nil {
			close(p.warm)
			return
		}
	}
}

// Close ends the stubs made ahead and closes the stub image: no stub may
// start afterwards. Address spaces in use are their threads' to release;
// a stub still alive then dies of its PDEATHSIG as the spawner's thread
// ends. Close returns once every stub the platform made is reaped.
func (p *Platform) Close() {
	p.closeOnce.Do(func() {
		close(p.closing)
		p.warmOnce.Do(func() { p.warm = make(chan warmStub, 1) })
		if p.prewarm != nil {
			<-p.prewarm // its stub is in p.warm now, or taken
		}
		started := true
		p.warmerOnce.Do(func() { started = false })
		if started {
			<-p.warmerDone
		}
		for drained := false; !drained; {
			select {
			case w, ok := <-p.warm:
				if !ok {
					drained = true
				} else if w.t != nil {
					w.t.proc.kill()
				}
			default:
				drained = true
			}
		}
		unix.Close(p.stubFD)
		p.spawner.stop()
		p.reaping.Wait()
	})
}

// coldStub makes a stub process and its first thread, up to the thread's
// ready trap.
func (p *Platform) coldStub() (*thread, error) {
	proc, st, err := p.newProcess()
	if err != nil {
		return nil, err
	}
	t, err := st.await()
	if err != nil {
		proc.kill()
		return nil, err
	}
	return t, nil
}

// newProcess starts a stub process and has it clone its first thread.
// The clone is posted before the stub starts: the stub finds it once set
// up, with no wake-up. The thread's CPU is chosen when it is taken, so
// that address spaces take CPUs in turn as the ptrace platform's do.
func (p *Platform) newProcess() (*process, *starter, error) {
	ctlMem, err := unix.MemfdCreate("glassbox-ctl", unix.MFD_CLOEXEC)
	if err != nil {
		return nil, nil, fmt.Errorf("memfd_create: %w", err)
	}
	defer unix.Close(ctlMem)
	if err := unix.Ftruncate(ctlMem, ctlSize); err != nil {
		return nil, nil, fmt.Errorf("control memfd: %w", err)
	}
	ctl, err := unix.Mmap(ctlMem, 0, ctlSize, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		return nil, nil, fmt.Errorf("mapping control memfd: %w", err)
	}
	proc := &process{p: p, ctl: ctl, resR: -1, sock: -1, sysCPU: -1, slots: make([]slotState, maxSlots)}
	proc.slots[rxSlot] = slotReserved
	p.writeSetup(ctl)
	i, _ := proc.reserveSlot() // slot 0: nothing else is taken
	args, ss, slot := proc.cloneArgs(i)
	proc.cmdMu.Lock()
	proc.postAsync(-1, opClone, args, ss, slot, 0) // no one to wake yet
	proc.cmdMu.Unlock()

	var res [2]int
	if err := unix.Pipe2(res[:], unix.O_CLOEXEC); err != nil {
		unix.Munmap(ctl)
		return nil, nil, fmt.Errorf("pipe: %w", err)
	}
	proc.resR = res[0]
	// Host files go to the stub as SCM_RIGHTS datagrams on a socket pair;
	// the stub's end is its only socket.
	sp, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		unix.Close(res[0])
		unix.Close(res[1])
		unix.Munmap(ctl)
		return nil, nil, fmt.Errorf("socketpair: %w", err)
	}
	proc.sock = sp[0]
	deathR, deathW, err := os.Pipe()
	if err != nil {
		unix.Close(sp[0])
		unix.Close(sp[1])
		unix.Close(res[0])
		unix.Close(res[1])
		unix.Munmap(ctl)
		return nil, nil, fmt.Errorf("pipe: %w", err)
	}
	files := make([]uintptr, 5)
	files[memFD], files[sockFD], files[resultFD], files[deathFD], files[ctlFD] =
		uintptr(p.memfd), uintptr(sp[1]), uintptr(res[1]), deathW.Fd(), uintptr(ctlMem)
	pid, err := p.spawn(p.stubExe, files)
	unix.Close(res[1])
	unix.Close(sp[1])
	deathW.Close()
	if err != nil {
		deathR.Close()
		unix.Close(res[0])
		unix.Close(sp[0])
		unix.Munmap(ctl)
		return nil, nil, fmt.Errorf("starting stub: %w", err)
	}
	proc.pid = pid
	go proc.reap(deathR) // spawn counted it in reaping
	// The stub reports the end of its set-up like a command's result,
	// then the clone's.
	if err := proc.result(); err != nil {
		proc.kill()
		return nil, nil, fmt.Errorf("stub set-up: %w", err)
	}
	proc.cmdMu.Lock()
	err = proc.result()
	proc.cmdMu.Unlock()
	if err != nil {
		proc.kill()
		return nil, nil, fmt.Errorf("stub clone: %w", err)
	}
	return proc, &starter{proc: proc, slot: i, cpu: -1}, nil
}

// writeSetup fills the command page's set-up part.
func (p *Platform) writeSetup(ctl []byte) {
	le := binary.LittleEndian
	le.PutUint64(ctl[setupVDSO:], uint64(len(p.vdso)))
	for i, v := range p.vdso {
		o := setupVDSO + 8 + 24*i
		le.PutUint64(ctl[o:], v.rel)
		le.PutUint64(ctl[o+8:], v.size)
		le.PutUint64(ctl[o+16:], v.target)
	}
	a := p.stub.a
	le.PutUint64(ctl[sigact:], a.addr("handler"))
	le.PutUint64(ctl[sigact+8:], saFlags)
	le.PutUint64(ctl[sigact+16:], a.addr("restorer"))
	le.PutUint64(ctl[sigact+24:], ^uint64(0))
	le.PutUint64(ctl[maskAll:], ^uint64(0))
	le.PutUint64(ctl[maskBoot:], bootMask())
	for i := 0; i < 256; i++ {
		ctl[byteTable+i] = byte(i)
	}
	p.stub.writeProgs(ctl)
}

// reap waits for the stub's end (the death pipe's write end is held by
// the stub alone), marks every slot dead, waking whoever waits on one,
// and reaps the stub. Its end comes from kill, from a failed command or
// guestKill, or at the latest from its PDEATHSIG when the platform's
// spawner thread ends (Close).
func (proc *process) reap(f *os.File) {
	defer proc.p.reaping.Done()
	var b [1]byte
	for {
		if _, err := f.Read(b[:]); err != nil {
			break
		}
	}
	f.Close()
	proc.markDead()
	proc.unmap(false)
	// The stub's descriptors are gone: it is exiting, and wait4 returns
	// as soon as it has. From its reaping on its pid may name another
	// process: no signal goes to it any more.
	proc.sigMu.Lock()
	proc.sigOff = true
	proc.sigMu.Unlock()
	var ws unix.WaitStatus
	for {
		if _, err := unix.Wait4(proc.pid, &ws, unix.WALL, nil); err != unix.EINTR {
			break
		}
	}
}

// exitSlot tells slot i's handler to exit, whatever the word held (the
// guest may have cleared the sleeper flag). Under mu, and not once the
// control pages are unmapped: the process's last thread may be released
// (and the stub killed and its pages unmapped) on another goroutine
// between this thread's release and its word's store.
func (proc *process) exitSlot(i int) {
	proc.mu.Lock()
	defer proc.mu.Unlock()
	if proc.unmapped {
		return
	}
	w := proc.word(i)
	atomic.StoreUint32(w, stExit)
	futexWake(w)
}

// markDead records the stub's end and wakes every waiter on a slot.
func (proc *process) markDead() {
	proc.dead.Store(true)
	proc.mu.Lock()
	defer proc.mu.Unlock()
	if proc.unmapped {
		return
	}
	for i, st := range proc.slots {
		if st == slotUsed {
			w := proc.word(i)
			atomic.StoreUint32(w, stDead)
			futexWake(w)
		}
	}
}

// spinWord returns slot i's polling budget in glassbox' mapping.
func (proc *process) spinWord(i int) *uint32 {
	return (*uint32)(unsafe.Pointer(&proc.ctl[slotOff(i)+hdrSpin]))
}

// word returns slot i's state word in glassbox' mapping.
func (proc *process) word(i int) *uint32 {
	return (*uint32)(unsafe.Pointer(&proc.ctl[slotOff(i)+hdrState]))
}

// command has the syscall thread run op with args and returns the
// syscall's result: nil, or the errno it failed with. It returns only once
// the syscall has returned in the stub.
func (proc *process) command(cpu int, op uint64, args [6]uint64, ss, slot uint64) error {
	proc.cmdMu.Lock()
	defer proc.cmdMu.Unlock()
	err := proc.post(cpu, op, args, ss, slot)
	if err != nil && op != opClone && op != opMembarrier && err != errGone {
		return proc.failed(op, err)
	}
	return err
}

// failed kills the stub after a mapping change that failed (under cmdMu).
// The change (ENOMEM at the host's map count, a bad request) may have
// been made in part: the host's mappings are no longer what mm recorded,
// and a frame mm is about to reuse may still be mapped here. The stub
// cannot be trusted any more; it goes, and its guest with it.
func (proc *process) failed(op uint64, err error) error {
	proc.signal(0, unix.SIGKILL)
	proc.dead.Store(true)
	return fmt.Errorf("stub %d: %s failed (%v): stub killed", proc.pid, opName(op), err)
}

// post has the syscall thread run one command, after the queued mapping
// changes (queue.go), and returns its result (under cmdMu).
func (proc *process) post(cpu int, op uint64, args [6]uint64, ss, slot uint64) error {
	if proc.dead.Load() {
		return errGone
	}
	if err := proc.postAsync(cpu, op, args, ss, slot, 0); err != nil {
		return err
	}
	return proc.result()
}

func opName(op uint64) string {
	switch op {
	case opMmap, opMmapPopulate, opMmapFile, opRecvMmapFile:
		return "mmap"
	case opMunmap:
		return "munmap"
	case opMprotect:
		return "mprotect"
	case opClone:
		return "clone"
	case opMembarrier:
		return "membarrier"
	}
	return "command"
}

// guestKill kills the stub for something its guest did.
func (proc *process) guestKill() {
	proc.byGuest.Store(true)
	proc.signal(0, unix.SIGKILL)
}

// goneErr is the error of a thread whose stub is gone.
func (proc *process) goneErr(tid int) error {
	if proc.byGuest.Load() {
		return fmt.Errorf("stub thread %d is gone: %w", tid, platform.ErrGuest)
	}
	return fmt.Errorf("stub thread %d is gone", tid)
}

// signal sends sig to thread tid of the stub (0: the whole process),
// unless the stub has been killed or is being reaped.
func (proc *process) signal(tid int, sig unix.Signal) {
	proc.sigMu.Lock()
	defer proc.sigMu.Unlock()
	if proc.sigOff {
		return
	}
	if tid == 0 {
		unix.Kill(proc.pid, sig)
		return
	}
	unix.Tgkill(proc.pid, tid, sig)
}

// result reads the syscall thread's one-byte report: 0 for success, else
// the errno. End of file means the stub is gone.
func (proc *process) result() error {
	var b [1]byte
	for {
		n, err := unix.Read(proc.resR, b[:])
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return err
		}
		if n == 0 {
			proc.dead.Store(true)
			return errGone
		}
		if b[0] != 0 {
			return unix.Errno(b[0])
		}
		return nil
	}
}

// dieElsewhere moves the stub's last thread t and its syscall thread off
// t's CPU before kill (Release): SIGKILL wakes them to exit, and the last
// one out tears the stub's address space down. Pinned to t's CPU, where
// the exiting task's goroutine goes on to notify the parent, a woken
// thread preempts that goroutine for the whole teardown; elsewhere the
// teardown runs beside it, on a CPU its parent, asleep in wait4, leaves
// idle.
func (proc *process) dieElsewhere(t *thread) {
	n := proc.p.ncpu
	if n < 2 {
		return
	}
	var s unix.CPUSet
	for i := 0; i < n; i++ {
		if i != t.cpu {
			s.Set(i)
		}
	}
	proc.sigMu.Lock() // as for a signal: the tids are the stub's until its reaping
	if !proc.sigOff {
		unix.SchedSetaffinity(t.tid, &s)
		unix.SchedSetaffinity(proc.pid, &s)
	}
	proc.sigMu.Unlock()
}

// kill destroys the stub process. It does not wait for the stub's end:
// reap reaps it and then frees glassbox' side (unmap, or kill itself if
// the stub was reaped first), and Platform.Close waits for that. Called once no thread of the stub runs guest code (every one was
// released: it waits in the handler, or has exited) or on a stub that
// is not to run any (made ahead, or failed), it leaves no instruction
// that could touch a frame: the frames the stub maps may be reused at
// once, and the host drops its mappings as it dies.
func (proc *process) kill() { proc.killOnce.Do(proc.doKill) }

func (proc *process) doKill() {
	proc.sigMu.Lock()
	if !proc.sigOff {
		unix.Kill(proc.pid, unix.SIGKILL)
		proc.sigOff = true
	}
	proc.sigMu.Unlock()
	proc.markDead()
	proc.unmap(true)
}

// unmap lets go of glassbox' side of a dead stub, once: its control pages
// and its descriptors. It is called by kill (killing) and by the reaping,
// and acts at the second call: only once the stub is killed are no
// threads of it left to read their slots (a stub that died on its own
// still has them), and a stub killed first is unmapped off the path of
// the exit that killed it (the munmap makes the host shoot down glassbox'
// TLB entries on every CPU it runs on).
func (proc *process) unmap(killing bool) {
	proc.mu.Lock()
	if killing {
		proc.killed = true
	} else {
		proc.reaped = true
	}
	if proc.unmapped || !proc.killed || !proc.reaped {
		proc.mu.Unlock()
		return
	}
	proc.unmapped = true
	unix.Munmap(proc.ctl)
	proc.mu.Unlock()
	unix.Close(proc.resR)
	unix.Close(proc.sock)
}

// allocSlot picks a free slot (under mu).
// A zombie slot is reused only once its thread has ended (the host
// cleared its state word at the thread's exit), so that a new thread's
// slot is never also an old thread's signal stack.
func (proc *process) allocSlot() (int, error) {
	for i, st := range proc.slots {
		if st == slotZombie && atomic.LoadUint32(proc.word(i)) == stDead {
			st = slotFree
		}
		if st == slotFree {
			proc.slots[i] = slotUsed
			return i, nil
		}
	}
	return 0, fmt.Errorf("stub %d: no free thread slot", proc.pid)
}

// newThread has the syscall thread clone a guest thread into a fresh slot.
//
// The new thread starts on cpu (the syscall thread moves there to clone
// it), or wherever the syscall thread is if cpu is -1.
func (proc *process) newThread(cpu int) (*starter, error) {
	i, err := proc.reserveSlot()
	if err != nil {
		return nil, err
	}
	args, ss, slot := proc.cloneArgs(i)
	if err := proc.command(cpu, opClone, args, ss, slot); err != nil {
		proc.unreserve(i)
		return nil, fmt.Errorf("stub clone: %w", err)
	}
	return &starter{proc: proc, slot: i, cpu: cpu}, nil
}

// reserveSlot takes a free slot for a new thread and counts the thread.
func (proc *process) reserveSlot() (int, error) {
	proc.mu.Lock()
	defer proc.mu.Unlock()
	if proc.dead.Load() {
		return 0, errGone
	}
	i, err := proc.allocSlot()
	if err != nil {
		return 0, err
	}
	proc.threads++
	return i, nil
}

// unreserve gives back a slot whose clone failed.
func (proc *process) unreserve(i int) {
	proc.mu.Lock()
	proc.slots[i] = slotFree
	atomic.StoreUint32(proc.word(i), stDead)
	proc.threads--
	proc.mu.Unlock()
}

// cloneArgs readies slot i for a new thread and returns the clone
// command's arguments, stack_t and slot.
func (proc *process) cloneArgs(i int) (args [6]uint64, ss, slot uint64) {
	le := binary.LittleEndian
	base := slotOff(i)
	// The state starts at stResume: Start waits for the ready trap.
	atomic.StoreUint32(proc.word(i), stResume)
	le.PutUint32(proc.ctl[base+hdrTID:], 0)
	atomic.StoreUint32(proc.spinWord(i), 0)
	// A patched call's XSAVE header: XSAVE writes its first word only.
	clear(proc.ctl[base+pFP+xsHeader : base+pFP+xsMin])
	st := stackTs + 24*i
	le.PutUint64(proc.ctl[st:], slotAddr(i)+altStack)
	le.PutUint32(proc.ctl[st+8:], 0)
	le.PutUint64(proc.ctl[st+16:], altSize)
	return [6]uint64{threadCloneFlags, 0, slotAddr(i) + hdrTID, slotAddr(i) + hdrState}, ctlRO + uint64(st), slotAddr(i)
}

// release forgets slot i: its thread was asked to exit (or never started).
// It returns true when no thread is left.
func (proc *process) release(i int) bool {
	proc.mu.Lock()
	defer proc.mu.Unlock()
	proc.slots[i] = slotZombie
	proc.threads--
	return proc.threads == 0
}
