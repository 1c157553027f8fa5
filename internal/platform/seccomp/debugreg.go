package seccomp

import (
	"encoding/binary"
	"unsafe"

	"golang.org/x/sys/unix"

	"glassbox/internal/hostfd"
	"glassbox/internal/platform"
)

// Debug registers. A guest thread's DR0-DR3, DR6 and DR7 are virtual, kept
// here as Linux keeps a tracee's (its ptrace breakpoints, virtual_dr6 and
// ptrace_dr7), with the same checks and errnos. Each breakpoint the guest
// enables becomes a host perf hardware breakpoint on the stub thread
// (user space only, pid = the stub thread, any CPU, so it follows the
// thread wherever it runs) that sends the thread a synchronous SIGTRAP
// (si_code TRAP_PERF) when it fires; the handler traps it like any
// other. A hit is told by the event's count, read at every SIGTRAP: the
// signal of a hit on a single-stepped instruction merges with the step's.
//
// Containment: the guest cannot make perf events (its filter traps every
// syscall); glassbox holds the descriptors (counted by hostfd), and every
// breakpoint lies below the guest's TASK_SIZE, so none can watch the
// stub's own pages.
//
// Linux: arch/x86/kernel/ptrace.c (ptrace_set_debugreg, ptrace_write_dr7,
// ptrace_set_breakpoint_addr, ptrace_get_debugreg),
// arch/x86/kernel/hw_breakpoint.c (arch_build_bp_info,
// hw_breakpoint_arch_parse, arch_check_bp_in_kernelspace),
// arch/x86/kernel/traps.c (exc_debug_user).

const (
	// dr6Reserved are DR6's bits that read as 1; Linux keeps virtual_dr6
	// in positive polarity and flips these on PEEKUSER and POKEUSER.
	dr6Reserved = 0xffff0ff0
	dr6Step     = 0x4000 // BS: a single-step trap
	dr6Trap     = 0xf    // B0-B3
	// dr7Reserved are the DR7 bits ptrace_write_dr7 ignores.
	dr7Reserved = 0xffffffff0000fc00

	// Linux's x86 encodings of a breakpoint (asm/hw_breakpoint.h).
	x86Len1    = 0x40 // also X86_BREAKPOINT_LEN_X, an exec breakpoint's
	x86Len2    = 0x44
	x86Len4    = 0x4c
	x86Len8    = 0x48
	x86Exec    = 0x80
	x86Write   = 0x81
	x86ReadWri = 0x83

	// Generic breakpoint types (uapi/linux/hw_breakpoint.h).
	hwBpR = 1
	hwBpW = 2
	hwBpX = 4

	// perf_event_attr bits x/sys/unix has no names for (see
	// perf_event_open(2): remove_on_exec and sigtrap follow
	// inherit_thread, bit 35).
	perfBitRemoveOnExec = 1 << 36
	perfBitSigtrap      = 1 << 37

	// si_code values of SIGTRAP (uapi/asm-generic/siginfo.h).
	trapTrace  = 2
	trapHwbkpt = 4
	trapPerf   = 6
)

// bpSlot is one of a thread's ptrace breakpoints as Linux records it: a
// slot is created by the first write of its address or its enabling in
// DR7, and keeps its last valid address, length and type.
type bpSlot struct {
	exists   bool
	disabled bool
	addr     uint64
	len      uint64 // generic length: 1, 2, 4, 8 (an exec breakpoint's is 8)
	typ      uint32 // hwBpW, hwBpW|hwBpR or hwBpX
}

// hostBp is the perf event that stands for an enabled slot.
type hostBp struct {
	fd    int // -1: none
	addr  uint64
	len   uint64
	typ   uint32
	count uint64 // hits seen so far
}

// debugRegs is one thread's debug registers. Only the thread's owner
// goroutine uses it.
type debugRegs struct {
	slot [4]bpSlot
	host [4]hostBp
	dr6  uint64 // as PEEKUSER reads it
	dr7  uint64 // the last value written successfully, as written
}

func newDebugRegs() *debugRegs {
	d := &debugRegs{dr6: dr6Reserved}
	for i := range d.host {
		d.host[i].fd = -1
	}
	return d
}

// debugRegs returns t's debug registers (nil for a thread that never
// used them), made if create. Like every other field of thread, they are
// the owner goroutine's.
func (t *thread) debugRegs(create bool) *debugRegs {
	if t.dbg == nil && create {
		t.dbg = newDebugRegs()
	}
	return t.dbg
}

// dropDebugRegs closes t's host breakpoints and forgets its debug
// registers. Release calls it.
func (t *thread) dropDebugRegs() {
	d := t.dbg
	t.dbg = nil
	if d != nil {
		for i := range d.host {
			d.host[i].close()
		}
	}
}

