package syscalls

import (
	"encoding/binary"
	"runtime"
	"time"

	"golang.org/x/sys/unix"

	"glassbox/internal/abi"
	"glassbox/internal/kernel"
	"glassbox/internal/vfs"
)

func init() {
	reg(unix.SYS_EXIT, func(t *kernel.Task, a kernel.Args) (uint64, error) {
		t.Exit(a.Int(0))
		return 0, kernel.ErrNoReturn
	})
	reg(unix.SYS_EXIT_GROUP, func(t *kernel.Task, a kernel.Args) (uint64, error) {
		t.ExitGroup(a.Int(0))
		return 0, kernel.ErrNoReturn
	})
	reg(unix.SYS_GETPID, func(t *kernel.Task, a kernel.Args) (uint64, error) { return uint64(t.VPID(t.PID())), nil })
	reg(unix.SYS_GETTID, func(t *kernel.Task, a kernel.Args) (uint64, error) { return uint64(t.VPID(t.TID())), nil })
	reg(unix.SYS_GETPPID, func(t *kernel.Task, a kernel.Args) (uint64, error) {
		return uint64(t.PPIDSeen()), nil
	})
	reg(unix.SYS_GETUID, func(t *kernel.Task, a kernel.Args) (uint64, error) { return uint64(t.ShowUID(t.Creds().UID)), nil })
	reg(unix.SYS_GETEUID, func(t *kernel.Task, a kernel.Args) (uint64, error) { return uint64(t.ShowUID(t.Creds().EUID)), nil })
	reg(unix.SYS_GETGID, func(t *kernel.Task, a kernel.Args) (uint64, error) { return uint64(t.ShowGID(t.Creds().GID)), nil })
	reg(unix.SYS_GETEGID, func(t *kernel.Task, a kernel.Args) (uint64, error) { return uint64(t.ShowGID(t.Creds().EGID)), nil })
	reg(unix.SYS_GETRESUID, func(t *kernel.Task, a kernel.Args) (uint64, error) {
		c := t.Creds()
		return 0, putU32s(t, []uint64{a[0], a[1], a[2]}, []uint32{t.ShowUID(c.UID), t.ShowUID(c.EUID), t.ShowUID(c.SUID)})
	})
	reg(unix.SYS_GETRESGID, func(t *kernel.Task, a kernel.Args) (uint64, error) {
		c := t.Creds()
		return 0, putU32s(t, []uint64{a[0], a[1], a[2]}, []uint32{t.ShowGID(c.GID), t.ShowGID(c.EGID), t.ShowGID(c.SGID)})
	})
	reg(unix.SYS_GETGROUPS, func(t *kernel.Task, a kernel.Args) (uint64, error) {
		g := append([]uint32(nil), t.Creds().Groups...)
		for i := range g {
			g[i] = t.ShowGID(g[i])
		}
		if a.Int(0) < 0 {
			return 0, unix.EINVAL
		}
		if a[0] == 0 {
			return uint64(len(g)), nil
		}
		if a.Int(0) < len(g) {
			return 0, unix.EINVAL
		}
		b := make([]byte, 4*len(g))
		for i, x := range g {
			binary.LittleEndian.PutUint32(b[4*i:], x)
		}
		return uint64(len(g)), t.CopyOut(a[1], b)
	})
	reg(unix.SYS_SET_TID_ADDRESS, func(t *kernel.Task, a kernel.Args) (uint64, error) {
		t.SetClearChildTID(a[0])
		return uint64(t.VPID(t.TID())), nil // task_pid_vnr
	})
	reg(unix.SYS_SET_ROBUST_LIST, func(t *kernel.Task, a kernel.Args) (uint64, error) {
		if a[1] != 24 {
			return 0, unix.EINVAL
		}
		t.SetRobustList(a[0], a[1])
		return 0, nil
	}, "recorded; robust-futex cleanup comes with threads")
	reg(unix.SYS_GET_ROBUST_LIST, func(t *kernel.Task, a kernel.Args) (uint64, error) {
		h, l, err := t.RobustListOf(t.KPID(a.Int(0)))
		if err != nil {
			return 0, err
		}
		if err := putU64(t, a[1], h); err != nil {
			return 0, err
		}
		return 0, putU64(t, a[2], l)
	})
	reg(unix.SYS_RSEQ, func(t *kernel.Task, a kernel.Args) (uint64, error) { return 0, unix.ENOSYS },
		"ENOSYS: glibc then runs without restartable sequences")
	reg(unix.SYS_ARCH_PRCTL, sysArchPrctl)
	reg(unix.SYS_UNAME, sysUname)
	reg(unix.SYS_SETHOSTNAME, func(t *kernel.Task, a kernel.Args) (uint64, error) {
		return setUTSName(t, a[0], a.Int(1), false)
	}, "the sandbox's own name")
	reg(unix.SYS_SETDOMAINNAME, func(t *kernel.Task, a kernel.Args) (uint64, error) {
		return setUTSName(t, a[0], a.Int(1), true)
	}, "the sandbox's own name")
	reg(unix.SYS_PRLIMIT64, func(t *kernel.Task, a kernel.Args) (uint64, error) {
		return rlimit(t, a.Int(0), a[1], a[2], a[3])
	})
	reg(unix.SYS_GETRLIMIT, func(t *kernel.Task, a kernel.Args) (uint64, error) {
		return rlimit(t, 0, a[0], 0, a[1])
	})
	reg(unix.SYS_SETRLIMIT, func(t *kernel.Task, a kernel.Args) (uint64, error) {
		return rlimit(t, 0, a[0], a[1], 0)
	})
	reg(unix.SYS_SYSINFO, sysSysinfo)
	reg(unix.SYS_GETRANDOM, sysGetrandom)
	reg(unix.SYS_EXECVE, func(t *kernel.Task, a kernel.Args) (uint64, error) {
		return execve(t, kernel.AtFDCWD, a[0], a[1], a[2], 0)
	})
	reg(unix.SYS_EXECVEAT, func(t *kernel.Task, a kernel.Args) (uint64, error) {
		return execve(t, a.Int(0), a[1], a[2], a[3], a.Int(4))
	})
	reg(unix.SYS_GETPGRP, func(t *kernel.Task, a kernel.Args) (uint64, error) {
		return uint64(t.VPID(t.ThreadGroup().Pgid())), nil
	})
	reg(unix.SYS_GETPGID, func(t *kernel.Task, a kernel.Args) (uint64, error) {
		tg, err := findTG(t, a.Int(0))
		if err != nil {
			return 0, err
		}
		return uint64(t.VPID(tg.Pgid())), nil
	})
	reg(unix.SYS_GETSID, func(t *kernel.Task, a kernel.Args) (uint64, error) {
		tg, err := findTG(t, a.Int(0))
		if err != nil {
			return 0, err
		}
		return uint64(t.VPID(tg.Sid())), nil
	})
	reg(unix.SYS_SETSID, func(t *kernel.Task, a kernel.Args) (uint64, error) {
		sid, err := t.Setsid()
		return uint64(t.VPID(sid)), err
	})
	reg(unix.SYS_SETPGID, func(t *kernel.Task, a kernel.Args) (uint64, error) {
		return 0, t.Setpgid(t.KPID(a.Int(0)), t.KPID(a.Int(1)))
	})
	reg(unix.SYS_SCHED_YIELD, func(t *kernel.Task, a kernel.Args) (uint64, error) {
		runtime.Gosched()
		return 0, nil
	})
	reg(unix.SYS_PRCTL, sysPrctl)
	// Linux: kernel/exec_domain.c (personality)
	reg(unix.SYS_PERSONALITY, func(t *kernel.Task, a kernel.Args) (uint64, error) {
		if uint32(a[0]) == 0xffffffff {
			return uint64(t.ThreadGroup().Personality()), nil
		}
		return uint64(t.ThreadGroup().SetPersonality(uint32(a[0]))), nil
	}, "recorded and inherited; ADDR_NO_RANDOMIZE and READ_IMPLIES_EXEC do not change the layout or protections")
}

