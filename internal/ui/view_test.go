package ui

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"glassbox/internal/kernel"
	"glassbox/internal/trace"
)

// pipeline is a snapshot of `sh -c 'yes | head'` while both run.
func pipeline() kernel.Snapshot {
	fd := func(n int, target, kind, mode string) kernel.FDSnapshot {
		return kernel.FDSnapshot{FD: n, Target: target, Kind: kind, Mode: mode}
	}
	return kernel.Snapshot{TimeMS: 12.5, Running: true,
		Stats: kernel.SnapshotStats{Syscalls: 100, Faults: 7, COWCopies: 2, Processes: 3},
		Procs: []kernel.ProcSnapshot{
			{PID: 1, Comm: "sh", Cmdline: []string{"sh", "-c", "yes | head"}, State: "S",
				FDs: []kernel.FDSnapshot{fd(0, "/dev/pts/0", "host", "rw")}},
			{PID: 2, PPID: 1, Comm: "yes", Cmdline: []string{"yes"}, State: "R",
				FDs: []kernel.FDSnapshot{fd(1, "pipe:[7]", "pipe", "w")},
				VMAs: []kernel.VMASnapshot{{Start: "0x400000", End: "0x401000", Perms: "r-xp", Pages: 1,
					Resident: 1, Strip: "#"}}},
			{PID: 3, PPID: 1, Comm: "head", Cmdline: []string{"head"}, State: "S",
				FDs: []kernel.FDSnapshot{fd(0, "pipe:[7]", "pipe", "r"), fd(3, "/etc/passwd", "file", "r")}},
		}}
}

func TestSnapshotJSON(t *testing.T) {
	b, err := json.Marshal(pipeline())
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"t_ms", "running", "stats", "procs"} {
		if _, ok := m[k]; !ok {
			t.Errorf("snapshot JSON lacks %q: %s", k, b)
		}
	}
	if got := m["stats"].(map[string]any)["cow_copies"]; got != 2.0 {
		t.Errorf("stats.cow_copies = %v, want 2", got)
	}
	yes := m["procs"].([]any)[1].(map[string]any)
	for k, want := range map[string]any{"pid": 2.0, "ppid": 1.0, "comm": "yes", "state": "R", "uid": 0.0} {
		if yes[k] != want {
			t.Errorf("procs[1].%s = %v, want %v", k, yes[k], want)
		}
	}
	f := yes["fds"].([]any)[0].(map[string]any)
	if f["fd"] != 1.0 || f["target"] != "pipe:[7]" || f["kind"] != "pipe" || f["mode"] != "w" {
		t.Errorf("fd JSON = %v", f)
	}
	if _, ok := f["cloexec"]; ok {
		t.Errorf("cloexec false should be left out: %v", f)
	}
	v := yes["vmas"].([]any)[0].(map[string]any)
	if v["start"] != "0x400000" || v["perms"] != "r-xp" || v["strip"] != "#" || v["resident"] != 1.0 {
		t.Errorf("vma JSON = %v", v)
	}
}

func TestResidencyStrip(t *testing.T) {
	const pg = 4096
	walk := func(pages map[uint64]bool) func(func(uint64, bool)) {
		return func(fn func(uint64, bool)) {
			for a, shared := range pages {
				fn(a, shared)
			}
		}
	}
	// 8 pages, 4 cells of 2: [none][half][full][shared].
	strip, res, shr := kernel.ResidencyStrip(0, 8*pg, 4, walk(map[uint64]bool{
		2 * pg: false, 4 * pg: false, 5 * pg: false, 7 * pg: true, 99 * pg: false}))
	if strip != ".-#s" || res != 4 || shr != 1 {
		t.Errorf("strip = %q resident %d shared %d, want \".-#s\" 4 1", strip, res, shr)
	}
	// Fewer pages than cells: one cell per page.
	if strip, _, _ := kernel.ResidencyStrip(pg, 3*pg, 64, walk(map[uint64]bool{pg: false})); strip != "#." {
		t.Errorf("2-page strip = %q, want \"#.\"", strip)
	}
	if strip, res, _ := kernel.ResidencyStrip(0, 0, 64, walk(nil)); strip != "" || res != 0 {
		t.Errorf("empty strip = %q %d", strip, res)
	}
}

