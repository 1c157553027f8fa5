package seccomp

import (
	"encoding/binary"
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Queued mapping changes: a fault's mapping and the resume in one hand-off.
//
// A fault that maps a page asks the syscall thread for the mmap (one round
// trip: a wake-up of the syscall thread and one of glassbox) and then
// resumes the guest thread (a third wake-up). While a process has one
// thread, nothing runs in its stub between glassbox' answer and that
// thread's resume: no guest instruction can use a host mapping before the
// thread is resumed, so a mapping change (mmap of the memory file, munmap,
// mprotect, and the mmap of a host file the stub holds with protections
// it was mapped with before: hostfile.go) may wait until then. Such
// changes are queued (at most cmdQueueMax) and the resume goes through
// the syscall thread: glassbox sets the word to stQueued, posts the queue
// with opNone and the thread's state word as the command, and waits for
// the thread's next trap; the syscall thread makes the changes, writes
// its result byte (glassbox reads it before its next command: the stub
// reads nothing of the command page after that byte), and turns the word
// from stQueued into stResume with an atomic xor (which keeps glassbox'
// sleeper flag) and a futex wake of the handler's bitset only. The
// thread's hand-off then costs two wake-ups, not three, and glassbox
// sleeps on until the next trap.
//
// Any other command carries the queue ahead of it, so changes are made in
// the order mm asked for them. A queued change that fails kills the stub
// (st_die) before anything after it runs: mm has recorded it as made, as
// it does when a change it waits for fails. Queuing needs the process's
// only thread: a second one (NewThread's clone posts the queue first)
// could run guest code over a mapping mm thinks gone, and mm may free
// the frame behind it (mm's invariant 2). Map, Unmap and Protect are
// called by the thread's owner goroutine (platform.Thread), which also
// resumes it, so the thread is not running while it queues; the count
// cannot grow meanwhile (only this goroutine clones in this process).
//
// Containment: the queue, its count and the word to resume lie on the
// read-only command page, so only glassbox chooses the changes and the
// word. The new sites (st_resume: a futex wake with the handler's bitset;
// st_die: exit_group) are the syscall thread's; a guest thread that
// jumps to them traps as at every other site. A guest that writes
// stQueued to its word only makes its own thread wait, and glassbox takes
// stQueued as a wait only while it has a resume queued for that thread.

// cmdEntry is one queued mapping change.
type cmdEntry struct {
	op   uint64
	args [6]uint64
}

// mayQueue reports whether t's mapping changes may wait for its resume:
// t is its process's only thread, and it does not spin (spin.go: the
// handler would see the resume at once, but glassbox, asleep while the
// syscall thread works on its CPU, would then be woken across CPUs).
func (t *thread) mayQueue() bool {
	if t.dead || t.released || t.spin.on {
		return false
	}
	proc := t.proc
	proc.mu.Lock()
	n := proc.threads
	proc.mu.Unlock()
	return n == 1
}

// change makes (or queues, see mayQueue) one mapping change of t's
// process.
func (proc *process) change(t *thread, op uint64, args [6]uint64) error {
	queue := t.mayQueue()
	proc.cmdMu.Lock()
	defer proc.cmdMu.Unlock()
	if proc.dead.Load() {
		return errGone
	}
	if queue && len(proc.queue) < cmdQueueMax {
		proc.queue = append(proc.queue, cmdEntry{op, args})
		return nil
	}
	err := proc.post(t.cpu, op, args, 0, 0)
	if err != nil && err != errGone {
		return proc.failed(op, err)
	}
	return err
}

// writeQueue puts the queued changes ahead of the next command and empties
// the queue (under cmdMu).
func (proc *process) writeQueue() {
	le := binary.LittleEndian
	for i, e := range proc.queue {
		o := cmdQueue + i*cmdEntrySize
		le.PutUint64(proc.ctl[o:], e.op)
		for j, a := range e.args {
			le.PutUint64(proc.ctl[o+8+8*j:], a)
		}
	}
	le.PutUint64(proc.ctl[cmdCount:], uint64(len(proc.queue)))
	proc.queue = proc.queue[:0]
}

// drain reads the results of resumes posted without waiting for them
// (under cmdMu): the syscall thread has written each before its resume,
// and is done with the command page once it has.
func (proc *process) drain() error {
	for ; proc.unread > 0; proc.unread-- {
		if err := proc.result(); err != nil {
			return err
		}
	}
	return nil
}

// resumeQueued hands t's frame back through the syscall thread, after the
// queued changes (see above). It reports false, having done nothing, when
// nothing is queued.
func (t *thread) resumeQueued() (bool, error) {
	proc := t.proc
	proc.cmdMu.Lock()
	defer proc.cmdMu.Unlock()
	if len(proc.queue) == 0 {
		return false, nil
	}
	if proc.dead.Load() {
		return true, proc.goneErr(t.tid)
	}
	if err := proc.drain(); err != nil {
		return true, err
	}
	// A handler asleep on the word sleeps on until the syscall thread's
	// wake: no wake from here.
	atomic.StoreUint32(t.word(), stQueued)
	t.queued = true
	// The hand-off's latency now includes the changes: not one for spin
	// mode's measure (spin.go).
	t.spin.resumed = 0
	if err := proc.postAsync(t.cpu, opNone, [6]uint64{}, 0, 0, slotAddr(t.slot)+hdrState); err != nil {
		return true, err
	}
	proc.unread++
	return true, nil
}

// postAsync writes a command (the queue ahead of it) and wakes the syscall
// thread, without waiting for its result (under cmdMu).
func (proc *process) postAsync(cpu int, op uint64, args [6]uint64, ss, slot, resume uint64) error {
	if err := proc.drain(); err != nil {
		return err
	}
	if cpu >= 0 && cpu != proc.sysCPU {
		// Serve this caller on its own CPU: a wake-up across CPUs costs
		// far more than moving the syscall thread.
		if unix.SchedSetaffinity(proc.pid, cpuSet(cpu)) == nil {
			proc.sysCPU = cpu
		}
	}
	proc.writeQueue()
	le := binary.LittleEndian
	le.PutUint64(proc.ctl[cmdOp:], op)
	for i, a := range args {
		le.PutUint64(proc.ctl[cmdArgs+8*i:], a)
	}
	le.PutUint64(proc.ctl[cmdSS:], ss)
	le.PutUint64(proc.ctl[cmdSlot:], slot)
	le.PutUint64(proc.ctl[cmdResume:], resume)
	proc.seq++
	w := (*uint32)(unsafe.Pointer(&proc.ctl[cmdSeq]))
	atomic.StoreUint32(w, proc.seq)
	futexWake(w)
	return nil
}
