package kernel

import (
	"os"
	"strconv"
	"strings"
	"sync"
	"unsafe"

	"golang.org/x/sys/unix"
)

// CPU affinity is recorded per task and inherited by clone and fork, as
// Linux keeps it; guest threads still run where the host schedules them
// (each tracer is pinned with its stub). The set a guest can name is the
// host's: the CPUs glassbox itself may run on, the host's cpumask size
// and CPU id limit. Linux: kernel/sched/syscalls.c (sched_setaffinity,
// sched_getaffinity)

// cpuSet is a CPU mask, bit i for CPU i.
type cpuSet = unix.CPUSet

var (
	// hostAffinity is the CPU set glassbox started with, which a native
	// process started in its place would inherit.
	hostAffinity unix.CPUSet
	// cpumaskSize is the host kernel's cpumask_size(): the bytes
	// sched_getaffinity copies out.
	cpumaskSize = 8
	// nrCPUIDs is the host's nr_cpu_ids: one past the highest possible
	// CPU (read when first needed: nothing changes it).
	nrCPUIDs = sync.OnceValue(readNrCPUIDs)
)

// Measured at start, before any thread is pinned.
func init() {
	r, _, errno := unix.RawSyscall(unix.SYS_SCHED_GETAFFINITY, 0, unsafe.Sizeof(hostAffinity),
		uintptr(unsafe.Pointer(&hostAffinity)))
	if errno == 0 {
		cpumaskSize = int(r)
	} else {
		hostAffinity.Zero()
		hostAffinity.Set(0)
	}
}

func readNrCPUIDs() int {
	if b, err := os.ReadFile("/sys/devices/system/cpu/possible"); err == nil {
		s := strings.TrimSpace(string(b))
		if i := strings.LastIndexAny(s, ",-"); i >= 0 {
			s = s[i+1:]
		}
		if n, err := strconv.Atoi(s); err == nil {
			return n + 1
		}
	}
	return max(1, hostAffinity.Count())
}

// CPUMaskSize returns the size of a CPU mask as the host kernel copies it.
func CPUMaskSize() int { return cpumaskSize }

// NrCPUIDs returns one past the highest CPU id the host may have.
func NrCPUIDs() int { return nrCPUIDs() }

// Affinity returns the task's CPU set, restricted to the CPUs it may use.
func (t *Task) Affinity() unix.CPUSet {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.affinity == nil {
		return hostAffinity
	}
	return *t.affinity
}

// SetAffinity restricts the task to the CPUs of s the host offers; a set
// with none of them is EINVAL.
func (t *Task) SetAffinity(s unix.CPUSet) error {
	for i := range s {
		s[i] &= hostAffinity[i]
	}
	if s.Count() == 0 {
		return unix.EINVAL
	}
	t.mu.Lock()
	t.affinity = &s
	t.mu.Unlock()
	return nil
}