func putU32s(t *kernel.Task, addrs []uint64, vals []uint32) error {
	for i, a := range addrs {
		var b [4]byte
		binary.LittleEndian.PutUint32(b[:], vals[i])
		if err := t.CopyOut(a, b[:]); err != nil {
			return err
		}
	}
	return nil
}

func putU64(t *kernel.Task, addr, v uint64) error {
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], v)
	return t.CopyOut(addr, b[:])
}

// findTG resolves a pid argument (0 = the caller's process), a zombie
// too: it keeps its pid until it is reaped.
func findTG(t *kernel.Task, pid int) (*kernel.ThreadGroup, error) {
	if pid == 0 {
		return t.ThreadGroup(), nil
	}
	if pid < 0 {
		return nil, unix.ESRCH
	}
	tg := t.Kernel().ProcessByPID(t.KPID(pid))
	if tg == nil {
		return nil, unix.ESRCH
	}
	return tg, nil
}

func sysArchPrctl(t *kernel.Task, a kernel.Args) (uint64, error) {
	r := t.Regs()
	lim := t.MM().Layout().TaskSize
	switch a.Int(0) {
	case 0x1002: // ARCH_SET_FS
		if a[1] >= lim {
			return 0, unix.EPERM
		}
		r.Fs_base = a[1]
		return 0, nil
	case 0x1003: // ARCH_GET_FS
		return 0, putU64(t, a[1], r.Fs_base)
	case 0x1001: // ARCH_SET_GS
		if a[1] >= lim {
			return 0, unix.EPERM
		}
		r.Gs_base = a[1]
		return 0, nil
	case 0x1004: // ARCH_GET_GS
		return 0, putU64(t, a[1], r.Gs_base)
	case 0x1011: // ARCH_GET_CPUID
		return 1, nil
	case 0x1012: // ARCH_SET_CPUID: no CPUID faulting here
		return 0, unix.ENODEV
	}
	return 0, unix.EINVAL
}