func TestViewKeepsGoneProcesses(t *testing.T) {
	h := newHistory()
	v := h.merge(pipeline(), nil)
	if len(v.Pipes) != 1 || v.Pipes[0].Name != "pipe:[7]" ||
		len(v.Pipes[0].Writers) != 1 || v.Pipes[0].Writers[0] != (End{PID: 2, FD: 1}) ||
		len(v.Pipes[0].Readers) != 1 || v.Pipes[0].Readers[0] != (End{PID: 3, FD: 0}) {
		t.Fatalf("pipes = %+v", v.Pipes)
	}
	// yes and head exit; a short-lived pid 4 is seen only through events.
	ev := func(ms int, pid int, d string) trace.Event {
		return trace.Event{Kind: trace.Proc, Time: time.Duration(ms) * time.Millisecond, PID: pid, Detail: d}
	}
	h.apply([]trace.Event{
		ev(20, 2, "exit killed by signal 13"), ev(21, 3, "exit status 0"),
		ev(22, 1, "fork: child pid 4 (vfork)"), ev(23, 4, "exec /bin/true true --x"), ev(24, 4, "exit status 1"),
	})
	later := pipeline()
	later.TimeMS, later.Running = 30, false
	later.Procs = later.Procs[:1]
	later.Procs[0].State = "Z"
	v = h.merge(later, map[int]uint64{1: 5})
	if len(v.Procs) != 4 {
		t.Fatalf("procs = %+v", v.Procs)
	}
	sh, yes, tr := v.Procs[0], v.Procs[1], v.Procs[3]
	if sh.State != "Z" || len(sh.FDs) != 1 || sh.Syscalls != 5 {
		t.Errorf("zombie sh = %+v, want its last fds and 5 syscalls", sh)
	}
	if yes.State != "X" || yes.Exit != "killed by signal 13" || len(yes.FDs) != 1 || yes.SeenMS != 12.5 {
		t.Errorf("gone yes = %+v", yes)
	}
	if tr.PPID != 1 || tr.Comm != "true" || strings.Join(tr.Cmdline, " ") != "true --x" || tr.Exit != "status 1" {
		t.Errorf("event-only pid 4 = %+v", tr)
	}
	if len(v.Pipes) != 1 {
		t.Errorf("the gone processes' pipe should still be drawn: %+v", v.Pipes)
	}
	// A finished run's view stops changing.
	later.TimeMS = 99
	if v2 := h.merge(later, nil); v2.TimeMS != 30 {
		t.Errorf("time after exit = %v, want frozen at 30", v2.TimeMS)
	}
}

func TestEventLogRing(t *testing.T) {
	l := newEventLog()
	for i := 0; i < ringSize+10; i++ {
		k := trace.Fault
		if i%2 == 0 {
			k = trace.Syscall
		}
		l.add(&trace.Event{Kind: k, PID: 1 + i%3})
	}
	evs, next, lost := l.since(1, trace.Fault, 100)
	if lost != 10 || len(evs) != 100 || next != evs[99].Seq+1 || evs[0].Kind != "fault" {
		t.Errorf("since(1): %d events, next %d, lost %d", len(evs), next, lost)
	}
	if evs, _, _ := l.since(next, trace.Syscall, ringSize); len(evs) == 0 || evs[0].Nr == nil {
		t.Errorf("syscall events should carry nr: %+v", evs)
	}
	if c := l.syscallCounts(); c[1]+c[2]+c[3] != (ringSize+10)/2 {
		t.Errorf("syscall counts = %v", c)
	}
	if k := parseKinds("proc, syscall,bogus"); k != trace.Proc|trace.Syscall {
		t.Errorf("parseKinds = %v", k)
	}
}
