package kernel

import (
	"glassbox/internal/mm"
	"glassbox/internal/platform"
)

// releaseMemory lets go of the exiting task's stub thread and address
// space. When it is the last thread of its stub, the stub's host process
// must be reaped before the address space's frames may be freed (mm's
// invariant 2), and for a large address space both take long: the host
// tears down the stub's page tables, and every frame is punched out of the
// memory file (a child that wrote 256 MiB: tens of milliseconds each).
// Where the platform can split its release (platform.AsyncReleaser), the
// stub is killed here — no guest code of the address space runs again —
// and the reaping and freeing go on in the background, so that the
// parent hears of the exit without waiting for them. Linux frees the
// memory before it tells the parent (exit_mm before exit_notify); what
// can tell the difference is the memory bound, so until the frames are
// freed an allocation at the limit waits for them (memfile.BeginRelease)
// instead of failing, swapping or killing. The sandbox's end waits for
// them too (Kernel.running). Address spaces whose release takes other
// objects' locks (mm.ReleasesAlone: shared mappings write back, shmem
// objects count their mappers) are released at once, so that an
// allocator waiting under such a lock never waits for them.
// Linux: kernel/exit.c (do_exit: exit_mm, then exit_notify)
func (t *Task) releaseMemory() { t.dropSpace(false) }

// dropSpace is releaseMemory for exit, and for exec (execing) past its
// point of no return, which lets go of the old image's thread and address
// space the same way and records the old image's peak resident set.
func (t *Task) dropSpace(execing bool) {
	th, m := t.thread, t.mm
	var reap func()
	if th != nil {
		if ar, ok := th.(platform.AsyncReleaser); ok && (m == nil || m.ReleasesAlone()) {
			reap = ar.ReleaseAsync()
		} else {
			th.Release()
		}
		t.setThread(nil)
	}
	if m != nil {
		t.noteShmDetach()
		if execing {
			t.tg.noteMaxRSS(m)
		}
		t.setMM(nil)
	}
	if reap == nil {
		if m != nil {
			m.DropUser()
		}
		return
	}
	t.k.releaseLater(reap, m)
}

// releaseLater runs reap and then drops m's user (nil: none) on a
// goroutine of its own, counted in k.running so that the sandbox's end
// waits for it. The caller's own task goroutine is still counted there.
func (k *Kernel) releaseLater(reap func(), m *mm.MM) {
	k.running.Add(1)
	mf := k.cfg.MemFile
	if mf != nil {
		mf.BeginRelease()
	}
	go func() {
		defer k.running.Done()
		reap()
		if m != nil {
			m.DropUser()
		}
		if mf != nil {
			mf.EndRelease()
		}
	}()
}