func sysUname(t *kernel.Task, a kernel.Args) (uint64, error) {
	var u unix.Utsname
	unix.Uname(&u)
	cstr := func(b []byte) string {
		for i, c := range b {
			if c == 0 {
				return string(b[:i])
			}
		}
		return string(b)
	}
	return 0, t.CopyOut(a[0], abi.Utsname("Linux", t.Hostname(), cstr(u.Release[:]),
		cstr(u.Version[:]), "x86_64", t.Domainname()))
}

// setUTSName is sethostname and setdomainname: the sandbox's own names.
// Linux: kernel/sys.c (sethostname)
func setUTSName(t *kernel.Task, addr uint64, n int, domain bool) (uint64, error) {
	if !t.UTSCapable() {
		return 0, unix.EPERM
	}
	if n < 0 || n > 64 {
		return 0, unix.EINVAL
	}
	b := make([]byte, n)
	if err := t.CopyIn(addr, b); err != nil {
		return 0, err
	}
	t.SetUTSName(string(b), domain)
	return 0, nil
}

// rlimit reads and changes limit res of process pid (0: the caller's),
// checking in Linux's order: the new limit's memory, the process, the
// resource number. Linux: kernel/sys.c (prlimit64, do_prlimit)
func rlimit(t *kernel.Task, pid int, resArg, newAddr, oldAddr uint64) (uint64, error) {
	var nl kernel.Rlimit
	if newAddr != 0 {
		var b [16]byte
		if err := t.CopyIn(newAddr, b[:]); err != nil {
			return 0, err
		}
		nl = kernel.Rlimit{Cur: binary.LittleEndian.Uint64(b[:]), Max: binary.LittleEndian.Uint64(b[8:])}
	}
	tg, err := t.RlimitTarget(pid)
	if err != nil {
		return 0, err
	}
	res := int(uint32(resArg))
	if uint32(resArg) >= 16 {
		return 0, unix.EINVAL
	}
	old := tg.Rlimit(res)
	if newAddr != 0 {
		if err := tg.SetRlimit(t, res, nl); err != nil {
			return 0, err
		}
	}
	if oldAddr != 0 {
		var b [16]byte
		binary.LittleEndian.PutUint64(b[:], old.Cur)
		binary.LittleEndian.PutUint64(b[8:], old.Max)
		return 0, t.CopyOut(oldAddr, b[:])
	}
	return 0, nil
}

