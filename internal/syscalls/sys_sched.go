package syscalls

import (
	"encoding/binary"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"glassbox/internal/abi"
	"glassbox/internal/kernel"
)

func init() {
	reg(unix.SYS_GETRUSAGE, sysGetrusage, "user time only (system time reported as 0)")
	reg(unix.SYS_TIMES, sysTimes)
	reg(unix.SYS_SCHED_GETAFFINITY, sysSchedGetaffinity)
	reg(unix.SYS_SCHED_SETAFFINITY, sysSchedSetaffinity, "recorded: guest threads run where the host schedules them")
	// Every guest thread is SCHED_OTHER, as is the host thread that runs
	// it: the host's answer for that thread is the guest's.
	// Linux: kernel/sched/syscalls.c (sched_rr_get_interval)
	reg(unix.SYS_SCHED_RR_GET_INTERVAL, func(t *kernel.Task, a kernel.Args) (uint64, error) {
		if a.Int(0) < 0 {
			return 0, unix.EINVAL
		}
		if _, err := findTask(t, a.Int(0)); err != nil {
			return 0, err
		}
		var ts unix.Timespec
		if _, _, errno := unix.RawSyscall(unix.SYS_SCHED_RR_GET_INTERVAL, 0, uintptr(unsafe.Pointer(&ts)), 0); errno != 0 {
			return 0, errno
		}
		return 0, putTimespec(t, a[1], ts)
	})
	reg(unix.SYS_GETCPU, func(t *kernel.Task, a kernel.Args) (uint64, error) {
		var b [4]byte
		for _, p := range []uint64{a[0], a[1]} {
			if p != 0 {
				if err := t.CopyOut(p, b[:]); err != nil {
					return 0, err
				}
			}
		}
		return 0, nil
	}, "always cpu 0, node 0")
	reg(unix.SYS_SCHED_GETSCHEDULER, func(t *kernel.Task, a kernel.Args) (uint64, error) {
		o, err := findTask(t, a.Int(0))
		if err != nil {
			return 0, err
		}
		policy, reset := o.ThreadGroup().SchedPolicy()
		if reset {
			policy |= unix.SCHED_RESET_ON_FORK
		}
		return uint64(policy), nil
	})
	// Linux: kernel/sched/syscalls.c (sched_getparam)
	reg(unix.SYS_SCHED_GETPARAM, func(t *kernel.Task, a kernel.Args) (uint64, error) {
		if a[1] == 0 || a.Int(0) < 0 {
			return 0, unix.EINVAL
		}
		if _, err := findTask(t, a.Int(0)); err != nil {
			return 0, err
		}
		return 0, t.CopyOut(a[1], make([]byte, 4))
	})
	reg(unix.SYS_SCHED_SETSCHEDULER, sysSchedSetscheduler)
	reg(unix.SYS_SCHED_SETPARAM, sysSchedSetparam)
	reg(unix.SYS_SCHED_GET_PRIORITY_MAX, func(t *kernel.Task, a kernel.Args) (uint64, error) {
		return schedPrio(a.Int(0), 99)
	})
	reg(unix.SYS_SCHED_GET_PRIORITY_MIN, func(t *kernel.Task, a kernel.Args) (uint64, error) {
		return schedPrio(a.Int(0), 1)
	})
	reg(unix.SYS_GETPRIORITY, sysGetpriority)
	reg(unix.SYS_SETPRIORITY, sysSetpriority, "recorded, not applied")
	reg(unix.SYS_RT_SIGTIMEDWAIT, sysRtSigtimedwait)
	reg(unix.SYS_RT_SIGQUEUEINFO, func(t *kernel.Task, a kernel.Args) (uint64, error) {
		return sigqueue(t, a.Int(0), 0, a.Int(1), a[2], false)
	})
	reg(unix.SYS_RT_TGSIGQUEUEINFO, func(t *kernel.Task, a kernel.Args) (uint64, error) {
		return sigqueue(t, a.Int(0), a.Int(1), a.Int(2), a[3], true)
	})
}

func schedPrio(policy int, rt uint64) (uint64, error) {
	switch policy {
	case unix.SCHED_FIFO, unix.SCHED_RR:
		return rt, nil
	case schedOther, unix.SCHED_BATCH, unix.SCHED_IDLE, 6 /* SCHED_DEADLINE */ :
		return 0, nil
	}
	return 0, unix.EINVAL
}

