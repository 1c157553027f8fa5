package kernel

import (
	"encoding/binary"
	"unsafe"

	"golang.org/x/sys/unix"

	"glassbox/internal/abi"
	"glassbox/internal/platform"
)

// The ptrace(2) requests. The tracer copies its own memory in and out on
// its goroutine; whatever touches the tracee's registers or platform
// thread runs on the tracee's goroutine (onStopped).
// Linux: kernel/ptrace.c (ptrace_request), arch/x86/kernel/ptrace.c

// x86-64 requests golang.org/x/sys/unix spells only for other arches.
const (
	ptraceGetFPRegs       = 14
	ptraceSetFPRegs       = 15
	ptraceArchPrctl       = 30
	ptraceSysemu          = 31
	ptraceSysemuSingleStp = 32
)

// arch_prctl codes. Linux: arch/x86/include/uapi/asm/prctl.h
const (
	archSetGS = 0x1001
	archSetFS = 0x1002
	archGetFS = 0x1003
	archGetGS = 0x1004
)

// userSize is sizeof(struct user) on x86-64; offDebugReg is where
// u_debugreg starts in it.
const (
	userSize    = 928 // with error_code and fault_address after u_debugreg
	offDebugReg = 848
	regsSize    = 216
	fxsaveSize  = 512
	// swReserved is where the FXSAVE area's software-reserved bytes
	// start; a signal frame's begin with fpXstateMagic1.
	swReserved = 464
)

// regWords views a register file as struct user_regs_struct's 27 words
// (platform.Regs has exactly that layout).
func regWords(r *platform.Regs) *[27]uint64 { return (*[27]uint64)(unsafe.Pointer(r)) }

var _ [regsSize]byte = [unsafe.Sizeof(platform.Regs{})]byte{}

// Word indexes of user_regs_struct.
const (
	regEflags = 18
	regCS     = 17
	regSS     = 20
	regFSBase = 21
	regGSBase = 22
	regDS     = 23
	regGS     = 26
)

// taskSizeMax bounds fs_base and gs_base. Linux: TASK_SIZE_MAX
const taskSizeMax = 1<<47 - abi.PageSize

// eflagsUser are the flags a tracer may change. Linux: FLAG_MASK
const eflagsUser = 0x1 | 0x4 | 0x10 | 0x40 | 0x80 | 0x100 | 0x400 | 0x800 | 0x4000 | 0x10000 | 0x40000

// putReg stores word i of user_regs_struct as Linux's putreg does.
// Linux: arch/x86/kernel/ptrace.c (putreg, set_segment_reg)
func putReg(r *platform.Regs, i int, v uint64) error {
	w := regWords(r)
	switch {
	case i == regCS || i == regSS:
		if v == 0 || v&3 != 3 || v > 0xffff {
			return unix.EIO
		}
	case i >= regDS && i <= regGS:
		if v != 0 && v&3 != 3 || v > 0xffff {
			return unix.EIO
		}
	case i == regFSBase || i == regGSBase:
		if v >= taskSizeMax {
			return unix.EIO
		}
	case i == regEflags:
		v = w[i]&^eflagsUser | v&eflagsUser
	}
	w[i] = v
	return nil
}

// tracee finds the tracee pid of t's process, stopped unless any.
// Linux: kernel/ptrace.c (ptrace_check_attach)
func (t *Task) tracee(pid int, any bool) (*Task, error) {
	k := t.k
	k.mu.Lock()
	defer k.mu.Unlock()
	c := k.tasks[pid]
	if c == nil || c.ptrace.tracer != t.tg || !any && !c.ptrace.stopped {
		return nil, unix.ESRCH
	}
	return c, nil
}

// onStopped runs fn on the stopped tracee c's goroutine.
func (t *Task) onStopped(c *Task, fn func() error) error {
	k := t.k
	k.mu.Lock()
	p := &c.ptrace
	if p.tracer != t.tg || !p.stopped {
		k.mu.Unlock()
		return unix.ESRCH
	}
	reqs, left := p.reqs, p.left
	k.mu.Unlock()
	var err error
	r := ptraceReq{fn: func() { err = fn() }, done: make(chan struct{})}
	select {
	case reqs <- r:
		<-r.done
		return err
	case <-left:
		return unix.ESRCH
	}
}

