package kernel

import "sync/atomic"

// Stats are sandbox-wide counters, kept for the whole run (per-address-
// space counters die with their address space).
type Stats struct {
	Syscalls    uint64 // syscalls answered (including unsupported ones)
	Faults      uint64 // page faults glassbox handled
	COWCopies   uint64 // pages copied on a write to a shared page
	Processes   uint64 // processes created (including the first)
	Threads     uint64 // threads created beyond each process's first
	MemPeakByte uint64 // most guest memory held in the memory file at once
}

type kstats struct {
	syscalls, faults, cowCopies, processes, threads atomic.Uint64
}

// Stats returns the counters so far.
func (k *Kernel) Stats() Stats {
	return Stats{
		Syscalls:    k.stats.syscalls.Load(),
		Faults:      k.stats.faults.Load(),
		COWCopies:   k.stats.cowCopies.Load(),
		Processes:   k.stats.processes.Load(),
		Threads:     k.stats.threads.Load(),
		MemPeakByte: k.cfg.MemFile.Stats().PeakInUse * 4096,
	}
}
