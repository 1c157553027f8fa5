package seccomp

import (
	"encoding/binary"
	"fmt"
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"glassbox/internal/platform"
)

// thread is one guest thread: a stub thread and its slot.
type thread struct {
	proc *process
	slot int
	tid  int
	cpu  int
	// uc and fp are the validated offsets in proc.ctl of the current
	// frame's ucontext and XSAVE image (0 before the first trap).
	uc, fp int
	// running is set while the guest runs (between the hand-off and the
	// next trap); intr is an interrupt not yet reported. See Interrupt.
	running  atomic.Bool
	intr     atomic.Bool
	dead     bool
	released bool
	spin     pairSpin
	dbg      *debugRegs // debugreg.go; nil until used
	// drops is the slot's count of dropped interrupts when the guest was
	// last resumed (see waitPoll).
	drops uint32
	// queued: the syscall thread resumes the thread (queue.go), and its
	// word may read stQueued until it has.
	queued bool
}

// dropWord is the slot's count of interrupts the handler dropped.
func (t *thread) dropWord() *uint32 {
	return (*uint32)(unsafe.Pointer(&t.proc.ctl[slotOff(t.slot)+hdrDrops]))
}

// ID implements platform.Thread.
func (t *thread) ID() int { return t.tid }

func (t *thread) word() *uint32 { return t.proc.word(t.slot) }

// Switch implements platform.Thread.
func (t *thread) Switch(regs *platform.Regs) (platform.Event, error) {
	if t.dead {
		return platform.Event{}, t.proc.goneErr(t.tid)
	}
	var want platform.Regs
	if t.proc.p.patching {
		want = *regs
	}
	t.writeFrame(regs)
	t.adapt()
	t.drops = atomic.LoadUint32(t.dropWord())
	t.running.Store(true)
	if t.intr.Swap(false) {
		t.running.Store(false)
		return platform.Event{Kind: platform.EventInterrupt}, nil
	}
	for {
		patched := t.patchedFrame()
		ev, err := t.resumeWait(regs)
		if err != nil || !t.proc.p.patching || !t.proc.p.inPatchCode(regs.Rip) || t.patchedFrame() {
			return ev, err
		}
		// A signal in the stub's patched-call code (patch.go).
		a := t.proc.p.stub.a
		switch {
		case ev.Kind == platform.EventSignal && ev.Signo == int(unix.SIGILL) && regs.Rip == a.addr("p_bad"):
			return fromBad(regs), nil
		case ev.Kind == platform.EventSignal && ev.Signo == int(unix.SIGILL) && regs.Rip == a.addr("p_slow") && patched:
			// Return what glassbox wrote into the patched frame through
			// this signal frame instead.
			if err := t.takeFP(); err != nil {
				return t.guestFault(err)
			}
			*regs = want
			t.writeFrame(regs)
			t.running.Store(true)
			continue
		}
		return t.guestFault(fmt.Errorf("stub thread %d: %v at %#x in the patched-call code: %w", t.tid, ev.Kind, regs.Rip, platform.ErrGuest))
	}
}

// resumeWait hands the current frame back, waits for the next trap and
// reads it into regs.
func (t *thread) resumeWait(regs *platform.Regs) (platform.Event, error) {
	w := t.word()
	t.resuming()
	queued, err := t.resumeQueued()
	if !queued && atomic.SwapUint32(w, stResume)&flagSleeper != 0 {
		futexWake(w)
	}
	if err == nil {
		// After a queued resume the syscall thread needs this CPU: no
		// polling (a pair that started spinning just now).
		poll := t.gbPoll()
		if queued {
			poll = 0
		}
		_, err = t.waitPoll(poll)
	}
	t.queued = false
	t.running.Store(false)
	if err != nil {
		t.spinOff()
		return platform.Event{}, err
	}
	t.handedOff()
	ev, err := t.readFrame(regs)
	if err != nil {
		return t.guestFault(err)
	}
	if ev.Kind == platform.EventInterrupt {
		t.intr.Store(false)
	}
	return ev, nil
}

// guestFault loses the thread's stub for something its guest did.
func (t *thread) guestFault(err error) (platform.Event, error) {
	t.dead = true
	t.proc.guestKill()
	return platform.Event{}, err
}

