package ui

import (
	"path"
	"sort"
	"strconv"
	"strings"

	"glassbox/internal/kernel"
	"glassbox/internal/trace"
)

// View is what /api/snapshot returns and the page draws: the kernel's
// snapshot, with the processes that are gone kept as they were last seen.
type View struct {
	TimeMS        float64              `json:"t_ms"`
	Running       bool                 `json:"running"`
	Stats         kernel.SnapshotStats `json:"stats"`
	Procs         []Proc               `json:"procs"`
	Pipes         []Pipe               `json:"pipes"`
	SyscallEvents bool                 `json:"syscall_events"` // a page has syscall events on
}

// Proc is a process: live (state R, S, T or Z) or gone (X), as last seen.
type Proc struct {
	kernel.ProcSnapshot
	SeenMS   float64 `json:"seen_ms"`         // when its fds and maps were copied
	Syscalls uint64  `json:"syscalls_traced"` // syscall events seen for it
}

// Pipe is one pipe:[N] and the processes holding its ends.
type Pipe struct {
	Name    string `json:"name"`
	Writers []End  `json:"writers"`
	Readers []End  `json:"readers"`
}

// End is a descriptor holding one end of a pipe.
type End struct {
	PID int `json:"pid"`
	FD  int `json:"fd"`
}

// maxGone bounds how many exited processes the view remembers.
const maxGone = 2000

// procEvents is what the process events said about one pid.
type procEvents struct {
	ppid   int
	exe    string
	argv   []string
	execMS float64
	exit   string
}

// history remembers every process seen, by snapshot or by event.
type history struct {
	last   map[int]Proc // last live sighting
	evs    map[int]*procEvents
	nextEv int // index into eventLog.proc
	doneMS float64
}

func newHistory() *history {
	return &history{last: map[int]Proc{}, evs: map[int]*procEvents{}}
}

func (h *history) ev(pid int) *procEvents {
	p := h.evs[pid]
	if p == nil {
		p = &procEvents{}
		h.evs[pid] = p
	}
	return p
}

// apply folds process events in: "fork: child pid N (...)", "exec PATH
// ARGV...", "exit status N" / "exit killed by signal N".
func (h *history) apply(evs []trace.Event) {
	for _, e := range evs {
		ms := float64(e.Time.Microseconds()) / 1e3
		switch d := e.Detail; {
		case strings.HasPrefix(d, "fork: child pid "):
			f := strings.Fields(d[len("fork: child pid "):])
			if len(f) > 0 {
				if pid, err := strconv.Atoi(f[0]); err == nil {
					h.ev(pid).ppid = e.PID
				}
			}
		case strings.HasPrefix(d, "exec "):
			f := strings.Fields(d[len("exec "):])
			if len(f) > 0 {
				p := h.ev(e.PID)
				p.exe, p.argv, p.execMS = f[0], f[1:], ms
			}
		case strings.HasPrefix(d, "exit "):
			h.ev(e.PID).exit = d[len("exit "):]
		}
	}
}

// merge builds the view from a live snapshot and the history.
func (h *history) merge(snap kernel.Snapshot, syscalls map[int]uint64) View {
	v := View{TimeMS: snap.TimeMS, Running: snap.Running, Stats: snap.Stats}
	if !snap.Running {
		// The time the guest ended, so a finished run's view stays
		// byte-for-byte the same and isn't sent again.
		if h.doneMS == 0 {
			h.doneMS = snap.TimeMS
		}
		v.TimeMS = h.doneMS
	}
	live := map[int]bool{}
	for _, p := range snap.Procs {
		live[p.PID] = true
		lp := Proc{ProcSnapshot: p, SeenMS: snap.TimeMS}
		if p.State == "Z" {
			// Keep the descriptors and maps it had when last alive.
			if old, ok := h.last[p.PID]; ok {
				lp.FDs, lp.VMAs, lp.SeenMS = old.FDs, old.VMAs, old.SeenMS
				lp.Cmdline, lp.UID, lp.GID = old.Cmdline, old.UID, old.GID
				lp.Faults, lp.COWCopies, lp.COWReuses = old.Faults, old.COWCopies, old.COWReuses
				lp.HostMaps, lp.Resident, lp.VSize = old.HostMaps, old.Resident, old.VSize
			}
		}
		h.last[p.PID] = lp
		v.Procs = append(v.Procs, lp)
	}
	for pid := range h.evs {
		if _, ok := h.last[pid]; !ok && !live[pid] {
			h.last[pid] = Proc{ProcSnapshot: kernel.ProcSnapshot{PID: pid}, SeenMS: -1}
		}
	}
	var gone []int
	for pid := range h.last {
		if !live[pid] {
			gone = append(gone, pid)
		}
	}
	sort.Ints(gone)
	for len(gone) > maxGone {
		delete(h.last, gone[0])
		delete(h.evs, gone[0])
		gone = gone[1:]
	}
	for _, pid := range gone {
		p := h.last[pid]
		p.State, p.Threads = "X", nil
		if e := h.evs[pid]; e != nil {
			if p.PPID == 0 && e.ppid != 0 {
				p.PPID = e.ppid
			}
			if e.exe != "" && e.execMS > p.SeenMS {
				// It exec'd after the last sighting.
				p.Exe, p.Comm, p.Cmdline, p.VMAs = e.exe, path.Base(e.exe), e.argv, nil
			}
			p.Exit = e.exit
		}
		v.Procs = append(v.Procs, p)
	}
	sort.Slice(v.Procs, func(i, j int) bool { return v.Procs[i].PID < v.Procs[j].PID })
	for i := range v.Procs {
		v.Procs[i].Syscalls = syscalls[v.Procs[i].PID]
	}
	v.Pipes = pipes(v.Procs)
	return v
}

// pipes matches pipe:[N] names across the descriptor tables.
func pipes(procs []Proc) []Pipe {
	byName := map[string]*Pipe{}
	var names []string
	for _, p := range procs {
		for _, f := range p.FDs {
			if f.Kind != "pipe" {
				continue
			}
			pp := byName[f.Target]
			if pp == nil {
				pp = &Pipe{Name: f.Target, Writers: []End{}, Readers: []End{}}
				byName[f.Target] = pp
				names = append(names, f.Target)
			}
			e := End{PID: p.PID, FD: f.FD}
			if strings.Contains(f.Mode, "w") {
				pp.Writers = append(pp.Writers, e)
			}
			if strings.Contains(f.Mode, "r") {
				pp.Readers = append(pp.Readers, e)
			}
		}
	}
	sort.Strings(names)
	out := []Pipe{}
	for _, n := range names {
		out = append(out, *byName[n])
	}
	return out
}
