package oci

import (
	"fmt"
	"sync"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"glassbox/internal/abi"
	"glassbox/internal/bpf"
)

// A container's seccomp profile (linux.seccomp) becomes one classic BPF
// filter that every process of the container runs under, as runc loads
// it with libseccomp: the architecture is checked, then each rule's
// system calls (and argument conditions) in the profile's order, the
// first match deciding; anything else gets the default action. glassbox'
// kernel enforces it in its dispatcher like a filter the guest installed
// itself. Linux: kernel/seccomp.c; runc: libcontainer/seccomp.

// Instruction shorthands (linux/bpf_common.h).
const (
	ldAbs = unix.BPF_LD | unix.BPF_W | unix.BPF_ABS
	ret   = unix.BPF_RET | unix.BPF_K
	jeq   = unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K
	jgt   = unix.BPF_JMP | unix.BPF_JGT | unix.BPF_K
	jge   = unix.BPF_JMP | unix.BPF_JGE | unix.BPF_K
	andK  = unix.BPF_ALU | unix.BPF_AND | unix.BPF_K
	// seccomp_data offsets
	offNr, offArch, offArgs = 0, 4, 16
)

// syscallNumbers maps names to numbers (made when a profile first needs it).
var syscallNumbers = sync.OnceValue(func() map[string]int {
	m := make(map[string]int, len(abi.SyscallNames))
	for nr, name := range abi.SyscallNames {
		if name != "" {
			m[name] = nr
		}
	}
	return m
})

// compileSeccomp turns a profile into filter instructions. Unknown
// system call names are skipped (logged), as libseccomp resolves only
// the names it knows for the architecture.
func compileSeccomp(s *specs.LinuxSeccomp, log *logger) ([]unix.SockFilter, error) {
	def, err := seccompAction(s.DefaultAction, s.DefaultErrnoRet)
	if err != nil {
		return nil, fmt.Errorf("defaultAction: %w", err)
	}
	if s.ListenerPath != "" {
		log.Warnf("linux.seccomp.listenerPath: no seccomp notifications in glassbox")
	}
	prog := []unix.SockFilter{
		{Code: ldAbs, K: offArch},
		{Code: jeq, K: unix.AUDIT_ARCH_X86_64, Jt: 1},
		{Code: ret, K: unix.SECCOMP_RET_KILL_PROCESS},
	}
	for i, r := range s.Syscalls {
		act, err := seccompAction(r.Action, r.ErrnoRet)
		if err != nil {
			return nil, fmt.Errorf("syscalls[%d]: %w", i, err)
		}
		if act == def && len(r.Args) == 0 {
			continue // the default answers it anyway
		}
		for _, name := range r.Names {
			nr, ok := syscallNumbers()[name]
			if !ok {
				log.Debugf("linux.seccomp: system call %q unknown on x86_64, skipped", name)
				continue
			}
			block, err := ruleBlock(nr, r.Args, act)
			if err != nil {
				return nil, fmt.Errorf("syscalls[%d] %s: %w", i, name, err)
			}
			prog = append(prog, block...)
		}
	}
	prog = append(prog, unix.SockFilter{Code: ret, K: def})
	if len(prog) > bpf.MaxInsns {
		return nil, fmt.Errorf("the profile needs %d BPF instructions (at most %d)", len(prog), bpf.MaxInsns)
	}
	return prog, nil
}

