package kernel

import (
	"encoding/binary"
	"fmt"
	"runtime"
	"sort"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"glassbox/internal/abi"
	"glassbox/internal/fs/procfs"
	"glassbox/internal/mm"
	"glassbox/internal/userns"
	"glassbox/internal/vfs"
)

// ProcSource returns the kernel's answers for /proc.
func (k *Kernel) ProcSource() procfs.Source { return procSource{k: k} }

// ProcSourceFor returns the answers for a /proc the task mounts: its PID
// namespace's view.
func (t *Task) ProcSourceFor() procfs.Source { return procSource{k: t.k, view: t.PIDView()} }

type procSource struct {
	k    *Kernel
	view PIDView // whose numbers /proc shows (pidns.go)
}

func (s procSource) Caller(ctx vfs.Ctx) (int, int) {
	if t, ok := ctx.(*Task); ok {
		return s.view.nrOf(t.tg), s.view.taskNr(t)
	}
	return 0, 0
}

func (s procSource) PIDs() []int {
	pids := s.k.PIDs()
	if s.view.root() {
		return pids
	}
	var out []int
	for _, pid := range pids {
		if tg := s.k.ThreadGroupByPID(pid); tg != nil {
			if nr := s.view.nrOf(tg); nr != 0 {
				out = append(out, nr)
			}
		}
	}
	sort.Ints(out)
	return out
}

func (s procSource) Process(pid int) procfs.Process {
	if !s.view.root() {
		if pid = s.view.ns.kernelPID(pid); pid < 0 {
			return nil
		}
	}
	if tg := s.k.ThreadGroupByPID(pid); tg != nil {
		return procProcess{tg: tg, view: s.view}
	}
	// /proc/TID of a thread other than the first: not listed, but it
	// opens, showing that thread. Linux: fs/proc/base.c (proc_pid_lookup)
	if t := s.k.TaskByTID(pid); t != nil {
		return procProcess{tg: t.tg, view: s.view, task: t}
	}
	return nil
}

func (s procSource) PathName(ctx vfs.Ctx, p vfs.Path) string {
	if t, ok := ctx.(*Task); ok {
		return t.PathName(p)
	}
	ns := s.k.cfg.NS
	return ns.PathName(ns.Root(), p)
}

// System reports the sandbox-wide numbers for /proc.
func (s procSource) System() procfs.System {
	k := s.k
	var u unix.Utsname
	unix.Uname(&u)
	up := time.Since(k.start).Seconds()
	k.mu.Lock()
	threads, last := len(k.tasks), k.nextPID-1
	k.mu.Unlock()
	var cpu time.Duration
	for _, pid := range k.PIDs() {
		if tg := k.ThreadGroupByPID(pid); tg != nil {
			cpu += tg.SelfUsage().CPU
		}
	}
	return procfs.System{
		Uptime: up, Idle: up * float64(runtime.NumCPU()), Processes: len(k.PIDs()), Threads: threads,
		LastPID: last, MemUsed: k.cfg.MemFile.Stats().InUse*abi.PageSize + k.cfg.MemFile.Overhead(), Hostname: k.Hostname(), Domainname: k.Domainname(),
		MemLimit: memLimit(k), Mem: mm.SystemTotals(),
		SwapTotal: k.cfg.Swap.Stats().Slots * abi.PageSize, SwapUsed: k.cfg.Swap.Stats().Used * abi.PageSize,
		Release: cstr(u.Release[:]), Version: cstr(u.Version[:]), BootTime: k.start.Unix(),
		CPUTicks: uint64(cpu.Nanoseconds()) * abi.ClockTicks / 1e9,
	}
}