// sysSchedGetaffinity copies out the task's CPU set, as many bytes as the
// host's cpumask (or len, if smaller).
// Linux: kernel/sched/syscalls.c (sched_getaffinity)
func sysSchedGetaffinity(t *kernel.Task, a kernel.Args) (uint64, error) {
	size := uint64(uint32(a[1]))
	if size*8 < uint64(kernel.NrCPUIDs()) || size&7 != 0 {
		return 0, unix.EINVAL
	}
	o, err := findProcessByPID(t, a.Int(0))
	if err != nil {
		return 0, err
	}
	set := o.Affinity()
	n := min(size, uint64(kernel.CPUMaskSize()))
	b := make([]byte, n)
	for cpu := 0; cpu < len(b)*8; cpu++ {
		if set.IsSet(cpu) {
			b[cpu/8] |= 1 << (cpu % 8)
		}
	}
	return n, t.CopyOut(a[2], b)
}

// sysSchedSetaffinity records a CPU set: bytes past len are zero, bytes
// past the host's cpumask ignored; only the owner (or root) may change
// another task's. Linux: kernel/sched/syscalls.c (sched_setaffinity,
// get_user_cpu_mask)
func sysSchedSetaffinity(t *kernel.Task, a kernel.Args) (uint64, error) {
	b := make([]byte, min(uint64(uint32(a[1])), uint64(kernel.CPUMaskSize())))
	if err := t.CopyIn(a[2], b); err != nil {
		return 0, err
	}
	var set unix.CPUSet
	for cpu := 0; cpu < len(b)*8; cpu++ {
		if b[cpu/8]&(1<<(cpu%8)) != 0 {
			set.Set(cpu)
		}
	}
	o, err := findProcessByPID(t, a.Int(0))
	if err != nil {
		return 0, err
	}
	if c, oc := t.Creds(), o.Creds(); c.EUID != oc.EUID && c.EUID != oc.UID && !c.NSCapable(oc.UserNS, unix.CAP_SYS_NICE) {
		return 0, unix.EPERM
	}
	return 0, o.SetAffinity(set)
}

// findProcessByPID resolves a tid argument (0 = the caller) where
// Linux looks it up without a sign check: a negative one names nobody.
// Linux: kernel/sched/syscalls.c (find_process_by_pid)
func findProcessByPID(t *kernel.Task, tid int) (*kernel.Task, error) {
	if tid < 0 {
		return nil, unix.ESRCH
	}
	return findTask(t, tid)
}

// findTask resolves a tid argument (0 = the caller).
func findTask(t *kernel.Task, tid int) (*kernel.Task, error) {
	if tid == 0 {
		return t, nil
	}
	if tid < 0 {
		return nil, unix.EINVAL
	}
	o := t.Kernel().TaskByTID(t.KPID(tid))
	if o == nil {
		return nil, unix.ESRCH
	}
	return o, nil
}

func putTimeval(b []byte, d time.Duration) {
	binary.LittleEndian.PutUint64(b, uint64(d/time.Second))
	binary.LittleEndian.PutUint64(b[8:], uint64(d%time.Second/time.Microsecond))
}

// sysGetrusage fills struct rusage (144 bytes).
func sysGetrusage(t *kernel.Task, a kernel.Args) (uint64, error) {
	var u kernel.Usage
	switch a.Int(0) {
	case unix.RUSAGE_SELF:
		u = t.ThreadGroup().SelfUsage()
	case unix.RUSAGE_CHILDREN:
		u = t.ThreadGroup().ChildrenUsage()
	case unix.RUSAGE_THREAD:
		u = t.ThreadUsage()
	default:
		return 0, unix.EINVAL
	}
	return 0, t.CopyOut(a[1], encodeRusage(u))
}

// encodeRusage lays u out as struct rusage (144 bytes): ru_utime, ru_stime
// (0: glassbox cannot split user from system time), ru_maxrss in KiB,
// ru_minflt, ru_majflt. Linux: kernel/sys.c (getrusage)
func encodeRusage(u kernel.Usage) []byte {
	b := make([]byte, 144)
	putTimeval(b, u.CPU)
	binary.LittleEndian.PutUint64(b[32:], u.MaxRSS*abi.PageSize/1024)
	binary.LittleEndian.PutUint64(b[64:], u.MinFlt)
	binary.LittleEndian.PutUint64(b[72:], u.MajFlt)
	return b
}

