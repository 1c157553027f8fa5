package syscalls

import (
	"golang.org/x/sys/unix"

	"glassbox/internal/kernel"
)

// prctl options beyond sysPrctl's: the ones a process reads back or that
// are accepted without effect here, with Linux's argument checks. ok is
// false for an option it does not know. Linux: kernel/sys.c (prctl)
func prctlMore(t *kernel.Task, a kernel.Args) (r uint64, err error, ok bool) {
	const (
		prSetMDWE          = 65
		prGetMDWE          = 66
		prGetMemoryMerge   = 68
		prGetAuxv          = 0x41555856
		prSetMMMap         = 14
		prSetMMMapSize     = 15
		prSetMMAuxv        = 12
		prctlMMMapSize     = 104 // sizeof(struct prctl_mm_map)
		prSpecL1DFlush     = 2
		prTimingStatistic  = 0
		prTSCEnable        = 1
		prMCEKillClear     = 0
		prMCEKillSet       = 1
		prMCEKillLate      = 0
		prMCEKillEarly     = 1
		prMCEKillDefault   = 2
		prIOFlusherEnabled = 1
	)
	extra := func(from int) bool {
		for i := from; i < 5; i++ {
			if a[i] != 0 {
				return true
			}
		}
		return false
	}
	switch a.Int(0) {
	case unix.PR_GET_TIMING:
		return prTimingStatistic, nil, true
	case unix.PR_SET_TIMING:
		if a[1] != prTimingStatistic {
			return 0, unix.EINVAL, true
		}
		return 0, nil, true
	case unix.PR_GET_TSC:
		// rdtsc is never trapped here. Linux: arch/x86/kernel/process.c (get_tsc_mode)
		return 0, putU32s(t, []uint64{a[1]}, []uint32{prTSCEnable}), true
	case unix.PR_GET_TID_ADDRESS:
		return 0, putU64(t, a[1], t.ClearChildTID()), true
	case unix.PR_TASK_PERF_EVENTS_DISABLE, unix.PR_TASK_PERF_EVENTS_ENABLE:
		return 0, nil, true // no perf events to switch
	case unix.PR_MCE_KILL:
		if extra(3) {
			return 0, unix.EINVAL, true
		}
		switch a[1] {
		case prMCEKillClear:
			if a[2] != 0 {
				return 0, unix.EINVAL, true
			}
			t.ThreadGroup().SetMCEKill(false, false)
		case prMCEKillSet:
			switch a[2] {
			case prMCEKillEarly:
				t.ThreadGroup().SetMCEKill(true, true)
			case prMCEKillLate:
				t.ThreadGroup().SetMCEKill(true, false)
			case prMCEKillDefault:
				t.ThreadGroup().SetMCEKill(false, false)
			default:
				return 0, unix.EINVAL, true
			}
		default:
			return 0, unix.EINVAL, true
		}
		return 0, nil, true
	case unix.PR_MCE_KILL_GET:
		if extra(1) {
			return 0, unix.EINVAL, true
		}
		return t.ThreadGroup().MCEKill(), nil, true
	case unix.PR_SET_MM:
		// Linux: kernel/sys.c (prctl_set_mm)
		opt := a[1]
		if a[4] != 0 || a[3] != 0 && opt != prSetMMAuxv && opt != prSetMMMap && opt != prSetMMMapSize {
			return 0, unix.EINVAL, true
		}
		if opt == prSetMMMapSize {
			return 0, putU32s(t, []uint64{a[2]}, []uint32{prctlMMMapSize}), true
		}
		if opt != prSetMMMap && !t.CapableInit(unix.CAP_SYS_RESOURCE) {
			return 0, unix.EPERM, true
		}
		t.ReportUnsupported("prctl PR_SET_MM")
		return 0, unix.EINVAL, true
	case unix.PR_SET_IO_FLUSHER, unix.PR_GET_IO_FLUSHER:
		if !t.CapableInit(unix.CAP_SYS_RESOURCE) {
			return 0, unix.EPERM, true
		}
		if a.Int(0) == unix.PR_GET_IO_FLUSHER {
			if extra(1) {
				return 0, unix.EINVAL, true
			}
			return u64(t.ThreadGroup().IOFlusher()), nil, true
		}
		if extra(2) || a[1] > prIOFlusherEnabled {
			return 0, unix.EINVAL, true
		}
		t.ThreadGroup().SetIOFlusher(a[1] == prIOFlusherEnabled)
		return 0, nil, true
	case prSetMDWE:
		// Linux: kernel/sys.c (prctl_set_mdwe)
		const refuseExecGain, noInherit = 1, 2
		if extra(2) || a[1]&^(refuseExecGain|noInherit) != 0 || a[1]&(refuseExecGain|noInherit) == noInherit {
			return 0, unix.EINVAL, true
		}
		if a[1] == 0 {
			return 0, nil, true
		}
		t.ReportUnsupported("prctl PR_SET_MDWE")
		return 0, unix.EINVAL, true
	case prGetMDWE:
		if extra(1) {
			return 0, unix.EINVAL, true
		}
		return 0, nil, true // memory-deny-write-execute is never on
	case prGetMemoryMerge:
		if extra(1) {
			return 0, unix.EINVAL, true
		}
		return 0, nil, true // KSM never merges guest memory
	case prGetAuxv:
		if extra(3) {
			return 0, unix.EINVAL, true
		}
		b := t.ThreadGroup().SavedAuxv()
		if n := min(uint64(len(b)), a[2]); n > 0 {
			if err := t.CopyOut(a[1], b[:n]); err != nil {
				return 0, err, true
			}
		}
		return uint64(len(b)), nil, true
	case unix.PR_GET_SPECULATION_CTRL, unix.PR_SET_SPECULATION_CTRL:
		// Linux: arch/x86/kernel/cpu/bugs.c (arch_prctl_spec_ctrl_get)
		get := a.Int(0) == unix.PR_GET_SPECULATION_CTRL
		if get && extra(2) || !get && extra(3) {
			return 0, unix.EINVAL, true
		}
		if a[1] > prSpecL1DFlush {
			return 0, unix.ENODEV, true
		}
		if get {
			// The guest's threads run on the host with the host's
			// mitigations: its answer for glassbox' own thread.
			r, _, errno := unix.RawSyscall6(unix.SYS_PRCTL, unix.PR_GET_SPECULATION_CTRL, uintptr(a[1]), 0, 0, 0, 0)
			if errno != 0 {
				return 0, errno, true
			}
			return uint64(r), nil, true
		}
	}
	return 0, nil, false
}
