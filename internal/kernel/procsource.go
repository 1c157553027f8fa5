package kernel

import (
	"fmt"
	"strings"

	"glassbox/internal/abi"
	"glassbox/internal/fs/procfs"
	"glassbox/internal/mm"
	"glassbox/internal/vfs"
)

// ProcSource returns the kernel's answers for /proc.
func (k *Kernel) ProcSource() procfs.Source { return procSource{k} }

type procSource struct{ k *Kernel }

func (s procSource) Caller(ctx vfs.Ctx) (int, int) {
	if t, ok := ctx.(*Task); ok {
		return t.tg.pid, t.tid
	}
	return 0, 0
}

func (s procSource) PIDs() []int { return s.k.PIDs() }

func (s procSource) Process(pid int) procfs.Process {
	if tg := s.k.ThreadGroupByPID(pid); tg != nil {
		return procProcess{tg}
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

// procProcess is a thread group seen through /proc.
type procProcess struct{ tg *ThreadGroup }

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
	m := t.mm
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
		return t.mm
	}
	return nil
}

func (p procProcess) VMAs() []mm.VMA {
	if m := p.mm(); m != nil {
		return m.VMAs()
	}
	return nil
}

func (p procProcess) creds() *vfs.Creds {
	if t := p.tg.Leader(); t != nil && t.creds != nil {
		return t.creds
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

// Stat renders /proc/PID/stat. Linux: fs/proc/array.c (do_task_stat)
func (p procProcess) Stat() string {
	tg := p.tg
	var minflt, vsize, rss uint64
	var utime uint64
	if m := p.mm(); m != nil {
		minflt = m.Stats().MinorFaults
		for _, v := range m.VMAs() {
			vsize += v.End - v.Start
		}
		rss = m.Resident()
	}
	if t := tg.Leader(); t != nil {
		utime = uint64(t.CPUTime().Nanoseconds()) * abi.ClockTicks / 1e9
	}
	f := []any{tg.pid, tg.Comm(), "R", tg.PPID(), tg.Pgid(), tg.Sid(), 0, -1, 0x400000,
		minflt, 0, 0, 0, utime, 0, 0, 0, 20, 0, p.threads(), 0, 0, vsize, rss}
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

// Status renders the common lines of /proc/PID/status.
func (p procProcess) Status() string {
	tg := p.tg
	c := p.creds()
	var rss uint64
	if m := p.mm(); m != nil {
		rss = m.Resident() * abi.PageSize / 1024
	}
	return fmt.Sprintf("Name:\t%s\nState:\tR (running)\nTgid:\t%d\nPid:\t%d\nPPid:\t%d\n"+
		"Uid:\t%d\t%d\t%d\t%d\nGid:\t%d\t%d\t%d\t%d\nVmRSS:\t%8d kB\nThreads:\t%d\n",
		tg.Comm(), tg.pid, tg.pid, tg.PPID(), c.UID, c.EUID, c.EUID, c.FSUID,
		c.GID, c.EGID, c.EGID, c.FSGID, rss, p.threads())
}
