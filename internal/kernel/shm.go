package kernel

import (
	"sync"

	"golang.org/x/sys/unix"

	"glassbox/internal/ipc"
	"glassbox/internal/mm"
)

// IPC returns the sandbox's System V IPC namespace.
func (k *Kernel) IPC() *ipc.Namespace { return k.ipc }

// shmSegments lists the System V segments m maps, each once.
func shmSegments(m *mm.MM) []*ipc.Segment {
	if m == nil {
		return nil
	}
	var out []*ipc.Segment
	seen := map[*ipc.Segment]bool{}
	for _, v := range m.VMAs() {
		if s, ok := v.File.(*ipc.Segment); ok && !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

// noteShmFork records that fork copied the caller's attachments (the
// attach time and last pid are the parent's, as dup_mmap runs in it).
func (t *Task) noteShmFork(child *mm.MM) {
	for _, s := range shmSegments(child) {
		s.Attached(t.tg.pid)
	}
}

// noteShmDetach records the task's process as the last to use its
// segments before it drops its address space (exit, exec).
func (t *Task) noteShmDetach() {
	t.tg.mu.Lock()
	borrowed := t.tg.sharesVM
	t.tg.mu.Unlock()
	if borrowed {
		return // the parent's address space: it stays attached
	}
	for _, s := range shmSegments(t.mm) {
		s.Detaching(t.tg.pid)
	}
}

// SharedWritableMapped reports whether any address space maps obj shared
// and writable (F_SEAL_WRITE is then EBUSY).
func (k *Kernel) SharedWritableMapped(obj any) bool {
	k.mu.Lock()
	mms := map[*mm.MM]bool{}
	for _, t := range k.tasks {
		if m := t.memShared(); m != nil {
			mms[m] = true
		}
	}
	k.mu.Unlock()
	for m := range mms {
		for _, v := range m.VMAs() {
			if v.Shared && v.File == obj && v.Prot&unix.PROT_WRITE != 0 {
				return true
			}
		}
	}
	return false
}

// semUndo holds a process's SEM_UNDO list; CLONE_SYSVSEM shares it, and
// the last process to leave applies it. Linux: ipc/sem.c (copy_semundo, exit_sem)
type semUndo struct {
	mu    sync.Mutex
	list  *ipc.UndoList
	users int
	ns    *ipc.Namespace // the IPC namespace of its sets (nil: the sandbox's)
}

// SemUndo returns the process's undo list, made on first use.
func (tg *ThreadGroup) SemUndo() *ipc.UndoList {
	tg.mu.Lock()
	h := tg.semUndo
	tg.mu.Unlock()
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.list == nil {
		h.list = ipc.NewUndoList()
	}
	return h.list
}

// forkSemUndo gives a child the parent's list (CLONE_SYSVSEM) or its own.
func forkSemUndo(parent *semUndo, share bool) *semUndo {
	if !share || parent == nil {
		return &semUndo{users: 1}
	}
	parent.mu.Lock()
	parent.users++
	parent.mu.Unlock()
	return parent
}

// exitSemUndo applies the list when the last process sharing it ends.
func (tg *ThreadGroup) exitSemUndo() {
	tg.mu.Lock()
	h := tg.semUndo
	tg.mu.Unlock()
	if h == nil {
		return
	}
	h.mu.Lock()
	h.users--
	list := h.list
	last := h.users == 0
	h.mu.Unlock()
	if last && list != nil {
		ns := h.ns
		if ns == nil {
			ns = tg.k.ipc
		}
		ns.ExitUndo(list, tg.pid)
	}
}

// current is the list, nil until the process first uses SEM_UNDO.
func (h *semUndo) current() *ipc.UndoList {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.list
}