// Ptrace is ptrace(2).
func (t *Task) Ptrace(req int, pid int, addr, data uint64) (uint64, error) {
	switch req {
	case unix.PTRACE_TRACEME:
		return 0, t.PtraceTraceMe()
	case unix.PTRACE_ATTACH:
		return 0, t.PtraceAttach(pid, false, 0)
	case unix.PTRACE_SEIZE:
		if addr != 0 {
			return 0, unix.EIO
		}
		if data&^unix.PTRACE_O_MASK != 0 {
			return 0, unix.EIO
		}
		return 0, t.PtraceAttach(pid, true, uint32(data))
	}
	c, err := t.tracee(pid, req == unix.PTRACE_KILL || req == unix.PTRACE_INTERRUPT)
	if err != nil {
		return 0, err
	}
	switch req {
	case unix.PTRACE_PEEKTEXT, unix.PTRACE_PEEKDATA, unix.PTRACE_POKETEXT, unix.PTRACE_POKEDATA:
		return 0, t.ptracePeekPoke(c, req, addr, data)
	case unix.PTRACE_PEEKUSR:
		var v uint64
		if err := t.onStopped(c, func() (err error) { v, err = c.peekUser(addr); return }); err != nil {
			return 0, err
		}
		return 0, t.putWord(data, v)
	case unix.PTRACE_POKEUSR:
		return 0, t.onStopped(c, func() error { return c.pokeUser(addr, data) })
	case unix.PTRACE_GETREGS:
		return 0, t.ptraceGetRegset(c, unix.NT_PRSTATUS, data, regsSize)
	case unix.PTRACE_SETREGS:
		return 0, t.ptraceSetRegset(c, unix.NT_PRSTATUS, data, regsSize)
	case ptraceGetFPRegs:
		return 0, t.ptraceGetRegset(c, unix.NT_PRFPREG, data, fxsaveSize)
	case ptraceSetFPRegs:
		return 0, t.ptraceSetRegset(c, unix.NT_PRFPREG, data, fxsaveSize)
	case unix.PTRACE_GETREGSET, unix.PTRACE_SETREGSET:
		return 0, t.ptraceRegsetIov(c, req == unix.PTRACE_SETREGSET, int(addr), data)
	case unix.PTRACE_GETSIGINFO:
		var b []byte
		err := t.onStopped(c, func() error {
			t.k.mu.Lock()
			info := c.ptrace.info
			t.k.mu.Unlock()
			if info == nil {
				return unix.EINVAL
			}
			li := t.LocalSigInfo(*info) // as the tracer numbers pids
			b = li.Encode()
			return nil
		})
		if err != nil {
			return 0, err
		}
		return 0, t.CopyOut(data, b)
	case unix.PTRACE_SETSIGINFO:
		b := make([]byte, 128)
		if err := t.CopyIn(data, b); err != nil {
			return 0, err
		}
		return 0, t.onStopped(c, func() error {
			t.k.mu.Lock()
			defer t.k.mu.Unlock()
			if c.ptrace.info == nil {
				return unix.EINVAL
			}
			*c.ptrace.info = decodeSigInfo(b)
			return nil
		})
	case unix.PTRACE_GETEVENTMSG:
		t.k.mu.Lock()
		msg, ev := c.ptrace.msg, c.ptrace.code>>8
		t.k.mu.Unlock()
		switch ev {
		case unix.PTRACE_EVENT_FORK, unix.PTRACE_EVENT_VFORK, unix.PTRACE_EVENT_CLONE,
			unix.PTRACE_EVENT_EXEC, unix.PTRACE_EVENT_VFORK_DONE:
			msg = uint64(t.VPID(int(msg))) // a pid, as the tracer numbers it
		}
		return 0, t.putWord(data, msg)
	case unix.PTRACE_SETOPTIONS:
		if data&^unix.PTRACE_O_MASK != 0 {
			return 0, unix.EINVAL
		}
		t.k.mu.Lock()
		c.ptrace.options = uint32(data)
		t.k.mu.Unlock()
		return 0, nil
	case unix.PTRACE_GETSIGMASK, unix.PTRACE_SETSIGMASK:
		return 0, t.ptraceSigmask(c, req == unix.PTRACE_SETSIGMASK, addr, data)
	case unix.PTRACE_PEEKSIGINFO:
		return t.ptracePeekSiginfo(c, addr, data)
	case unix.PTRACE_GET_SYSCALL_INFO:
		return t.ptraceSyscallInfo(c, addr, data)
	case ptraceArchPrctl:
		return 0, t.ptraceArchPrctl(c, addr, data)
	case unix.PTRACE_CONT, unix.PTRACE_SYSCALL, unix.PTRACE_SINGLESTEP, ptraceSysemu, ptraceSysemuSingleStp:
		if data > abi.NSIG {
			return 0, unix.EIO
		}
		mode := map[int]int{unix.PTRACE_CONT: resumeCont, unix.PTRACE_SYSCALL: resumeSyscall,
			unix.PTRACE_SINGLESTEP: resumeStep, ptraceSysemu: resumeSysemu, ptraceSysemuSingleStp: resumeSysemuStep}[req]
		return 0, t.ptraceResume(c, mode, int(data))
	case unix.PTRACE_LISTEN:
		return 0, t.ptraceListen(c)
	case unix.PTRACE_DETACH:
		if data > abi.NSIG {
			return 0, unix.EIO
		}
		return 0, t.ptraceDetach(c, int(data))
	case unix.PTRACE_KILL:
		c.SendSignal(abi.SIGKILL)
		return 0, nil
	case unix.PTRACE_INTERRUPT:
		return 0, t.ptraceInterrupt(c)
	}
	return 0, unix.EIO
}

