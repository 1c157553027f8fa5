package kernel

import (
	"fmt"
	"path"
	"sort"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"glassbox/internal/abi"
	"glassbox/internal/mm"
	"glassbox/internal/vfs"
)

// A read-only snapshot of the kernel's process state, for the dashboard
// (internal/ui). Snapshot may be called from any goroutine while the guest
// runs: it takes Kernel.mu alone to list the processes, then each
// ThreadGroup.mu alone to copy its fields, and reaches descriptor tables
// and address spaces only through their own locked accessors (the ones
// /proc uses). No two locks are held at once, so it can't deadlock with
// the guest, and no guest memory is read except argv (as
// /proc/PID/cmdline reads it). Caveat shared with /proc: a task's mm and
// creds pointers are set by the task itself without a lock, so reading
// them from here is a race the race detector reports (benign: the
// objects are internally locked and a released MM reads as empty).

// Snapshot is the sandbox at one moment.
type Snapshot struct {
	TimeMS  float64        `json:"t_ms"`    // since the sandbox started
	Running bool           `json:"running"` // the first process has not exited
	Stats   SnapshotStats  `json:"stats"`
	Procs   []ProcSnapshot `json:"procs"` // by pid
}

// SnapshotStats are the sandbox-wide counters (Stats) at that moment.
type SnapshotStats struct {
	Syscalls    uint64 `json:"syscalls"`
	Faults      uint64 `json:"faults"`
	COWCopies   uint64 `json:"cow_copies"`
	Processes   uint64 `json:"processes"`
	Threads     uint64 `json:"threads"`
	MemInUse    uint64 `json:"mem_in_use_bytes"`
	MemPeakByte uint64 `json:"mem_peak_bytes"`
}

// ProcSnapshot is one process.
type ProcSnapshot struct {
	PID     int      `json:"pid"`
	PPID    int      `json:"ppid"`
	PGID    int      `json:"pgid"`
	SID     int      `json:"sid"`
	Comm    string   `json:"comm"`
	Exe     string   `json:"exe,omitempty"`
	Cmdline []string `json:"cmdline"`
	// State is R (running), S (waiting in the kernel), T (stopped), Z
	// (zombie: exited, not yet waited for); the dashboard adds X for
	// processes it saw that are gone.
	State   string `json:"state"`
	Exit    string `json:"exit,omitempty"` // how a zombie ended
	UID     uint32 `json:"uid"`
	GID     uint32 `json:"gid"`
	Threads []int  `json:"threads"`

	Faults    uint64 `json:"faults"`     // of its address space
	COWCopies uint64 `json:"cow_copies"` // pages copied on write
	COWReuses uint64 `json:"cow_reuses"` // write faults that took a page over
	HostMaps  uint64 `json:"host_maps"`  // host mapping changes injected
	Resident  uint64 `json:"resident_pages"`
	Swapped   uint64 `json:"swapped_pages"`
	VSize     uint64 `json:"vsize_bytes"`

	FDs  []FDSnapshot  `json:"fds"`
	VMAs []VMASnapshot `json:"vmas"`
}

// FDSnapshot is one descriptor.
type FDSnapshot struct {
	FD      int    `json:"fd"`
	Target  string `json:"target"` // what /proc/PID/fd/N points to: a path, pipe:[N], socket:[N]...
	Kind    string `json:"kind"`   // file, pipe, socket, anon, host (lent by glassbox' caller)
	Mode    string `json:"mode"`   // r, w, rw or path
	CloExec bool   `json:"cloexec,omitempty"`
}

// VMAStripCells is the most cells a VMA's residency strip has.
const VMAStripCells = 64

// VMASnapshot is one mapping, as /proc/PID/maps shows it, with which of
// its pages have a frame.
type VMASnapshot struct {
	Start  string `json:"start"` // hex, so JavaScript keeps every bit
	End    string `json:"end"`
	Perms  string `json:"perms"` // "r-xp"
	Offset uint64 `json:"offset"`
	Name   string `json:"name"`
	Pages  uint64 `json:"pages"`
	// Resident counts pages with a frame, -1 when the address space can't
	// tell per VMA. Shared counts those whose frame is held elsewhere too
	// (a page cache, or COW-shared after fork).
	Resident int64 `json:"resident"`
	Shared   int64 `json:"shared"`
	Swapped  int64 `json:"swapped"` // pages whose contents are in swap
	// Strip has one cell per 1/len of the VMA: '.' nothing resident, '-'
	// some pages, '#' all pages, 's' some page shared, 'o' some page
	// swapped out (and none shared).
	Strip string `json:"strip,omitempty"`
}