// Mounts lists the namespace's mounts as the caller sees them.
func (s procSource) Mounts(ctx vfs.Ctx) []procfs.MountLine {
	ns := s.k.cfg.NS
	if t, ok := ctx.(*Task); ok {
		ns = t.MountNS()
	}
	ids := map[*vfs.Mount]int{}
	var out []procfs.MountLine
	for i, m := range ns.Mounts() {
		ids[m] = i + 1
		point := "/"
		parent := 0
		if mp := m.MountPoint(); mp.Mount != nil {
			point = s.PathName(ctx, mp)
			parent = ids[mp.Mount]
		}
		opts := "rw"
		if m.Flags&unix.MS_RDONLY != 0 {
			opts = "ro"
		}
		for _, o := range []struct {
			bit  int
			name string
		}{{unix.MS_NOSUID, ",nosuid"}, {unix.MS_NODEV, ",nodev"}, {unix.MS_NOEXEC, ",noexec"}} {
			if m.Flags&o.bit != 0 {
				opts += o.name
			}
		}
		out = append(out, procfs.MountLine{ID: i + 1, ParentID: parent, Source: m.Source, Point: point,
			FSType: m.FSType, Opts: opts, Root: "/"})
	}
	return out
}

func cstr(b []byte) string {
	for i, c := range b {
		if c == 0 {
			return string(b[:i])
		}
	}
	return string(b)
}

// procProcess is a thread group seen through /proc.
type procProcess struct {
	tg   *ThreadGroup
	view PIDView // whose numbers it shows
	// task is the thread /proc/TID and /proc/PID/task/TID show; nil for
	// the process (its first thread).
	task *Task
}

// Task implements procfs.Process.
func (p procProcess) Task() vfs.Ctx {
	if t := p.thread(); t != nil {
		return t
	}
	return nil
}

// thread is the task whose state, signals and tracer the files show.
func (p procProcess) thread() *Task {
	if p.task != nil {
		return p.task
	}
	return p.tg.Leader()
}

// id is the number the files give as Pid: the thread's own for a
// thread's view. Linux: fs/proc/array.c (task_state, do_task_stat)
func (p procProcess) id() int {
	if p.task != nil {
		return p.vpid(p.task.tid)
	}
	return p.vpid(p.tg.pid)
}

// Thread implements procfs.Process: the view of thread tid of the
// process, nil if it has no such thread.
func (p procProcess) Thread(tid int) procfs.Process {
	if !p.view.root() {
		if tid = p.view.ns.kernelPID(tid); tid < 0 {
			return nil
		}
	}
	if t := p.tg.k.TaskByTID(tid); t != nil && t.tg == p.tg {
		return procProcess{tg: p.tg, view: p.view, task: t}
	}
	return nil
}

// vpid is kernel pid as the view numbers it (0: outside the view).
func (p procProcess) vpid(pid int) int {
	if p.view.root() || pid <= 0 {
		return pid
	}
	if tg := p.tg.k.ThreadGroupByPID(pid); tg != nil {
		return p.view.nrOf(tg)
	}
	return 0
}

func (p procProcess) Exe() (vfs.Path, bool) {
	e, _ := p.tg.Exe()
	return e, e.Dentry != nil
}

// guestBytes reads [start, end) of the process's memory, or nothing.
func (p procProcess) guestBytes(start, end uint64) []byte {
	t := p.tg.Leader()
	if t == nil || end <= start || end-start > 1<<20 {
		return nil
	}
	m := t.memShared()
	if m == nil {
		return nil
	}
	b := make([]byte, end-start)
	if err := m.CopyIn(nil, start, b); err != nil {
		return nil
	}
	return b
}

func (p procProcess) Cmdline() []byte {
	as, ae, _, _ := p.tg.ArgRange()
	return p.guestBytes(as, ae)
}

func (p procProcess) Environ() []byte {
	_, _, es, ee := p.tg.ArgRange()
	return p.guestBytes(es, ee)
}

func (p procProcess) Comm() string { return p.tg.Comm() }

// Auxv implements procfs.Process. Linux: fs/proc/base.c (proc_pid_auxv)
func (p procProcess) Auxv() []byte {
	p.tg.mu.Lock()
	v := append([]uint64(nil), p.tg.auxv...)
	p.tg.mu.Unlock()
	if n := len(v); n < 2 || v[n-2] != 0 {
		v = append(v, 0, 0)
	}
	b := make([]byte, 8*len(v))
	for i, w := range v {
		binary.LittleEndian.PutUint64(b[8*i:], w)
	}
	return b
}

