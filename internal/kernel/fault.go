package kernel

import (
	"errors"
	"fmt"

	"golang.org/x/sys/unix"

	"glassbox/internal/abi"
	"glassbox/internal/memfile"
	"glassbox/internal/platform"
	"glassbox/internal/trace"
)

// fault handles a page fault the host could not satisfy.
func (t *Task) fault(ev platform.Event) {
	t.lastFault.addr, t.lastFault.write = ev.Addr, ev.Write
	exec := ev.Addr == t.regs.Rip
	res, err := t.mm.HandleFault(t.thread, ev.Addr, ev.Code, exec, ev.Write)
	t.k.stats.faults.Add(1)
	if uf := res.Userfault; uf != nil {
		// userfaultfd: wait for the handler with no mm lock held, then
		// let the guest retry the access (after any signal's handler).
		// Linux: fs/userfaultfd.c (handle_userfault)
		if uf.Ctx.Wait(uf, t.VPID(t.tid), true, t) == unix.EFAULT {
			t.syncSignal(abi.SIGBUS, abi.BUS_ADRERR, ev.Addr)
		}
		return
	}
	if res.COW > 0 {
		t.k.stats.cowCopies.Add(uint64(res.COW))
	}
	if res.Major {
		t.k.stats.majorFaults.Add(1)
	}
	if res.HostFileMaps > 0 {
		t.k.stats.hostFileMaps.Add(res.HostFileMaps)
	}
	if errors.Is(err, memfile.ErrLimit) {
		// No memory, even after reclaim: kill someone, then let the
		// guest touch the page again (or die).
		t.oom()
		return
	}
	if err != nil {
		t.k.Logf("pid %d: fault at %#x: %v", t.tid, ev.Addr, err)
		t.syncSignal(abi.SIGBUS, abi.BUS_ADRERR, ev.Addr)
		return
	}
	if tr := t.k.cfg.Tracer; tr != nil {
		if res.COW > 0 && tr.On(trace.COW) {
			what := fmt.Sprintf("copy page %#x on write", res.COWAt)
			if res.COW > 1 {
				what = fmt.Sprintf("copy %d pages from %#x on write", res.COW, res.COWAt)
			}
			tr.Emit(&trace.Event{Kind: trace.COW, PID: t.tg.pid, TID: t.tid, Addr: res.COWAt, Detail: what, Pages: res.COW})
		}
		if res.Out > 0 && tr.On(trace.Mem) {
			tr.Emit(&trace.Event{Kind: trace.Mem, PID: t.tg.pid, TID: t.tid, Addr: ev.Addr,
				Detail: fmt.Sprintf("at the memory limit: wrote %d pages to swap and unmapped them", res.Out)})
		}
		if tr.On(trace.Fault) {
			what := "mapped"
			if res.HostFileMaps > 0 {
				what = fmt.Sprintf("mapped from the host file (%d runs)", res.HostFileMaps)
			}
			if res.Major {
				what = "read back from swap (major fault)"
			}
			if res.Signo != 0 {
				what = abi.SignalName(res.Signo)
			}
			tr.Emit(&trace.Event{Kind: trace.Fault, PID: t.tg.pid, TID: t.tid, Addr: ev.Addr,
				Detail: fmt.Sprintf("%s at %#x (rip %#x) in %s: %s", res.Access, ev.Addr, t.regs.Rip, t.mm.NameAt(ev.Addr), what)})
		}
	}
	if res.Signo != 0 {
		t.syncSignal(res.Signo, res.Code, ev.Addr)
	}
}