// sysTimes fills struct tms and returns clock ticks since boot.
func sysTimes(t *kernel.Task, a kernel.Args) (uint64, error) {
	ticks := func(d time.Duration) uint64 { return uint64(d) * abi.ClockTicks / uint64(time.Second) }
	if a[0] != 0 {
		self, kids := t.ThreadGroup().SelfUsage(), t.ThreadGroup().ChildrenUsage()
		var b [32]byte
		binary.LittleEndian.PutUint64(b[0:], ticks(self.CPU))
		binary.LittleEndian.PutUint64(b[16:], ticks(kids.CPU))
		if err := t.CopyOut(a[0], b[:]); err != nil {
			return 0, err
		}
	}
	var ts unix.Timespec
	unix.ClockGettime(unix.CLOCK_BOOTTIME, &ts)
	return ticks(time.Duration(ts.Nano())), nil
}

func sysRtSigtimedwait(t *kernel.Task, a kernel.Args) (uint64, error) {
	if a[3] != 8 {
		return 0, unix.EINVAL
	}
	var b [8]byte
	if err := t.CopyIn(a[0], b[:]); err != nil {
		return 0, err
	}
	var deadline time.Time
	if a[2] != 0 {
		d, err := getTimespec(t, a[2])
		if err != nil {
			return 0, err
		}
		deadline = time.Now().Add(d)
		if d == 0 {
			deadline = time.Now()
		}
	}
	info, err := t.SigTimedWait(abi.SigSet(binary.LittleEndian.Uint64(b[:])), deadline)
	if err == unix.EINTR {
		return 0, abi.ERESTARTNOHAND
	}
	if err != nil {
		return 0, err
	}
	if a[1] != 0 {
		li := t.LocalSigInfo(info)
		if err := t.CopyOut(a[1], li.Encode()); err != nil {
			return 0, err
		}
	}
	return uint64(info.Signo), nil
}

// sigqueue sends a signal with caller-provided siginfo (rt_sigqueueinfo,
// and rt_tgsigqueueinfo: thread). The siginfo is read first;
// Linux refuses si_code >= 0 (kernel codes) and SI_TKILL unless the
// caller names its own thread; then the target is looked up (ESRCH)
// before the signal (EINVAL) and the permission (EPERM) are checked.
// Linux: kernel/signal.c (do_rt_sigqueueinfo, do_rt_tgsigqueueinfo)
func sigqueue(t *kernel.Task, pid, tid, sig int, infoAddr uint64, thread bool) (uint64, error) {
	b := make([]byte, 128)
	if err := t.CopyIn(infoAddr, b); err != nil {
		return 0, err
	}
	if thread && (pid <= 0 || tid <= 0) {
		return 0, unix.EINVAL
	}
	code := int32(binary.LittleEndian.Uint32(b[8:]))
	self := pid
	if thread {
		self = tid
	}
	if (code >= 0 || code == abi.SI_TKILL) && t.KPID(self) != t.TID() {
		return 0, unix.EPERM
	}
	pid, tid = t.KPID(pid), t.KPID(tid) // the kernel's numbers
	info := kernel.SigInfo{Signo: int32(sig), Code: code, PID: int32(binary.LittleEndian.Uint32(b[16:])),
		UID: binary.LittleEndian.Uint32(b[20:]), Value: binary.LittleEndian.Uint64(b[24:]), Sender: int32(t.PID())}
	var target *kernel.Task
	tg := t.Kernel().ProcessByPID(pid)
	if thread {
		if target = t.Kernel().TaskByTID(tid); target == nil || target.PID() != pid {
			return 0, unix.ESRCH
		}
		tg = target.ThreadGroup()
	}
	if tg == nil {
		return 0, unix.ESRCH
	}
	if sig < 0 || sig > abi.NSIG {
		return 0, unix.EINVAL
	}
	if !t.MaySignal(tg, sig) {
		return 0, unix.EPERM
	}
	if sig == 0 {
		return 0, nil
	}
	if target != nil {
		return 0, target.SendUserSignal(info)
	}
	return 0, tg.SendUserSignal(info)
}

const schedOther = 0 // SCHED_OTHER (x/sys calls it SCHED_NORMAL)