// DebugReg implements platform.DebugRegs: DR4, DR5 and the words of
// struct user past DR7 read as 0. Linux: ptrace_get_debugreg.
func (t *thread) DebugReg(i int) (uint64, error) {
	d := t.debugRegs(false)
	if d == nil {
		d = &debugRegs{dr6: dr6Reserved}
	}
	switch {
	case i >= 0 && i < 4:
		if d.slot[i].exists {
			return d.slot[i].addr, nil
		}
	case i == 6:
		return d.dr6, nil
	case i == 7:
		return d.dr7, nil
	}
	return 0, nil
}

// SetDebugReg implements platform.DebugRegs. Linux: ptrace_set_debugreg.
func (t *thread) SetDebugReg(i int, v uint64) error {
	if i < 0 || i > 7 || i == 4 || i == 5 {
		return unix.EIO
	}
	if t.dead {
		return unix.ESRCH
	}
	d := t.debugRegs(true)
	if i == 6 {
		d.dr6 = v
		return nil
	}
	old := d.slot
	limit := t.proc.p.layout.TaskSize
	var err error
	if i < 4 {
		err = d.setAddr(i, v, limit)
	} else {
		err = d.writeDR7(v, limit)
	}
	if err != nil {
		return err
	}
	if err := t.syncDebugRegs(d); err != nil {
		// The host refused a breakpoint (no hardware slot, no
		// descriptor): the registers stay as they were.
		d.slot = old
		t.syncDebugRegs(d)
		return err
	}
	if i == 7 {
		d.dr7 = v
	}
	return nil
}

// checkBp validates a breakpoint as Linux's hw_breakpoint_parse does for
// a ptrace breakpoint (user space only): EINVAL for a bad length or type,
// a misaligned address or one at or above taskSize.
func checkBp(addr, length uint64, typ uint32, taskSize uint64) error {
	if addr+length-1 < addr {
		return unix.EINVAL
	}
	span := length // the bytes a data breakpoint covers
	switch typ {
	case hwBpX:
		if length != 8 {
			return unix.EINVAL
		}
		span = 1
	case hwBpW, hwBpW | hwBpR:
		switch length {
		case 1, 2, 4, 8:
		default:
			return unix.EINVAL
		}
		if addr&(length-1) != 0 {
			return unix.EINVAL
		}
	default:
		return unix.EINVAL
	}
	if addr >= taskSize || addr+span-1 >= taskSize {
		return unix.EINVAL
	}
	return nil
}

// setAddr writes DR0-DR3. Linux: ptrace_set_breakpoint_addr (a new slot
// is a disabled one-byte write breakpoint).
func (d *debugRegs) setAddr(i int, addr, taskSize uint64) error {
	s := &d.slot[i]
	if !s.exists {
		if err := checkBp(addr, 1, hwBpW, taskSize); err != nil {
			return err
		}
		*s = bpSlot{exists: true, disabled: true, addr: addr, len: 1, typ: hwBpW}
		return nil
	}
	if err := checkBp(addr, s.len, s.typ, taskSize); err != nil {
		return err
	}
	s.addr = addr
	return nil
}

// decodeDR7 returns slot i's x86 length and type in DR7, and whether it
// is enabled (locally or globally). Linux: decode_dr7.
func decodeDR7(dr7 uint64, i int) (x86len, x86type uint32, enabled bool) {
	info := uint32(dr7 >> (16 + 4*i))
	return info&0xc | 0x40, info&0x3 | 0x80, dr7>>(2*i)&3 != 0
}

// genericFields turns DR7's encoding of a slot into a generic length and
// type. Linux: arch_bp_generic_fields.
func genericFields(x86len, x86type uint32) (uint64, uint32, error) {
	var typ uint32
	switch x86type {
	case x86Exec:
		if x86len != x86Len1 {
			return 0, 0, unix.EINVAL
		}
		return 8, hwBpX, nil
	case x86Write:
		typ = hwBpW
	case x86ReadWri:
		typ = hwBpW | hwBpR
	default:
		return 0, 0, unix.EINVAL
	}
	switch x86len {
	case x86Len1:
		return 1, typ, nil
	case x86Len2:
		return 2, typ, nil
	case x86Len4:
		return 4, typ, nil
	case x86Len8:
		return 8, typ, nil
	}
	return 0, 0, unix.EINVAL
}

// activeDR7 encodes the enabled slots as DR7 (globally enabled, with the
// slow-down bit). Linux: ptrace_get_dr7, encode_dr7.
func (d *debugRegs) activeDR7() uint64 {
	var dr7 uint64
	for i, s := range d.slot {
		if !s.exists || s.disabled {
			continue
		}
		var l, ty uint64
		switch s.len {
		case 1:
			l = x86Len1
		case 2:
			l = x86Len2
		case 4:
			l = x86Len4
		case 8:
			l = x86Len8
		}
		switch s.typ {
		case hwBpX:
			l, ty = x86Len1, x86Exec
		case hwBpW:
			ty = x86Write
		default:
			ty = x86ReadWri
		}
		dr7 |= ((l|ty)&0xf)<<(16+4*i) | 2<<(2*i) | 0x200
	}
	return dr7
}

