// Package mm owns guest address spaces: the VMAs a guest asked for (mmap,
// brk, the loader) kept apart from the mappings that back them right now
// (which memory-file frame backs which guest page, and whether the host has
// that page mapped in the stub, and with what protection).
//
// mmap only records a VMA. The first touch faults; HandleFault assigns
// frames for a whole window around the address (2 MiB for anonymous memory,
// 256 KiB for files) and maps the contiguous run around the fault with one
// host mmap, so the host satisfies later touches of that run without a trap.
// Private pages whose frame has more than one reference are mapped
// read-only; a write fault copies the page (or takes it over if its last
// other user is gone). File pages come from per-file caches (FileCache,
// Shmem) through the Mappable interface, so ten processes mapping libc share
// one copy.
//
// At the sandbox's memory limit, faults reclaim by swapping out private
// pages to a Swap area (reclaim.go, swap.go); a swapped page's pte holds
// its slot instead of a frame.
//
// Every change to host mappings goes through a platform.Mapper supplied by
// the caller: in the ptrace platform only the task's own stub thread can
// change its stub's mappings.
//
// Objects shrinking or losing pages call Invalidate (invalidate.go), which
// has every live address space drop those pages before its tasks next run
// the guest. VMA flags (advice.go) carry madvise and mlock state; mincore,
// smaps and pagemap read the page table (residency.go).
//
// Lock order: MM.mu, then FileCache.mu / Shmem.mu / Swap.mu / a file system's
// page-cache lock, then memfile.File.mu. live (the registry of address
// spaces) is a leaf: nothing is locked while it is held. Invalidate must
// be called without an object's lock.
package mm