// residentWalker is what the strip needs from an address space: fn for
// each page of [start, end) that has a frame, shared when another holder
// has the frame too. Checked at run time so the strip lights up as soon as
// mm offers it; until then VMAs report Resident -1.
type residentWalker interface {
	WalkResident(start, end uint64, fn func(addr uint64, shared bool))
	WalkSwapped(start, end uint64, fn func(addr uint64))
}

// snapTG is what Kernel.mu guards about a process, copied out.
type snapTG struct {
	tg      *ThreadGroup
	zombie  bool
	stopped bool
}

// Snapshot copies out every live process and zombie.
func (k *Kernel) Snapshot() Snapshot {
	now := time.Now()
	k.mu.Lock()
	seen := map[*ThreadGroup]bool{}
	var tgs []snapTG
	add := func(tg *ThreadGroup) {
		if tg != nil && !seen[tg] && !tg.reaped {
			seen[tg] = true
			tgs = append(tgs, snapTG{tg, tg.zombie, tg.job.stopped})
		}
	}
	add(k.init)
	for _, t := range k.tasks {
		add(t.tg)
	}
	// Zombies have no tasks left; they hang off their parents.
	for i := 0; i < len(tgs); i++ {
		for _, c := range tgs[i].tg.children {
			add(c)
		}
	}
	k.mu.Unlock()

	s := Snapshot{TimeMS: float64(now.Sub(k.start).Microseconds()) / 1e3}
	select {
	case <-k.done:
	default:
		s.Running = true
	}
	st := k.Stats()
	s.Stats = SnapshotStats{Syscalls: st.Syscalls, Faults: st.Faults, COWCopies: st.COWCopies,
		Processes: st.Processes, Threads: st.Threads, MemPeakByte: st.MemPeakByte,
		MemInUse: k.cfg.MemFile.Stats().InUse * abi.PageSize}
	for _, x := range tgs {
		s.Procs = append(s.Procs, k.snapProc(x))
	}
	sort.Slice(s.Procs, func(i, j int) bool { return s.Procs[i].PID < s.Procs[j].PID })
	return s
}

func (k *Kernel) snapProc(x snapTG) ProcSnapshot {
	tg := x.tg
	tg.mu.Lock()
	p := ProcSnapshot{PID: tg.pid, PGID: tg.pgid, SID: tg.sid, Comm: tg.comm, Exe: tg.exeName,
		Threads: make([]int, 0, len(tg.tasks))}
	if tg.parent != nil {
		p.PPID = tg.parent.pid
	}
	for _, t := range tg.tasks {
		p.Threads = append(p.Threads, t.tid)
	}
	exited, status := tg.exited, tg.status
	fds := tg.fds
	argStart, argEnd := tg.argStart, tg.argEnd
	tg.mu.Unlock()
	if p.Exe != "" && p.Comm == "" {
		p.Comm = path.Base(p.Exe)
	}

	pp := procProcess{tg: tg}
	switch {
	case x.zombie:
		p.State = "Z"
	case x.stopped:
		p.State = "T"
	default:
		p.State, _ = pp.state(false)
	}
	if x.zombie && exited {
		p.Exit = describeStatus(status)
	}
	if x.zombie {
		return p // no memory, no descriptors, no threads
	}
	// Task.creds and Task.mm are written by their own task without a
	// lock (as /proc reads them too), so each is read once here: the
	// command line and the maps come from the same address space.
	c := pp.creds()
	p.UID, p.GID = c.EUID, c.EGID
	if fds != nil {
		p.FDs = k.snapFDs(fds)
	}
	if m := pp.mm(); m != nil {
		if argEnd > argStart && argEnd-argStart <= 1<<20 {
			b := make([]byte, argEnd-argStart)
			if m.CopyIn(nil, argStart, b) == nil { // as /proc/PID/cmdline reads it
				p.Cmdline = splitArgs(b)
			}
		}
		ms := m.Stats()
		p.Faults, p.COWCopies, p.COWReuses, p.HostMaps = ms.MinorFaults, ms.COWCopies, ms.COWReuses, ms.HostMaps
		p.Resident = m.Resident()
		p.Swapped = m.Swapped()
		w, _ := any(m).(residentWalker)
		for _, v := range m.VMAs() {
			p.VSize += v.End - v.Start
			p.VMAs = append(p.VMAs, snapVMA(v, w))
		}
	}
	return p
}

// splitArgs turns a NUL-separated argv block into strings.
func splitArgs(b []byte) []string {
	s := strings.TrimRight(string(b), "\x00")
	if s == "" {
		return nil
	}
	if len(s) > 4096 {
		s = s[:4096]
	}
	return strings.Split(s, "\x00")
}