// ruleBlock is one system call's rule: load the number, compare, check
// each argument condition, answer act; every failed test jumps past the
// block's end, to the next rule.
func ruleBlock(nr int, args []specs.LinuxSeccompArg, act uint32) ([]unix.SockFilter, error) {
	b := []unix.SockFilter{{Code: ldAbs, K: offNr}, {Code: jeq, K: uint32(nr)}}
	miss := []int{1} // instructions whose false branch leaves the block
	for _, a := range args {
		if a.Index > 5 {
			return nil, fmt.Errorf("argument index %d", a.Index)
		}
		hi, lo := uint32(offArgs+8*a.Index+4), uint32(offArgs+8*a.Index)
		vh, vl := uint32(a.Value>>32), uint32(a.Value)
		switch a.Op {
		case specs.OpEqualTo, specs.OpNotEqual, specs.OpMaskedEqual:
			mh, ml := ^uint32(0), ^uint32(0)
			if a.Op == specs.OpMaskedEqual {
				mh, ml = vh, vl
				vh, vl = uint32(a.ValueTwo>>32), uint32(a.ValueTwo)
			}
			// (arg & mask) == value, word by word.
			b = append(b, unix.SockFilter{Code: ldAbs, K: hi}, unix.SockFilter{Code: andK, K: mh})
			if a.Op == specs.OpNotEqual {
				// Not equal: a different high word already matches.
				b = append(b, unix.SockFilter{Code: jeq, K: vh, Jf: 4},
					unix.SockFilter{Code: ldAbs, K: lo}, unix.SockFilter{Code: andK, K: ml},
					unix.SockFilter{Code: jeq, K: vl, Jf: 1})
				b = append(b, unix.SockFilter{Code: unix.BPF_JMP | unix.BPF_JA})
				miss = append(miss, len(b)-1)
				continue
			}
			b = append(b, unix.SockFilter{Code: jeq, K: vh})
			miss = append(miss, len(b)-1)
			b = append(b, unix.SockFilter{Code: ldAbs, K: lo}, unix.SockFilter{Code: andK, K: ml},
				unix.SockFilter{Code: jeq, K: vl})
			miss = append(miss, len(b)-1)
		case specs.OpGreaterThan, specs.OpGreaterEqual, specs.OpLessThan, specs.OpLessEqual:
			// Unsigned 64-bit order, tested as "arg > v" (GT, LE) or
			// "arg >= v" (GE, LT): the high words decide unless equal,
			// then the low words. LT and LE match when that test fails.
			lowOp := uint16(jge)
			if a.Op == specs.OpGreaterThan || a.Op == specs.OpLessEqual {
				lowOp = jgt
			}
			//   0 ld hi; 1 jgt vh (true); 2 jeq vh (else false);
			//   3 ld lo; 4 low test; 5 ja miss; 6 (next)
			// GT/GE: true goes to 6, false to 5; LT/LE the other way.
			t1, f2, t4, f4 := uint8(4), uint8(2), uint8(1), uint8(0)
			if a.Op == specs.OpLessThan || a.Op == specs.OpLessEqual {
				t1, f2, t4, f4 = 3, 3, 0, 1
			}
			b = append(b, unix.SockFilter{Code: ldAbs, K: hi},
				unix.SockFilter{Code: jgt, K: vh, Jt: t1},
				unix.SockFilter{Code: jeq, K: vh, Jf: f2},
				unix.SockFilter{Code: ldAbs, K: lo},
				unix.SockFilter{Code: lowOp, K: vl, Jt: t4, Jf: f4},
				unix.SockFilter{Code: unix.BPF_JMP | unix.BPF_JA})
			miss = append(miss, len(b)-1)
		default:
			return nil, fmt.Errorf("argument operator %q", a.Op)
		}
	}
	b = append(b, unix.SockFilter{Code: ret, K: act})
	end := len(b)
	for _, i := range miss {
		off := end - i - 1
		if off > 255 {
			return nil, fmt.Errorf("too many argument conditions")
		}
		if b[i].Code == unix.BPF_JMP|unix.BPF_JA {
			b[i].K = uint32(off)
		} else {
			b[i].Jf = uint8(off)
		}
	}
	return b, nil
}

// seccompAction maps a profile action onto SECCOMP_RET_*; ERRNO and TRACE
// carry errnoRet (EPERM if unset), as runc sets them.
func seccompAction(a specs.LinuxSeccompAction, errnoRet *uint) (uint32, error) {
	data := uint32(unix.EPERM)
	if errnoRet != nil {
		data = uint32(*errnoRet) & unix.SECCOMP_RET_DATA
	}
	switch a {
	case specs.ActKill, specs.ActKillThread:
		return unix.SECCOMP_RET_KILL_THREAD, nil
	case specs.ActKillProcess:
		return unix.SECCOMP_RET_KILL_PROCESS, nil
	case specs.ActTrap:
		return unix.SECCOMP_RET_TRAP, nil
	case specs.ActErrno:
		return unix.SECCOMP_RET_ERRNO | data, nil
	case specs.ActTrace:
		return unix.SECCOMP_RET_TRACE | data, nil
	case specs.ActAllow:
		return unix.SECCOMP_RET_ALLOW, nil
	case specs.ActLog:
		return unix.SECCOMP_RET_LOG, nil
	}
	return 0, fmt.Errorf("action %q not supported", a)
}
