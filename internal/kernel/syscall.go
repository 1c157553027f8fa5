package kernel

import (
	"errors"
	"strconv"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"glassbox/internal/abi"
	"glassbox/internal/memfile"
	"glassbox/internal/trace"
)

// MaxSyscall bounds the syscall table.
const MaxSyscall = 512

// Args are a syscall's six argument registers.
type Args [6]uint64

// Int returns argument i as a C int.
func (a Args) Int(i int) int { return int(int32(a[i])) }

// Handler answers one syscall. It returns the value for rax or an error
// (a unix.Errno, or ErrNoReturn when it has set the registers itself).
type Handler func(t *Task, a Args) (uint64, error)

// Syscall is one table entry.
type Syscall struct {
	Name string
	Fn   Handler
	// Note says what is partial about the implementation, if anything.
	Note string
}

// Formatter renders a syscall's arguments and result for tracing.
type Formatter func(t *Task, nr int, a Args, ret uint64, err error) (args, result string)

// Table maps syscall numbers to handlers.
type Table struct {
	Calls  [MaxSyscall]Syscall
	Format Formatter
}

// ErrNoReturn tells the dispatcher the handler has set every register
// (rt_sigreturn, execve) and rax must not be touched.
var ErrNoReturn = errors.New("no syscall return value")

func (t *Task) doSyscall() {
	t.k.stats.syscalls.Add(1)
	nr := int(int64(t.regs.Orig_rax))
	a := Args{t.regs.Rdi, t.regs.Rsi, t.regs.Rdx, t.regs.R10, t.regs.R8, t.regs.R9}
	tr := t.k.cfg.Tracer
	tracing := tr.On(trace.Syscall)
	counting := t.k.perSyscall != nil
	var start time.Time
	if tracing || counting {
		start = time.Now()
	}
	var ret uint64
	var err error
	var sc *Syscall
	if t.traced.Load() {
		if !t.ptraceSyscallEnter() {
			t.ptraceSyscallExit()
			return
		}
		nr = int(int64(t.regs.Orig_rax))
	}
	if st := t.seccomp.Load(); st != nil && !t.seccompEntry(st, nr) {
		if tracing {
			r, e := t.regs.Rax, error(nil)
			if v := int64(r); v < 0 && v >= -4095 {
				r, e = 0, unix.Errno(-v)
			}
			t.traceSyscall(nr, a, r, e, time.Since(start))
		}
		if t.traced.Load() {
			t.ptraceSyscallExit()
		}
		return
	}
	if t.traced.Load() {
		// The tracer may have changed the call and its arguments.
		nr = int(int64(t.regs.Orig_rax))
		a = Args{t.regs.Rdi, t.regs.Rsi, t.regs.Rdx, t.regs.R10, t.regs.R8, t.regs.R9}
	}
	if nr >= 0 && nr < MaxSyscall && t.k.cfg.Syscalls.Calls[nr].Fn != nil {
		sc = &t.k.cfg.Syscalls.Calls[nr]
		t.inKernel.Store(true)
		ret, err = sc.Fn(t, a)
		t.inKernel.Store(false)
	} else {
		t.k.reportUnsupported(nr)
		err = unix.ENOSYS
	}
	if err != nil && errors.Is(err, memfile.ErrLimit) {
		// Kernel work that needed memory found the sandbox at its limit
		// with nothing to reclaim: as a fault would, call the OOM killer
		// (the caller itself may be the victim). The call reports ENOMEM.
		t.oom()
	}
	if err != ErrNoReturn {
		t.regs.Rax = encodeResult(ret, err)
		t.inSyscall = true
	}
	if tr.On(trace.FD | trace.Mem) {
		t.traceAfter(nr, a, ret, err)
	}
	if tracing || counting {
		d := time.Since(start)
		if counting {
			t.k.perSyscall.add(nr, err, d)
		}
		if tracing {
			t.traceSyscall(nr, a, ret, err, d)
		}
	}
	t.unsupported = ""
	if t.traced.Load() {
		t.ptraceSyscallExit()
	}
}

// encodeResult turns a handler's answer into rax.
func encodeResult(ret uint64, err error) uint64 {
	if err == nil {
		return ret
	}
	var en unix.Errno
	if !errors.As(err, &en) {
		en = unix.EIO
	}
	// Restart codes (ERESTARTSYS...) stay in rax until the signal check
	// after the syscall settles them (applyRestart).
	return uint64(-int64(en))
}

func (t *Task) traceSyscall(nr int, a Args, ret uint64, err error, d time.Duration) {
	name := abi.SyscallName(nr)
	args, result := "", ""
	if f := t.k.cfg.Syscalls.Format; f != nil {
		args, result = f(t, nr, a, ret, err)
	}
	if t.unsupported != "" {
		result += " (unsupported " + t.unsupported + ")"
	}
	t.k.cfg.Tracer.Emit(&trace.Event{Kind: trace.Syscall, PID: t.tg.pid, TID: t.tid, Nr: nr, Name: name,
		Args: args, Result: result, Dur: d})
}

// reportUnsupported counts a call of a syscall glassbox has no handler
// for; the trace's syscall event (ENOSYS) already says it.
func (k *Kernel) reportUnsupported(nr int) {
	k.ReportUnsupported("syscall " + abi.SyscallName(nr) + " (" + strconv.Itoa(nr) + ")")
}

// ReportUnsupported counts a partially supported call (an unknown ioctl,
// a prctl option) under its description, for --stats; with Verbose the
// first of each description is also written to the log.
func (k *Kernel) ReportUnsupported(what string) {
	c, seen := k.unsupported.Load(what)
	if !seen {
		c, seen = k.unsupported.LoadOrStore(what, new(atomic.Uint64))
	}
	c.(*atomic.Uint64).Add(1)
	if !seen {
		k.Logf("unsupported %s", what)
	}
}

// ReportUnsupported is Kernel.ReportUnsupported from a syscall handler:
// the call's trace event carries the description too.
func (t *Task) ReportUnsupported(what string) {
	t.k.ReportUnsupported(what)
	t.unsupported = what
}

// Unsupported returns how often each unsupported call or option was used.
func (k *Kernel) Unsupported() map[string]uint64 {
	m := map[string]uint64{}
	k.unsupported.Range(func(key, v any) bool {
		m[key.(string)] = v.(*atomic.Uint64).Load()
		return true
	})
	return m
}