// snapFDs describes each open descriptor of fds.
func (k *Kernel) snapFDs(fds *vfs.FDTable) []FDSnapshot {
	var out []FDSnapshot
	src := procSource{k: k}
	for _, n := range fds.FDs() {
		f, err := fds.Get(n)
		if err != nil {
			continue // closed meanwhile
		}
		d := FDSnapshot{FD: n, Mode: accessMode(f.Flags())}
		d.CloExec, _ = fds.CloseOnExec(n)
		switch p := f.Path(); {
		case k.isStdio(f):
			d.Target, d.Kind = f.AnonName(), "host"
		case p.Dentry != nil:
			d.Target, d.Kind = src.PathName(nil, p), "file"
		default:
			d.Target, d.Kind = f.AnonName(), anonKind(f.AnonName())
		}
		f.DecRef()
		out = append(out, d)
	}
	return out
}

// isStdio reports whether f is one of the host descriptors lent as fds 0-2.
func (k *Kernel) isStdio(f *vfs.File) bool {
	for _, s := range k.cfg.Stdio {
		if s == f {
			return true
		}
	}
	return false
}

func anonKind(name string) string {
	switch {
	case strings.HasPrefix(name, "pipe:["):
		return "pipe"
	case strings.HasPrefix(name, "socket:["):
		return "socket"
	}
	return "anon"
}

func accessMode(flags int) string {
	if flags&unix.O_PATH != 0 {
		return "path"
	}
	switch flags & unix.O_ACCMODE {
	case unix.O_RDONLY:
		return "r"
	case unix.O_WRONLY:
		return "w"
	}
	return "rw"
}

// snapVMA describes v; w (may be nil) tells which pages are resident.
func snapVMA(v mm.VMA, w residentWalker) VMASnapshot {
	perms := []byte("---p")
	if v.Prot&unix.PROT_READ != 0 {
		perms[0] = 'r'
	}
	if v.Prot&unix.PROT_WRITE != 0 {
		perms[1] = 'w'
	}
	if v.Prot&unix.PROT_EXEC != 0 {
		perms[2] = 'x'
	}
	if v.Shared {
		perms[3] = 's'
	}
	s := VMASnapshot{Start: fmt.Sprintf("%#x", v.Start), End: fmt.Sprintf("%#x", v.End), Perms: string(perms),
		Offset: v.Off, Name: v.Name, Pages: (v.End - v.Start) >> abi.PageShift, Resident: -1, Shared: -1}
	if w != nil {
		s.Strip, s.Resident, s.Shared = ResidencyStrip(v.Start, v.End, VMAStripCells, func(fn func(uint64, bool)) {
			w.WalkResident(v.Start, v.End, fn)
		})
		s.Strip, s.Swapped = markSwapped(s.Strip, v.Start, v.End, func(fn func(uint64)) {
			w.WalkSwapped(v.Start, v.End, fn)
		})
	}
	return s
}

// markSwapped marks the cells of strip (over [start, end)) that hold a
// swapped-out page 'o', unless they are 's', and counts those pages.
func markSwapped(strip string, start, end uint64, walk func(fn func(addr uint64))) (string, int64) {
	pages := (end - start) >> abi.PageShift
	b := []byte(strip)
	n := uint64(len(b))
	var count int64
	walk(func(a uint64) {
		if a < start || a >= end || n == 0 {
			return
		}
		count++
		if c := ((a - start) >> abi.PageShift) * n / pages; b[c] != 's' {
			b[c] = 'o'
		}
	})
	return string(b), count
}

// ResidencyStrip divides [start, end) into at most cells cells and marks
// each by how many of its pages walk reports (see VMASnapshot.Strip); it
// returns the strip and the counts of resident and shared pages.
func ResidencyStrip(start, end uint64, cells int, walk func(fn func(addr uint64, shared bool))) (string, int64, int64) {
	pages := (end - start) >> abi.PageShift
	if pages == 0 {
		return "", 0, 0
	}
	n := uint64(cells)
	if pages < n {
		n = pages
	}
	res := make([]uint64, n)
	shr := make([]uint64, n)
	var total, shared int64
	walk(func(a uint64, sh bool) {
		if a < start || a >= end {
			return
		}
		c := ((a - start) >> abi.PageShift) * n / pages
		res[c]++
		total++
		if sh {
			shr[c]++
			shared++
		}
	})
	b := make([]byte, n)
	for c := uint64(0); c < n; c++ {
		// Cell c covers pages [c*pages/n, (c+1)*pages/n).
		size := (c+1)*pages/n - c*pages/n
		switch {
		case shr[c] > 0:
			b[c] = 's'
		case res[c] == 0:
			b[c] = '.'
		case res[c] >= size:
			b[c] = '#'
		default:
			b[c] = '-'
		}
	}
	return string(b), total, shared
}