// putWord stores a 64-bit word in the caller's memory (the raw
// syscall's PEEK* requests return the word through data).
func (t *Task) putWord(addr, v uint64) error {
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], v)
	return t.CopyOut(addr, b[:])
}

func (t *Task) ptracePeekPoke(c *Task, req int, addr, data uint64) error {
	m := c.memShared()
	if m == nil || !m.TryAddUser() {
		return unix.ESRCH
	}
	defer m.DropUser()
	var b [8]byte
	if req == unix.PTRACE_POKETEXT || req == unix.PTRACE_POKEDATA {
		binary.LittleEndian.PutUint64(b[:], data)
		if n, _ := m.RemoteCopyForce(addr, b[:], true); n != 8 {
			return unix.EIO
		}
		t.k.KickMM(m)
		return nil
	}
	if n, _ := m.RemoteCopyForce(addr, b[:], false); n != 8 {
		return unix.EIO
	}
	return t.putWord(data, binary.LittleEndian.Uint64(b[:]))
}

// peekUser reads a word of struct user. Runs on c's goroutine.
func (c *Task) peekUser(off uint64) (uint64, error) {
	if off&7 != 0 || off > userSize-8 {
		return 0, unix.EIO
	}
	switch {
	case off < regsSize:
		return regWords(&c.regs)[off/8], nil
	case off >= offDebugReg:
		i := int(off-offDebugReg) / 8
		if dr, ok := c.thread.(platform.DebugRegs); ok && i != 4 && i != 5 {
			return dr.DebugReg(i)
		}
	}
	return 0, nil
}

// pokeUser writes a word of struct user. Runs on c's goroutine.
func (c *Task) pokeUser(off, v uint64) error {
	if off&7 != 0 || off > userSize-8 {
		return unix.EIO
	}
	switch {
	case off < regsSize:
		return putReg(&c.regs, int(off/8), v)
	case off >= offDebugReg:
		i := int(off-offDebugReg) / 8
		if i == 4 || i == 5 {
			return unix.EIO
		}
		dr, ok := c.thread.(platform.DebugRegs)
		if !ok {
			return unix.EIO
		}
		return dr.SetDebugReg(i, v)
	}
	// The rest of struct user cannot be written. Linux: arch_ptrace
	// (PTRACE_POKEUSR)
	return unix.EIO
}