// writeDR7 applies a DR7 value to the slots: every slot that exists is
// changed (enabled or not), a missing one is created at address 0 if
// enabled. If one fails, the enabled slots of before are put back and
// the first error returned. Linux: ptrace_write_dr7.
func (d *debugRegs) writeDR7(data, taskSize uint64) error {
	data &^= dr7Reserved
	old := d.activeDR7()
	var first error
	for pass := 0; pass < 2; pass++ {
		var rc error
		for i := range d.slot {
			x86len, x86type, enabled := decodeDR7(data, i)
			s := &d.slot[i]
			if !s.exists && !enabled {
				continue
			}
			length, typ, err := genericFields(x86len, x86type)
			addr := s.addr
			if !s.exists {
				addr = 0
			}
			if err == nil {
				err = checkBp(addr, length, typ, taskSize)
			}
			if err != nil {
				rc = err
				break
			}
			*s = bpSlot{exists: true, disabled: !enabled, addr: addr, len: length, typ: typ}
		}
		if rc == nil || pass == 1 {
			break
		}
		first = rc
		data = old
	}
	return first
}

// syncDebugRegs makes the host breakpoints match the enabled slots.
func (t *thread) syncDebugRegs(d *debugRegs) error {
	for i := range d.slot {
		s, h := &d.slot[i], &d.host[i]
		on := s.exists && !s.disabled
		if h.fd >= 0 && (!on || h.addr != s.addr || h.len != s.len || h.typ != s.typ) {
			h.close()
		}
		if !on || h.fd >= 0 {
			continue
		}
		if err := h.open(t.tid, i, s); err != nil {
			return err
		}
	}
	return nil
}

// open makes the perf event for slot i of stub thread tid.
func (h *hostBp) open(tid, i int, s *bpSlot) error {
	if err := hostfd.Acquire(); err != nil {
		return unix.ENOMEM
	}
	attr := unix.PerfEventAttr{
		Type:     unix.PERF_TYPE_BREAKPOINT,
		Size:     uint32(unsafe.Sizeof(unix.PerfEventAttr{})),
		Sample:   1, // sample_period: every hit
		Bits:     unix.PerfBitExcludeKernel | unix.PerfBitExcludeHv | perfBitRemoveOnExec | perfBitSigtrap,
		Bp_type:  s.typ,
		Ext1:     s.addr, // bp_addr
		Ext2:     s.len,  // bp_len
		Sig_data: uint64(i),
	}
	fd, err := unix.PerfEventOpen(&attr, tid, -1, -1, unix.PERF_FLAG_FD_CLOEXEC)
	if err != nil {
		hostfd.Release()
		switch err {
		case unix.ENOSPC, unix.ENOMEM, unix.EINVAL:
			// What Linux's own breakpoint would fail with.
			return err
		}
		// The host does not let glassbox have hardware breakpoints
		// (perf_event_paranoid, a container's filter, no PMU).
		return unix.EIO
	}
	*h = hostBp{fd: fd, addr: s.addr, len: s.len, typ: s.typ}
	return nil
}

func (h *hostBp) close() {
	if h.fd >= 0 {
		hostfd.Close(h.fd)
		h.fd = -1
	}
}

// hits reads the event's count and says whether it moved since the last
// look.
func (h *hostBp) hits() bool {
	if h.fd < 0 {
		return false
	}
	var b [8]byte
	if n, err := unix.Read(h.fd, b[:]); n != 8 || err != nil {
		return false
	}
	c := binary.LittleEndian.Uint64(b[:])
	moved := c != h.count
	h.count = c
	return moved
}

// debugTrap turns a host SIGTRAP into what Linux reports for the debug
// exception behind it: DR6 gets the breakpoints that fired (and BS for a
// single step) as exc_debug_user and ptrace_triggered set virtual_dr6,
// and a hit is SIGTRAP TRAP_HWBKPT at the instruction pointer, as
// send_sigtrap reports it. An exec breakpoint's fault leaves RF set in
// the frame's flags, so the instruction runs when the thread resumes.
func (t *thread) debugTrap(ev platform.Event, regs *platform.Regs, code int) platform.Event {
	if code != trapTrace && code != trapPerf {
		return ev // int3 and the like are not debug exceptions
	}
	d := t.debugRegs(code == trapTrace)
	if d == nil {
		return ev
	}
	var bits uint64
	for i := range d.host {
		if d.host[i].hits() {
			bits |= 1 << i
		}
	}
	if code == trapTrace {
		d.dr6 = (dr6Step | bits) ^ dr6Reserved
		return ev
	}
	if bits == 0 {
		return ev // no breakpoint of ours fired: not a hit to report
	}
	d.dr6 = bits ^ dr6Reserved
	return platform.Event{Kind: platform.EventSignal, Signo: int(unix.SIGTRAP), Code: trapHwbkpt, Addr: regs.Rip}
}