func (p procProcess) fsc() *FSContext {
	p.tg.mu.Lock()
	defer p.tg.mu.Unlock()
	return p.tg.fsc
}

func (p procProcess) Cwd() vfs.Path {
	if c := p.fsc(); c != nil {
		return c.Cwd()
	}
	return p.tg.k.cfg.NS.Root()
}

func (p procProcess) Root() vfs.Path {
	if c := p.fsc(); c != nil {
		return c.Root()
	}
	return p.tg.k.cfg.NS.Root()
}

func (p procProcess) FDs() []int {
	if p.tg.fds == nil {
		return nil
	}
	return p.tg.fds.FDs()
}

func (p procProcess) FD(n int) *vfs.File {
	if p.tg.fds == nil {
		return nil
	}
	f, err := p.tg.fds.Get(n)
	if err != nil {
		return nil
	}
	f.DecRef()
	return f
}

func (p procProcess) mm() *mm.MM {
	if t := p.tg.Leader(); t != nil {
		return t.memShared()
	}
	return nil
}

// MM is the process's address space (nil for a zombie).
func (p procProcess) MM() *mm.MM { return p.mm() }

func (p procProcess) VMAs() []mm.VMA {
	if m := p.mm(); m != nil {
		return m.VMAs()
	}
	return nil
}

func (p procProcess) creds() *vfs.Creds {
	if t := p.tg.Leader(); t != nil {
		if c := t.credsShared(); c != nil {
			return c
		}
	}
	return &vfs.Creds{}
}

func (p procProcess) UID() uint32 { return p.creds().EUID }
func (p procProcess) GID() uint32 { return p.creds().EGID }

func (p procProcess) threads() int {
	p.tg.mu.Lock()
	defer p.tg.mu.Unlock()
	return len(p.tg.tasks)
}

// state is the process's one-letter state for stat and status: T when
// stopped, S when its first thread waits in the kernel, R otherwise.
func (p procProcess) state(self bool) (string, string) {
	if t := p.thread(); t != nil && t.Traced() && t.ptraceStopped() {
		return "t", "t (tracing stop)"
	}
	if p.tg.isStopped() {
		return "T", "T (stopped)"
	}
	if t := p.thread(); t != nil && t.inKernel.Load() && !self {
		return "S", "S (sleeping)"
	}
	return "R", "R (running)"
}

// usage returns faults, vsize and rss pages, and CPU ticks.
func (p procProcess) usage() (minflt, majflt, vsize, rss, ticks uint64) {
	if m := p.mm(); m != nil {
		st := m.Stats()
		minflt, majflt = st.MinorFaults, st.MajorFaults
		for _, v := range m.VMAs() {
			vsize += v.End - v.Start
		}
		rss = m.Resident()
	}
	ticks = uint64(p.tg.SelfUsage().CPU.Nanoseconds()) * abi.ClockTicks / 1e9
	return
}

// Stat renders /proc/PID/stat. Linux: fs/proc/array.c (do_task_stat)
func (p procProcess) Stat(self bool) string {
	tg := p.tg
	minflt, majflt, vsize, rss, utime := p.usage()
	state, _ := p.state(self)
	start := uint64(tg.start.Sub(tg.k.start).Nanoseconds()) * abi.ClockTicks / 1e9
	kids := tg.ChildrenUsage()
	cutime := uint64(kids.CPU.Nanoseconds()) * abi.ClockTicks / 1e9
	ttyNr, tpgid := tg.k.controllingTTY(tg.Sid())
	if tpgid > 0 {
		tpgid = p.vpid(tpgid)
	}
	f := []any{p.id(), tg.Comm(), state, p.vpid(tg.PPID()), p.vpid(tg.Pgid()), p.vpid(tg.Sid()), ttyNr, tpgid, 0x400000,
		minflt, kids.MinFlt, majflt, kids.MajFlt, utime, 0, cutime, 0, 20, tg.Nice(), p.threads(), 0, start, vsize, rss}
	var b strings.Builder
	for i, v := range f {
		if i > 0 {
			b.WriteByte(' ')
		}
		if i == 1 {
			fmt.Fprintf(&b, "(%s)", v)
			continue
		}
		fmt.Fprint(&b, v)
	}
	// rsslim .. exit_code: fields 25-52.
	for i := 25; i <= 52; i++ {
		b.WriteString(" 0")
	}
	return b.String()
}

