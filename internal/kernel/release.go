package kernel

import "glassbox/internal/mm"

// releaseMemory lets go of the exiting task's stub thread and address
// space. The stub thread goes at once (for the address space's last
// thread the platform ends the stub: no guest code of it runs again, and
// its frames may be reused, mm's invariant 2). Freeing the address
// space's frames takes long for a large one (a child that wrote 256 MiB:
// every frame punched out of the memory file, 85-160 ms here), so when no
// other object's lock is involved (mm.ReleasesAlone) the last user's drop
// goes on in the background and the parent hears of the exit without
// waiting for it. Linux frees the memory before it tells the parent
// (exit_mm before exit_notify); what can tell the difference is the
// memory bound, so until the frames are freed an allocation at the bound
// waits for them (memfile.BeginRelease) instead of failing, swapping or
// killing. The sandbox's end waits for them too (Kernel.running).
// Address spaces whose release takes other objects' locks (shared
// mappings write back, shmem objects count their mappers) are released
// at once, so that an allocator waiting under such a lock never waits
// for them.
// Linux: kernel/exit.c (do_exit: exit_mm, then exit_notify)
func (t *Task) releaseMemory() { t.dropSpace(false) }

// dropSpace is releaseMemory for exit, and for exec (execing) past its
// point of no return, which lets go of the old image's thread and address
// space the same way and records the old image's peak resident set.
func (t *Task) dropSpace(execing bool) {
	th, m := t.thread, t.mm
	if th != nil {
		// exec takes the thread out of the task before it lets go of it,
		// exit after (the order each had before this was shared).
		if execing {
			t.setThread(nil)
			th.Release()
		} else {
			th.Release()
			t.setThread(nil)
		}
	}
	if m == nil {
		return
	}
	t.noteShmDetach()
	if execing {
		t.tg.noteMaxRSS(m)
	}
	t.setMM(nil)
	if th != nil && m.ReleasesAlone() {
		if !execing && t.k.leftToExit(t.tg) {
			return
		}
		t.k.dropLater(m)
		return
	}
	m.DropUser()
}

// leftToExit reports whether the exiting process tg's address space may
// keep its frames: it is the first process, its exit ends the sandbox,
// and the host process exits after (Config.ExitFreesMemory). Only an
// address space that releases alone qualifies: nothing but its frames
// (no shared mapping to write back, no mapper count) waits on its release.
func (k *Kernel) leftToExit(tg *ThreadGroup) bool {
	if !k.cfg.ExitFreesMemory {
		return false
	}
	k.mu.Lock()
	isInit := tg == k.init
	k.mu.Unlock()
	if !isInit {
		return false
	}
	tg.mu.Lock()
	defer tg.mu.Unlock()
	return tg.exited
}

// dropLater drops m's user on a goroutine of its own, counted in
// k.running so that the sandbox's end waits for it. The caller's own task
// goroutine is still counted there.
func (k *Kernel) dropLater(m *mm.MM) {
	k.running.Add(1)
	mf := k.cfg.MemFile
	if mf != nil {
		mf.BeginRelease()
	}
	go func() {
		defer k.running.Done()
		m.DropUser()
		if mf != nil {
			mf.EndRelease()
		}
	}()
}