func sysSysinfo(t *kernel.Task, a kernel.Args) (uint64, error) {
	var si unix.Sysinfo_t
	unix.Sysinfo(&si)
	b := make([]byte, 112)
	le := binary.LittleEndian
	// The sandbox's uptime, rounded up. Linux: kernel/sys.c (do_sysinfo)
	up := t.Kernel().Uptime()
	le.PutUint64(b[0:], uint64((up+time.Second-1)/time.Second))
	for i := 0; i < 3; i++ {
		le.PutUint64(b[8+8*i:], si.Loads[i])
	}
	le.PutUint64(b[32:], si.Totalram)
	le.PutUint64(b[40:], si.Freeram)
	le.PutUint64(b[48:], si.Sharedram)
	le.PutUint64(b[56:], si.Bufferram)
	le.PutUint64(b[64:], si.Totalswap)
	le.PutUint64(b[72:], si.Freeswap)
	le.PutUint16(b[80:], uint16(t.Kernel().ProcessCount()))
	le.PutUint32(b[104:], si.Unit)
	return 0, t.CopyOut(a[0], b)
}

func sysPrctl(t *kernel.Task, a kernel.Args) (uint64, error) {
	switch a.Int(0) {
	case unix.PR_SET_NAME:
		s, err := t.ReadString(a[1], 16)
		if err == unix.ENAMETOOLONG {
			var b [15]byte
			if err := t.CopyIn(a[1], b[:]); err != nil {
				return 0, err
			}
			s, err = string(b[:]), nil
		}
		if err != nil {
			return 0, err
		}
		t.ThreadGroup().SetComm(s)
		return 0, nil
	case unix.PR_GET_NAME:
		b := make([]byte, 16)
		copy(b, t.ThreadGroup().Comm())
		return 0, t.CopyOut(a[1], b)
	case unix.PR_GET_DUMPABLE:
		return u64(t.ThreadGroup().Dumpable()), nil
	case unix.PR_SET_NO_NEW_PRIVS:
		if a[1] != 1 || a[2] != 0 || a[3] != 0 || a[4] != 0 {
			return 0, unix.EINVAL
		}
		t.ThreadGroup().SetNoNewPrivs()
		return 0, nil
	case unix.PR_GET_NO_NEW_PRIVS:
		if a[1] != 0 || a[2] != 0 || a[3] != 0 || a[4] != 0 {
			return 0, unix.EINVAL
		}
		return u64(t.ThreadGroup().NoNewPrivs()), nil
	case unix.PR_SET_DUMPABLE:
		if a[1] > 1 {
			return 0, unix.EINVAL
		}
		t.ThreadGroup().SetDumpable(a[1] == 1)
		return 0, nil
	case unix.PR_SET_PDEATHSIG:
		if a[1] > abi.NSIG {
			return 0, unix.EINVAL
		}
		t.ThreadGroup().SetPdeathSig(int(a[1]))
		return 0, nil
	case unix.PR_GET_PDEATHSIG:
		return 0, putU32s(t, []uint64{a[1]}, []uint32{uint32(t.ThreadGroup().PdeathSig())})
	case unix.PR_SET_CHILD_SUBREAPER:
		t.ThreadGroup().SetSubreaper(a[1] != 0)
		return 0, nil
	case unix.PR_GET_CHILD_SUBREAPER:
		return 0, putU32s(t, []uint64{a[1]}, []uint32{uint32(u64(t.ThreadGroup().Subreaper()))})
	case unix.PR_SET_TIMERSLACK:
		t.ThreadGroup().SetTimerSlack(a[1])
		return 0, nil
	case unix.PR_GET_TIMERSLACK:
		return t.ThreadGroup().TimerSlack(), nil
	case unix.PR_SET_THP_DISABLE:
		if a[2] != 0 || a[3] != 0 || a[4] != 0 {
			return 0, unix.EINVAL
		}
		t.ThreadGroup().SetTHPDisable(a[1] != 0)
		return 0, nil
	case unix.PR_GET_THP_DISABLE:
		if a[1] != 0 || a[2] != 0 || a[3] != 0 || a[4] != 0 {
			return 0, unix.EINVAL
		}
		return u64(t.ThreadGroup().THPDisable()), nil
	case unix.PR_GET_SECCOMP:
		return uint64(t.SeccompMode()), nil
	case unix.PR_SET_SECCOMP:
		return prctlSeccomp(t, a)
	case unix.PR_GET_SECUREBITS, unix.PR_SET_SECUREBITS, unix.PR_GET_KEEPCAPS, unix.PR_SET_KEEPCAPS,
		unix.PR_CAP_AMBIENT, unix.PR_CAPBSET_READ, unix.PR_CAPBSET_DROP:
		r, _, err := t.CapPrctl(a.Int(0), a[1], a[2], a[3], a[4])
		return r, err
	case unix.PR_SET_VMA:
		return 0, unix.EINVAL
	}
	if r, err, ok := prctlMore(t, a); ok {
		return r, err
	}
	t.ReportUnsupported("prctl option " + itoa(a.Int(0)))
	return 0, unix.EINVAL
}

