package vfs

import (
	"sync"

	"golang.org/x/sys/unix"
)

type fdEntry struct {
	f       *File
	cloexec bool
}

// FDTable is a process's file descriptor table (shared by CLONE_FILES).
type FDTable struct {
	mu  sync.Mutex
	fds []fdEntry
}

// NewFDTable returns an empty table.
func NewFDTable() *FDTable { return &FDTable{} }

// Get returns the file at fd with a new reference (the caller drops it).
func (t *FDTable) Get(fd int) (*File, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if fd < 0 || fd >= len(t.fds) || t.fds[fd].f == nil {
		return nil, unix.EBADF
	}
	f := t.fds[fd].f
	f.IncRef()
	return f, nil
}

// Install puts f (whose reference the table takes) at the lowest free
// descriptor >= min, below limit.
func (t *FDTable) Install(f *File, min int, cloexec bool, limit int) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	fd := min
	for ; fd < len(t.fds); fd++ {
		if t.fds[fd].f == nil {
			break
		}
	}
	if fd >= limit {
		return -1, unix.EMFILE
	}
	t.grow(fd)
	t.fds[fd] = fdEntry{f, cloexec}
	return fd, nil
}

// HasFree reports whether a descriptor below limit is free.
func (t *FDTable) HasFree(limit int) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	for fd := 0; fd < len(t.fds) && fd < limit; fd++ {
		if t.fds[fd].f == nil {
			return true
		}
	}
	return len(t.fds) < limit
}

// MaxFDs is the size Linux's table would have: 64 descriptors, doubled
// as often as the highest descriptor ever installed needs (select(2)
// looks no further). Linux: fs/file.c (alloc_fdtable)
func (t *FDTable) MaxFDs() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := 64
	for n < len(t.fds) {
		n *= 2
	}
	return n
}

func (t *FDTable) grow(fd int) {
	for len(t.fds) <= fd {
		t.fds = append(t.fds, fdEntry{})
	}
}

// InstallAt puts f at fd, closing what was there (dup2/dup3).
func (t *FDTable) InstallAt(fd int, f *File, cloexec bool, limit int) error {
	if fd < 0 || fd >= limit {
		return unix.EBADF
	}
	t.mu.Lock()
	t.grow(fd)
	old := t.fds[fd].f
	t.fds[fd] = fdEntry{f, cloexec}
	t.mu.Unlock()
	if old != nil {
		old.DecRef()
	}
	return nil
}

// Close removes fd.
func (t *FDTable) Close(fd int) error {
	t.mu.Lock()
	if fd < 0 || fd >= len(t.fds) || t.fds[fd].f == nil {
		t.mu.Unlock()
		return unix.EBADF
	}
	f := t.fds[fd].f
	t.fds[fd] = fdEntry{}
	t.mu.Unlock()
	f.DecRef()
	return nil
}

// CloseOnExec reports fd's FD_CLOEXEC flag.
func (t *FDTable) CloseOnExec(fd int) (bool, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if fd < 0 || fd >= len(t.fds) || t.fds[fd].f == nil {
		return false, unix.EBADF
	}
	return t.fds[fd].cloexec, nil
}

// SetCloseOnExec sets fd's FD_CLOEXEC flag.
func (t *FDTable) SetCloseOnExec(fd int, on bool) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if fd < 0 || fd >= len(t.fds) || t.fds[fd].f == nil {
		return unix.EBADF
	}
	t.fds[fd].cloexec = on
	return nil
}

// Fork returns a copy sharing the same open files.
func (t *FDTable) Fork() *FDTable {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := &FDTable{fds: make([]fdEntry, len(t.fds))}
	copy(n.fds, t.fds)
	for _, e := range n.fds {
		if e.f != nil {
			e.f.IncRef()
		}
	}
	return n
}

// ExecClose closes every close-on-exec descriptor of process pid; its
// POSIX locks on those files go with them, as with close(2).
// Linux: fs/file.c (do_close_on_exec → filp_close → locks_remove_posix)
func (t *FDTable) ExecClose(pid int) {
	t.mu.Lock()
	var drop []*File
	for i, e := range t.fds {
		if e.f != nil && e.cloexec {
			drop = append(drop, e.f)
			t.fds[i] = fdEntry{}
		}
	}
	t.mu.Unlock()
	for _, f := range drop {
		ReleasePOSIX(f, pid)
		f.DecRef()
	}
}

// CloseAll empties the table (process exit).
func (t *FDTable) CloseAll() {
	t.mu.Lock()
	fds := t.fds
	t.fds = nil
	t.mu.Unlock()
	for _, e := range fds {
		if e.f != nil {
			e.f.DecRef()
		}
	}
}

// FDs lists the open descriptors in order, for /proc/PID/fd.
func (t *FDTable) FDs() []int {
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []int
	for i, e := range t.fds {
		if e.f != nil {
			out = append(out, i)
		}
	}
	return out
}
