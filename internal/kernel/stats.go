package kernel

import (
	"sort"
	"sync/atomic"
	"time"

	"glassbox/internal/abi"
	"glassbox/internal/platform"
	"glassbox/internal/trace"
)

// Stats are sandbox-wide counters, kept for the whole run (per-address-
// space counters die with their address space).
type Stats struct {
	Syscalls    uint64 // syscalls answered (including unsupported ones)
	Faults      uint64 // page faults glassbox handled
	COWCopies   uint64 // pages copied on a write to a shared page
	Processes   uint64 // processes created (including the first)
	Threads     uint64 // threads created beyond each process's first
	MemPeakByte uint64 // most guest memory held in the memory file at once
	MajorFaults uint64 // faults that read pages back from swap
	// HostFileMaps counts runs of read-only file pages the host mapped
	// from the host file itself rather than from the memory file
	// (mm/hostfile.go).
	HostFileMaps uint64
	SwapOuts     uint64 // pages written to swap
	SwapIns      uint64 // pages read back from swap
	OOMKills     uint64 // processes the OOM killer ended
	// PatchedSites counts syscall sites patched (mm/patch.go);
	// PatchedCalls the syscalls that came through one.
	PatchedSites, PatchedCalls uint64
	// FutexSleeps counts futex waits that slept (were not answered at
	// once); FutexPolled those of them woken while polling (park.go).
	FutexSleeps, FutexPolled uint64
	Signals                  uint64 // signals acted on (handled, default action, ignored)
	// HandOff is the platform's count of hand-offs and spin probes
	// (zero when it keeps none).
	HandOff platform.HandOffStats
	// SignalsByName counts them by signal ("SIGCHLD": 3).
	SignalsByName map[string]uint64
	PipeBytes     uint64 // bytes written into pipes and FIFOs
	SocketBytes   uint64 // bytes sent on AF_UNIX sockets and loopback TCP
	Wall          time.Duration
	CPU           time.Duration // guest CPU time of every thread that has ended
	// Unsupported counts calls of syscalls glassbox lacks and of options
	// it does not support, by description ("syscall seccomp (317)",
	// "prctl option 22").
	Unsupported map[string]uint64
}

type kstats struct {
	syscalls, faults, cowCopies, processes, threads, signals, cpuNanos atomic.Uint64
	pipeBytes, socketBytes, majorFaults, oomKills, hostFileMaps        atomic.Uint64
	patchedSites, patchedCalls                                         atomic.Uint64
	futexSleeps, futexPolled                                           atomic.Uint64
	bySignal                                                           [abi.NSIG + 1]atomic.Uint64
}

// AccountIO implements vfs.IOAccount.
func (t *Task) AccountIO(pipe bool, n int) {
	if pipe {
		t.k.stats.pipeBytes.Add(uint64(n))
	} else {
		t.k.stats.socketBytes.Add(uint64(n))
	}
}

// Stats returns the counters so far.
func (k *Kernel) Stats() Stats {
	var ho platform.HandOffStats
	if c, ok := k.cfg.Platform.(platform.HandOffCounter); ok {
		ho = c.HandOffStats()
	}
	return Stats{
		HandOff:      ho,
		Syscalls:     k.stats.syscalls.Load(),
		Faults:       k.stats.faults.Load(),
		COWCopies:    k.stats.cowCopies.Load(),
		Processes:    k.stats.processes.Load(),
		Threads:      k.stats.threads.Load(),
		MemPeakByte:  k.cfg.MemFile.Stats().PeakInUse * 4096,
		MajorFaults:  k.stats.majorFaults.Load(),
		HostFileMaps: k.stats.hostFileMaps.Load(),
		OOMKills:     k.stats.oomKills.Load(),
		PatchedSites: k.stats.patchedSites.Load(),
		PatchedCalls: k.stats.patchedCalls.Load(),
		FutexSleeps:  k.stats.futexSleeps.Load(),
		FutexPolled:  k.stats.futexPolled.Load(),
		SwapOuts:     k.cfg.Swap.Stats().Outs,
		SwapIns:      k.cfg.Swap.Stats().Ins,
		Signals:      k.stats.signals.Load(),
		PipeBytes:    k.stats.pipeBytes.Load(),
		SocketBytes:  k.stats.socketBytes.Load(),
		SignalsByName: func() map[string]uint64 {
			m := map[string]uint64{}
			for sig := 1; sig <= abi.NSIG; sig++ {
				if n := k.stats.bySignal[sig].Load(); n > 0 {
					m[abi.SignalName(sig)] = n
				}
			}
			return m
		}(),
		Wall:        time.Since(k.start),
		CPU:         time.Duration(k.stats.cpuNanos.Load()),
		Unsupported: k.Unsupported(),
	}
}

// SyscallCount is one row of the per-syscall table (like strace -c).
type SyscallCount struct {
	Nr     int
	Name   string
	Calls  uint64
	Errors uint64
	Time   time.Duration
}

// perSyscall counts calls, errors and time per syscall number; only kept
// when Config.CountSyscalls is set (timing costs a clock read per call).
type perSyscall struct {
	calls, errors, nanos [MaxSyscall + 1]atomic.Uint64
}

func (p *perSyscall) add(nr int, err error, d time.Duration) {
	if nr < 0 || nr >= MaxSyscall {
		nr = MaxSyscall
	}
	p.calls[nr].Add(1)
	if err != nil && err != ErrNoReturn {
		p.errors[nr].Add(1)
	}
	p.nanos[nr].Add(uint64(d))
}

// SyscallCounts returns the per-syscall table, busiest first by time
// (empty unless Config.CountSyscalls).
func (k *Kernel) SyscallCounts() []SyscallCount {
	if k.perSyscall == nil {
		return nil
	}
	var out []SyscallCount
	for nr := 0; nr <= MaxSyscall; nr++ {
		p := k.perSyscall
		if c := p.calls[nr].Load(); c > 0 {
			name := "unknown"
			if nr < MaxSyscall {
				name = abi.SyscallName(nr)
			}
			out = append(out, SyscallCount{Nr: nr, Name: name, Calls: c, Errors: p.errors[nr].Load(),
				Time: time.Duration(p.nanos[nr].Load())})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Time != out[j].Time {
			return out[i].Time > out[j].Time
		}
		return out[i].Calls > out[j].Calls
	})
	return out
}

// NoteIO implements vfs.Noter: an fd event in the trace.
func (t *Task) NoteIO(detail string) {
	if tr := t.k.cfg.Tracer; tr.On(trace.FD) {
		tr.Emit(&trace.Event{Kind: trace.FD, PID: t.tg.pid, TID: t.tid, Detail: detail})
	}
}