// execve reads argv/envp and replaces the process image.
func execve(t *kernel.Task, dirfd int, pathAddr, argvAddr, envpAddr uint64, flags int) (uint64, error) {
	path, err := t.ReadString(pathAddr, vfs.PathMax)
	if err != nil {
		return 0, err
	}
	if path == "" && flags&unix.AT_EMPTY_PATH == 0 {
		return 0, unix.ENOENT // Linux: fs/namei.c (getname_flags), before the flags
	}
	if flags&^(unix.AT_EMPTY_PATH|unix.AT_SYMLINK_NOFOLLOW) != 0 {
		return 0, unix.EINVAL
	}
	args := func() ([]string, []string, error) {
		budget := int(t.ThreadGroup().Rlimit(unix.RLIMIT_STACK).Cur / 4)
		if budget < 32*abi.PageSize || budget > 6<<20 {
			budget = 6 << 20
		}
		argv, err := readStrings(t, argvAddr, &budget)
		if err != nil {
			return nil, nil, err
		}
		envv, err := readStrings(t, envpAddr, &budget)
		if err != nil {
			return nil, nil, err
		}
		if len(argv) == 0 {
			// An empty argv gets "" as argv[0], so argc is never 0.
			// Linux: fs/exec.c (do_execveat_common)
			argv = []string{""}
		}
		return argv, envv, nil
	}
	if err := t.Execve(dirfd, path, args, flags); err != nil {
		return 0, err
	}
	return 0, nil
}

// readStrings reads a NULL-terminated array of string pointers.
func readStrings(t *kernel.Task, addr uint64, budget *int) ([]string, error) {
	var out []string
	if addr == 0 {
		return nil, nil
	}
	for i := 0; ; i++ {
		var b [8]byte
		if err := t.CopyIn(addr+uint64(8*i), b[:]); err != nil {
			return nil, err
		}
		p := binary.LittleEndian.Uint64(b[:])
		if p == 0 {
			return out, nil
		}
		s, err := t.ReadString(p, 128<<10)
		if err == unix.ENAMETOOLONG {
			return nil, unix.E2BIG
		}
		if err != nil {
			return nil, err
		}
		*budget -= len(s) + 1 + 8
		if *budget < 0 {
			return nil, unix.E2BIG
		}
		out = append(out, s)
	}
}

// sysGetrandom fills the buffer a page at a time, as Linux does: up to the
// first page it cannot write (then the bytes written, or EFAULT if none),
// and no further once a signal is pending (a huge request returns short
// rather than keep the thread, and glassbox, busy for seconds).
// Linux: drivers/char/random.c (getrandom, get_random_bytes_user)
func sysGetrandom(t *kernel.Task, a kernel.Args) (uint64, error) {
	flags := a[2]
	if flags&^uint64(unix.GRND_NONBLOCK|unix.GRND_RANDOM|unix.GRND_INSECURE) != 0 ||
		flags&(unix.GRND_INSECURE|unix.GRND_RANDOM) == unix.GRND_INSECURE|unix.GRND_RANDOM {
		return 0, unix.EINVAL
	}
	addr, n := a[0], min(a[1], maxRW)
	var page [abi.PageSize]byte
	var done uint64
	for done < n {
		l := min(n-done, abi.PageSize-(addr+done)&abi.PageMask)
		kernel.HostRandom(page[:l])
		if err := t.CopyOut(addr+done, page[:l]); err != nil {
			if done == 0 {
				return 0, unix.EFAULT
			}
			break
		}
		done += l
		if done < n && t.Interrupted() {
			break
		}
	}
	return done, nil
}