// wait waits until the thread has trapped (or is gone).
//
// The state word is guest-writable. While glassbox waits, the only values
// glassbox or the handler put there are resume (with or without the
// sleeper flag), trapped (likewise) and dead; anything else was written by
// the guest, which loses its stub. glassbox sleeps only on a value it wrote
// itself, and never for good once an interrupt is pending: then it wakes
// every few milliseconds and wakes the handler's side of the word too,
// in case the guest left the handler asleep on a value of its own making.
func (t *thread) wait() error {
	_, err := t.waitPoll(0)
	return err
}

// waitPoll is wait polling the word for up to poll before it sleeps; it
// reports whether it slept.
func (t *thread) waitPoll(poll time.Duration) (slept bool, err error) {
	w := t.word()
	var deadline time.Time
	if poll > 0 {
		deadline = time.Now().Add(poll)
	}
	for n := uint32(0); ; n++ {
		v := atomic.LoadUint32(w)
		switch v &^ flagSleeper {
		case stTrapped:
			return slept, nil
		case stResume:
		case stQueued:
			if t.queued {
				break
			}
			fallthrough
		default:
			t.dead = true
			if t.proc.dead.Load() {
				return slept, t.proc.goneErr(t.tid)
			}
			t.proc.guestKill()
			if v == stDead {
				// The host cleared the word: the thread ended while its
				// process lives on, which only a guest jump to the
				// handler's exit does.
				return slept, fmt.Errorf("stub thread %d ended: %w", t.tid, platform.ErrGuest)
			}
			return slept, fmt.Errorf("stub thread %d: state word %#x: %w", t.tid, v, platform.ErrGuest)
		}
		if t.proc.dead.Load() {
			t.dead = true
			return slept, t.proc.goneErr(t.tid)
		}
		if poll > 0 {
			if n%64 != 0 || time.Now().Before(deadline) {
				continue
			}
			poll = 0
		}
		if v == stResume || v == stQueued {
			if !atomic.CompareAndSwapUint32(w, v, v|flagSleeper) {
				continue
			}
			v |= flagSleeper
		}
		slept = true
		if !t.intr.Load() {
			futexWait(w, v, 0)
			continue
		}
		futexWait(w, v, kickInterval)
		futexWake(w)
		if d := atomic.LoadUint32(t.dropWord()); d != t.drops && t.running.Load() {
			// The handler dropped an interrupt that found the thread
			// in a patched call's code (patch.go): send it again.
			t.drops = d
			t.proc.signal(t.tid, sigInterrupt)
		}
	}
}

// kickInterval is how often a wait with an interrupt pending wakes the
// handler's side of the word.
const kickInterval = 5 * time.Millisecond

// Interrupt implements platform.Thread. A thread that runs the guest gets
// the interrupt signal; one that is in glassbox' hands reports the
// interrupt at its next Switch instead. Switch sets running before it
// looks at intr and Interrupt sets intr before it looks at running, so
// one of them always sees the other. The wake lets a wait already asleep
// see intr (see wait).
func (t *thread) Interrupt() {
	t.intr.Store(true)
	if t.running.Load() {
		t.proc.signal(t.tid, sigInterrupt)
		futexWake(t.word())
	}
}

// Release implements platform.Thread. The last thread takes the stub
// process down; others are asked to exit.
func (t *thread) Release() {
	if t.released {
		return
	}
	t.released = true
	t.spinOff()
	t.countHandOffs()
	t.dropDebugRegs()
	if t.proc.release(t.slot) {
		if !t.dead {
			t.proc.dieElsewhere(t)
		}
		t.proc.kill()
		t.dead = true
		return
	}
	if !t.dead {
		if releaseHook != nil {
			releaseHook()
		}
		t.proc.exitSlot(t.slot)
		t.dead = true
	}
}

// releaseHook, when set (by a test), runs in Release between a thread's
// release and its slot's exit word: where the last thread's Release on
// another goroutine may take the stub down.
var releaseHook func()

// Map implements platform.Mapper.
func (t *thread) Map(addr, length uint64, prot int, off uint64) error {
	return t.mapFile(opMmap, mapSharedFixed, addr, length, prot, off)
}

// MapPopulate implements platform.PopulateMapper: Map, with the host's
// page tables for the run filled in by the same call (MAP_POPULATE).
func (t *thread) MapPopulate(addr, length uint64, prot int, off uint64) error {
	return t.mapFile(opMmapPopulate, mapPopulate, addr, length, prot, off)
}

