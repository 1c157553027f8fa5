package procfs

import (
	"testing"

	"golang.org/x/sys/unix"

	"glassbox/internal/fs/synth"
	"glassbox/internal/vfs"
)

type fakeProc struct {
	Process // unused methods
	id, uid int
}

func (p fakeProc) UID() uint32 { return uint32(p.uid) }
func (p fakeProc) GID() uint32 { return 0 }

type fakeSource struct {
	Source // unused methods
	procs  map[int]fakeProc
}

func (s fakeSource) Process(pid int) Process {
	if p, ok := s.procs[pid]; ok {
		return p
	}
	return nil
}

// A /proc/PID directory is kept while its process lives with the same
// owner; a new process under a reused pid, or a new owner, gets a new one;
// directories of processes that are gone are dropped.
func TestPIDCache(t *testing.T) {
	src := fakeSource{procs: map[int]fakeProc{}}
	var c pidCache
	made := 0
	mk := func(Process) vfs.Inode {
		made++
		return &synth.Dir{Attr: synth.NewAttr(Dev, unix.S_IFDIR|0o555)}
	}
	src.procs[7] = fakeProc{id: 1}
	d := c.get(src, 7, mk)
	if d == nil || c.get(src, 7, mk) != d || made != 1 {
		t.Fatalf("second lookup made a new directory (made %d)", made)
	}
	src.procs[7] = fakeProc{id: 1, uid: 1000}
	if d2 := c.get(src, 7, mk); d2 == d || made != 2 {
		t.Errorf("new owner: same directory (made %d)", made)
	}
	src.procs[7] = fakeProc{id: 2, uid: 1000}
	if d3 := c.get(src, 7, mk); made != 3 || d3 == d {
		t.Errorf("reused pid: same directory (made %d)", made)
	}
	delete(src.procs, 7)
	if c.get(src, 7, mk) != nil {
		t.Error("a gone process has a directory")
	}
	for pid := 100; pid < 200; pid++ {
		src.procs[pid] = fakeProc{id: pid}
		c.get(src, pid, mk)
		delete(src.procs, pid)
	}
	if len(c.m) > 64 {
		t.Errorf("%d directories kept for 100 processes that are gone", len(c.m))
	}
}