// Status renders /proc/PID/status. Linux: fs/proc/array.c (proc_pid_status)
func (p procProcess) Status(self bool) string {
	tg := p.tg
	c := p.creds()
	_, _, vsize, rss, _ := p.usage()
	_, state := p.state(self)
	var pending, blocked abi.SigSet
	if t := p.thread(); t != nil {
		pending, blocked = t.OwnPending(), t.SigMask()
	}
	var ign, cgt abi.SigSet
	for sig := 1; sig <= abi.NSIG; sig++ {
		switch a := tg.Action(sig); a.Handler {
		case SigDfl:
		case SigIgn:
			ign |= abi.SigBit(sig)
		default:
			cgt |= abi.SigBit(sig)
		}
	}
	// Ids as the process's own user namespace sees them (Linux: the
	// reader's; the same when a process reads its own).
	u := func(k uint32) uint32 { return userns.ShowUID(c.UserNS, k) }
	g := func(k uint32) uint32 { return userns.ShowGID(c.UserNS, k) }
	// Groups joined by spaces, then one more. Linux: fs/proc/array.c (task_state)
	var groups strings.Builder
	for i, x := range c.Groups {
		if i > 0 {
			groups.WriteByte(' ')
		}
		fmt.Fprintf(&groups, "%d", g(x))
	}
	groups.WriteByte(' ')
	scMode, scFilters := p.seccompStatus()
	nnp := 0
	if tg.noNewPrivs() {
		nnp = 1
	}
	return fmt.Sprintf("Name:\t%s\nUmask:\t%04o\nState:\t%s\nTgid:\t%d\nNgid:\t0\nPid:\t%d\nPPid:\t%d\nTracerPid:\t%d\n"+
		"Uid:\t%d\t%d\t%d\t%d\nGid:\t%d\t%d\t%d\t%d\nFDSize:\t64\nGroups:\t%s\n"+
		"VmSize:\t%8d kB\nVmLck:\t%8d kB\nVmHWM:\t%8d kB\nVmRSS:\t%8d kB\nVmSwap:\t%8d kB\nThreads:\t%d\nSigQ:\t0/%d\nSigPnd:\t%016x\nShdPnd:\t%016x\n"+
		"SigBlk:\t%016x\nSigIgn:\t%016x\nSigCgt:\t%016x\nCapInh:\t%016x\nCapPrm:\t%016x\n"+
		"CapEff:\t%016x\nCapBnd:\t%016x\nCapAmb:\t%016x\nNoNewPrivs:\t%d\nSeccomp:\t%d\nSeccomp_filters:\t%d\n"+
		"voluntary_ctxt_switches:\t0\nnonvoluntary_ctxt_switches:\t0\n",
		tg.Comm(), p.umask(), state, p.vpid(tg.pid), p.id(), p.vpid(tg.PPID()), p.vpid(p.tracerPID()),
		u(c.UID), u(c.EUID), u(c.SUID), u(c.FSUID), g(c.GID), g(c.EGID), g(c.SGID), g(c.FSGID), groups.String(),
		vsize/1024, p.lockedKB(), p.hwmPages(rss)*abi.PageSize/1024, rss*abi.PageSize/1024, p.swapKB(), p.threads(), rtQueueMax,
		uint64(pending), uint64(tg.SharedPending()), uint64(blocked), uint64(ign), uint64(cgt),
		c.CapInh, c.CapPrm, c.CapEff, c.CapBnd, c.CapAmb, nnp, scMode, scFilters)
}

// memLimit is the sandbox's memory: --memory if given, else what the
// memory file may grow to.
func memLimit(k *Kernel) uint64 {
	if l := k.cfg.MemFile.Limit(); l != 0 {
		return l
	}
	return k.cfg.MemFile.Reserved()
}