// regset returns register set note of c, on c's goroutine.
func (c *Task) regset(note int) ([]byte, error) {
	switch note {
	case unix.NT_PRSTATUS:
		return userRegs(&c.regs), nil
	case unix.NT_PRFPREG, unix.NT_X86_XSTATE:
		fp, err := c.thread.FPState()
		if err != nil {
			return nil, unix.EIO
		}
		if note == unix.NT_PRFPREG {
			return fp[:fxsaveSize], nil
		}
		// ptrace's XSAVE image says in its software-reserved bytes which
		// features the OS enabled (xcr0 at 464, where gdb reads it); an
		// image from a signal frame (the seccomp platform) has the
		// frame's own header there, with the features at 472.
		// Linux: arch/x86/kernel/fpu/xstate.c (xstate_fx_sw_bytes)
		if len(fp) >= fxsaveSize && binary.LittleEndian.Uint32(fp[swReserved:]) == fpXstateMagic1 {
			xfeatures := binary.LittleEndian.Uint64(fp[swReserved+8:])
			clear(fp[swReserved:fxsaveSize])
			binary.LittleEndian.PutUint64(fp[swReserved:], xfeatures)
		}
		return fp, nil
	}
	return nil, unix.EINVAL
}

// setRegset loads b (a prefix of the set) into c, on c's goroutine.
func (c *Task) setRegset(note int, b []byte) error {
	switch note {
	case unix.NT_PRSTATUS:
		r := c.regs
		for i := 0; i+8 <= len(b); i += 8 {
			if err := putReg(&r, i/8, binary.LittleEndian.Uint64(b[i:])); err != nil {
				return err
			}
		}
		c.regs = r
		return nil
	case unix.NT_PRFPREG, unix.NT_X86_XSTATE:
		fp, err := c.thread.FPState()
		if err != nil {
			return unix.EIO
		}
		// The tracer's image, but the software-reserved bytes stay the
		// platform's own.
		copy(fp[:min(len(fp), swReserved)], b)
		if len(b) > fxsaveSize && len(fp) > fxsaveSize {
			copy(fp[fxsaveSize:], b[fxsaveSize:])
		}
		if note == unix.NT_PRFPREG && len(fp) > 520 {
			fp[512] |= 3 // XSTATE_BV: the x87 and SSE state are now given
		}
		if err := c.thread.SetFPState(fp); err != nil {
			return unix.EINVAL
		}
		return nil
	}
	return unix.EINVAL
}

func (t *Task) ptraceGetRegset(c *Task, note int, addr uint64, size int) error {
	var b []byte
	if err := t.onStopped(c, func() (err error) { b, err = c.regset(note); return }); err != nil {
		return err
	}
	return t.CopyOut(addr, b[:min(size, len(b))])
}

func (t *Task) ptraceSetRegset(c *Task, note int, addr uint64, size int) error {
	b := make([]byte, size)
	if err := t.CopyIn(addr, b); err != nil {
		return err
	}
	return t.onStopped(c, func() error { return c.setRegset(note, b) })
}

// ptraceRegsetIov is PTRACE_GETREGSET/SETREGSET: data is a struct iovec
// whose length the get shortens to what the set holds.
func (t *Task) ptraceRegsetIov(c *Task, set bool, note int, data uint64) error {
	var iov [16]byte
	if err := t.CopyIn(data, iov[:]); err != nil {
		return err
	}
	base, l := binary.LittleEndian.Uint64(iov[:]), binary.LittleEndian.Uint64(iov[8:])
	switch note {
	case unix.NT_PRSTATUS, unix.NT_PRFPREG, unix.NT_X86_XSTATE:
	default:
		return unix.EINVAL
	}
	if set {
		if note == unix.NT_PRSTATUS && l%8 != 0 {
			return unix.EINVAL
		}
		b := make([]byte, min(l, 1<<16))
		if err := t.CopyIn(base, b); err != nil {
			return err
		}
		return t.onStopped(c, func() error { return c.setRegset(note, b) })
	}
	var b []byte
	if err := t.onStopped(c, func() (err error) { b, err = c.regset(note); return }); err != nil {
		return err
	}
	b = b[:min(uint64(len(b)), l)]
	if err := t.CopyOut(base, b); err != nil {
		return err
	}
	binary.LittleEndian.PutUint64(iov[8:], uint64(len(b)))
	return t.CopyOut(data+8, iov[8:])
}