func (t *thread) mapFile(op uint64, flags uint32, addr, length uint64, prot int, off uint64) error {
	region := t.proc.p.patching && addr == PatchBase && length == PatchSize
	if !region {
		t.proc.patchRegion(addr, length, false)
	}
	args := [6]uint64{addr, length, uint64(prot), uint64(flags), 0, off}
	if region {
		err := t.proc.command(t.cpu, op, args, 0, 0)
		if err == nil {
			t.proc.patchRegion(addr, length, true)
		}
		return err
	}
	return t.proc.change(t, op, args)
}

// Unmap implements platform.Mapper.
func (t *thread) Unmap(addr, length uint64) error {
	t.proc.patchRegion(addr, length, false)
	return t.proc.change(t, opMunmap, [6]uint64{addr, length})
}

// Protect implements platform.Mapper.
func (t *thread) Protect(addr, length uint64, prot int) error {
	t.proc.patchRegion(addr, length, false)
	return t.proc.change(t, opMprotect, [6]uint64{addr, length, uint64(prot)})
}

// NewThread implements platform.Thread.
func (t *thread) NewThread() (platform.ThreadStarter, error) {
	if t.dead {
		return nil, errGone
	}
	return t.proc.newThread(t.proc.p.pickCPU())
}

// NewThreadInPlace implements platform.Placer: the new thread starts on
// this thread's CPU (its syscall thread, serving this one, is there too).
func (t *thread) NewThreadInPlace() (platform.ThreadStarter, error) {
	if t.dead {
		return nil, errGone
	}
	return t.proc.newThread(t.cpu)
}

// ReplacementSpace implements platform.Placer: the new address space's
// thread runs on this thread's CPU.
func (t *thread) ReplacementSpace() (platform.Thread, error) {
	return t.proc.p.newSpace(t.cpu)
}

// starter is a cloned stub thread on its way to its ready trap.
type starter struct {
	proc *process
	slot int
	cpu  int
}

// Start implements platform.ThreadStarter: it waits for the new thread's
// ready trap. The calling goroutine must be locked to its OS thread.
func (s *starter) Start() (platform.Thread, error) {
	t, err := s.await()
	if err != nil {
		return nil, err
	}
	t.bind(s.cpu)
	return t, nil
}

// await waits for the new thread's ready trap and checks it. It may run on
// any goroutine.
func (s *starter) await() (*thread, error) {
	proc := s.proc
	t := &thread{proc: proc, slot: s.slot, cpu: s.cpu}
	fail := func(err error) (*thread, error) {
		t.Release()
		return nil, err
	}
	if err := t.wait(); err != nil {
		return fail(err)
	}
	tid := int(int32(binary.LittleEndian.Uint32(proc.ctl[slotOff(s.slot)+hdrTID:])))
	if tid <= 0 || unix.Tgkill(proc.pid, tid, 0) != nil {
		return fail(fmt.Errorf("stub %d: new thread has no valid tid", proc.pid))
	}
	t.tid = tid
	p := proc.p
	p.fpOnce.Do(func() {
		_, fp, err := t.frameAt(xsMin)
		if err == nil {
			p.fp, err = learnFP(proc.ctl[fp:slotOff(s.slot)+slotSize], 0)
		}
		p.fpErr = err
	})
	if p.fpErr != nil {
		return fail(p.fpErr)
	}
	binary.LittleEndian.PutUint64(proc.ctl[roXfeat:], p.fp.xfeatures)
	var regs platform.Regs
	ev, err := t.readFrame(&regs)
	if err != nil {
		return fail(err)
	}
	if ev.Kind != platform.EventSyscall || regs.Orig_rax != readyNR || regs.Rip != p.stub.a.site("ready") {
		return fail(fmt.Errorf("stub %d: new thread's first trap is not its ready trap (%v at %#x)", proc.pid, ev.Kind, regs.Rip))
	}
	return t, nil
}

// bind puts the calling OS thread and the stub thread on cpu: a hand-off
// between them is then a switch on one run queue (the syscall thread
// follows whichever thread sends it a command).
func (t *thread) bind(cpu int) {
	t.cpu = cpu
	pinSelf(cpu)
	unix.SchedSetaffinity(t.tid, cpuSet(cpu))
}