// hwmPages is VmHWM: the address space's high-water mark (not the
// process's across execs, which getrusage reports). Linux: fs/proc/task_mmu.c (task_mem)
func (p procProcess) hwmPages(rss uint64) uint64 {
	if m := p.mm(); m != nil {
		return max(m.PeakResident(), rss)
	}
	return rss
}

func (p procProcess) swapKB() uint64 {
	if m := p.mm(); m != nil {
		return m.Swapped() * abi.PageSize / 1024
	}
	return 0
}

func (p procProcess) lockedKB() uint64 {
	if m := p.mm(); m != nil {
		return m.LockedBytes() / 1024
	}
	return 0
}

func (p procProcess) umask() uint32 {
	if c := p.fsc(); c != nil {
		return c.Umask()
	}
	return 0o022
}

// Statm renders /proc/PID/statm (pages).
func (p procProcess) Statm() string {
	_, _, vsize, rss, _ := p.usage()
	return fmt.Sprintf("%d %d 0 0 0 0 0", vsize/abi.PageSize, rss)
}

// Limits renders /proc/PID/limits. Linux: fs/proc/base.c (proc_pid_limits)
func (p procProcess) Limits() string {
	names := []struct{ name, unit string }{
		{"Max cpu time", "seconds"}, {"Max file size", "bytes"}, {"Max data size", "bytes"},
		{"Max stack size", "bytes"}, {"Max core file size", "bytes"}, {"Max resident set", "bytes"},
		{"Max processes", "processes"}, {"Max open files", "files"}, {"Max locked memory", "bytes"},
		{"Max address space", "bytes"}, {"Max file locks", "locks"}, {"Max pending signals", "signals"},
		{"Max msgqueue size", "bytes"}, {"Max nice priority", ""}, {"Max realtime priority", ""},
		{"Max realtime timeout", "us"},
	}
	val := func(v uint64) string {
		if v == ^uint64(0) {
			return "unlimited"
		}
		return fmt.Sprint(v)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%-25s %-20s %-20s %-10s\n", "Limit", "Soft Limit", "Hard Limit", "Units")
	for i, n := range names {
		r := p.tg.Rlimit(i)
		fmt.Fprintf(&b, "%-25s %-20s %-20s %-10s\n", n.name, val(r.Cur), val(r.Max), n.unit)
	}
	return b.String()
}

// Threads lists the thread ids.
func (p procProcess) Threads() []int {
	p.tg.mu.Lock()
	defer p.tg.mu.Unlock()
	out := make([]int, 0, len(p.tg.tasks))
	for _, t := range p.tg.tasks {
		if nr := p.view.taskNr(t); nr != 0 {
			out = append(out, nr)
		}
	}
	return out
}

// FDInfo renders /proc/PID/fdinfo/N.
func (p procProcess) FDInfo(n int) (string, bool) {
	f := p.FD(n)
	if f == nil {
		return "", false
	}
	pos, _ := f.Seek(p.tg.k.HostCtx(), 0, 1)
	var ino uint64
	if st, err := f.Stat(p.tg.k.HostCtx()); err == nil {
		ino = st.Ino
	}
	flags := f.Flags()
	if cloexec, err := p.tg.fds.CloseOnExec(n); err == nil && cloexec {
		flags |= unix.O_CLOEXEC // the descriptor's flag, shown with the file's
	}
	s := fmt.Sprintf("pos:\t%d\nflags:\t0%o\nmnt_id:\t0\nino:\t%d\n", pos, flags, ino)
	if x, ok := f.Ops().(interface{ FDInfo() string }); ok {
		s += x.FDInfo() // the file's own lines (a pidfd's Pid:)
	}
	return s, true
}

// seccompStatus is the leader's seccomp mode and filter count.
func (p procProcess) seccompStatus() (mode, filters int) {
	if t := p.tg.Leader(); t != nil {
		return t.seccompStatus()
	}
	return 0, 0
}

// tracerPID is the pid of the process tracing the thread shown.
func (p procProcess) tracerPID() int {
	if t := p.thread(); t != nil {
		return t.TracerPID()
	}
	return 0
}