func (t *Task) ptraceSigmask(c *Task, set bool, size, data uint64) error {
	if size != 8 {
		return unix.EINVAL
	}
	if !set {
		return t.putWord(data, uint64(c.SigMask()))
	}
	var b [8]byte
	if err := t.CopyIn(data, b[:]); err != nil {
		return err
	}
	m := abi.SigSet(binary.LittleEndian.Uint64(b[:])) &^ (abi.SigBit(abi.SIGKILL) | abi.SigBit(abi.SIGSTOP))
	return t.onStopped(c, func() error { c.SetSigMask(m); return nil })
}

// ptraceSyscallInfo is PTRACE_GET_SYSCALL_INFO: struct ptrace_syscall_info
// for the stop c is in, cut to size bytes; it returns the whole size.
func (t *Task) ptraceSyscallInfo(c *Task, size, data uint64) (uint64, error) {
	var b [88]byte
	n := 24
	err := t.onStopped(c, func() error {
		t.k.mu.Lock()
		kind, code, msg := c.ptrace.kind, c.ptrace.code, c.ptrace.msg
		t.k.mu.Unlock()
		le := binary.LittleEndian
		le.PutUint32(b[4:], auditArchX86_64)
		le.PutUint64(b[8:], c.regs.Rip)
		le.PutUint64(b[16:], c.regs.Rsp)
		if code&0x80 == 0 && code != abi.SIGTRAP|unix.PTRACE_EVENT_SECCOMP<<8 {
			return nil // only a TRACESYSGOOD syscall-stop says more
		}
		r := &c.regs
		switch kind {
		case stopSyscallEnter, stopEvent:
			b[0] = unix.PTRACE_SYSCALL_INFO_ENTRY
			if kind == stopEvent {
				b[0] = unix.PTRACE_SYSCALL_INFO_SECCOMP
			}
			le.PutUint64(b[24:], r.Orig_rax)
			for i, v := range [6]uint64{r.Rdi, r.Rsi, r.Rdx, r.R10, r.R8, r.R9} {
				le.PutUint64(b[32+8*i:], v)
			}
			n = 80
			if kind == stopEvent {
				le.PutUint32(b[80:], uint32(msg))
				n = 84
			}
		case stopSyscallExit:
			b[0] = unix.PTRACE_SYSCALL_INFO_EXIT
			le.PutUint64(b[24:], r.Rax)
			if v := int64(r.Rax); v < 0 && v >= -4095 {
				b[32] = 1
			}
			n = 33
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	if err := t.CopyOut(data, b[:min(uint64(n), size)]); err != nil {
		return 0, err
	}
	return uint64(n), nil
}

// ptraceArchPrctl is PTRACE_ARCH_PRCTL: arch_prctl's FS/GS base
// requests on the tracee (addr is the code).
func (t *Task) ptraceArchPrctl(c *Task, code, data uint64) error {
	var v uint64
	err := t.onStopped(c, func() error {
		switch code {
		case archGetFS:
			v = c.regs.Fs_base
		case archGetGS:
			v = c.regs.Gs_base
		case archSetFS:
			return putReg(&c.regs, regFSBase, data)
		case archSetGS:
			return putReg(&c.regs, regGSBase, data)
		default:
			return unix.EINVAL
		}
		return nil
	})
	if err != nil || code == archSetFS || code == archSetGS {
		return err
	}
	return t.putWord(data, v)
}

func (t *Task) ptraceResume(c *Task, mode, sig int) error {
	k := t.k
	k.mu.Lock()
	defer k.mu.Unlock()
	if c.ptrace.tracer != t.tg || !c.ptrace.stopped {
		return unix.ESRCH
	}
	c.resumeLocked(mode, sig)
	return nil
}

// ptraceListen lets a seized tracee in a PTRACE_EVENT_STOP stop (a
// group-stop above all) stay stopped until it has something to report.
func (t *Task) ptraceListen(c *Task) error {
	k := t.k
	k.mu.Lock()
	defer k.mu.Unlock()
	p := &c.ptrace
	if p.tracer != t.tg || !p.stopped {
		return unix.ESRCH
	}
	if !p.seized || p.code>>8 != unix.PTRACE_EVENT_STOP {
		return unix.EIO
	}
	c.resumeLocked(resumeListen, 0)
	return nil
}

func (t *Task) ptraceDetach(c *Task, sig int) error {
	k := t.k
	k.mu.Lock()
	if c.ptrace.tracer != t.tg || !c.ptrace.stopped {
		k.mu.Unlock()
		return unix.ESRCH
	}
	c.unlinkLocked()
	c.resumeLocked(resumeDetach, sig)
	k.mu.Unlock()
	return nil
}

// ptraceInterrupt makes a seized tracee trap (PTRACE_EVENT_STOP).
func (t *Task) ptraceInterrupt(c *Task) error {
	k := t.k
	k.mu.Lock()
	if !c.ptrace.seized {
		k.mu.Unlock()
		return unix.EIO
	}
	stopped := c.ptrace.stopped
	if !stopped {
		c.ptrace.trap = true
		c.ptraceTrap.Store(true)
	}
	k.mu.Unlock()
	if !stopped {
		c.wake()
	}
	return nil
}

// decodeSigInfo reads a siginfo_t as Encode lays it out.
func decodeSigInfo(b []byte) SigInfo {
	le := binary.LittleEndian
	si := SigInfo{Signo: int32(le.Uint32(b[0:])), Errno: int32(le.Uint32(b[4:])), Code: int32(le.Uint32(b[8:]))}
	switch {
	case si.Signo == abi.SIGSYS && si.Code == sysSeccomp:
		si.Addr, si.Syscall, si.Arch = le.Uint64(b[16:]), int32(le.Uint32(b[24:])), le.Uint32(b[28:])
	case isFaultSignal(int(si.Signo)) && si.Code > 0:
		si.Addr = le.Uint64(b[16:])
	default:
		si.PID, si.UID = int32(le.Uint32(b[16:])), le.Uint32(b[20:])
		if si.Signo == abi.SIGCHLD {
			si.Status = int32(le.Uint32(b[24:]))
		} else {
			si.Value = le.Uint64(b[24:])
		}
	}
	return si
}

// ptracePeekSiginfo is PTRACE_PEEKSIGINFO: up to nr pending siginfos of
// the tracee (or, with PTRACE_PEEKSIGINFO_SHARED, of its process) from
// position off. Linux: kernel/ptrace.c (ptrace_peek_siginfo)
func (t *Task) ptracePeekSiginfo(c *Task, addr, data uint64) (uint64, error) {
	var b [16]byte
	if err := t.CopyIn(addr, b[:]); err != nil {
		return 0, err
	}
	off, flags, nr := binary.LittleEndian.Uint64(b[:]), binary.LittleEndian.Uint32(b[8:]), int32(binary.LittleEndian.Uint32(b[12:]))
	const shared = 1 // PTRACE_PEEKSIGINFO_SHARED
	if flags&^shared != 0 || nr < 0 {
		return 0, unix.EINVAL
	}
	var l []SigInfo
	if flags&shared != 0 {
		c.tg.shared.mu.Lock()
		l = c.tg.shared.q.list()
		c.tg.shared.mu.Unlock()
	} else {
		c.mu.Lock()
		l = c.pending.list()
		c.mu.Unlock()
	}
	n := 0
	for i := off; i < uint64(len(l)) && n < int(nr); i++ {
		li := t.LocalSigInfo(l[i])
		if err := t.CopyOut(data+uint64(n)*128, li.Encode()); err != nil {
			if n == 0 {
				return 0, err
			}
			break
		}
		n++
	}
	return uint64(n), nil
}
