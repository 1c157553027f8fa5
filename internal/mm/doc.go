// Package mm owns guest address spaces: the VMAs a guest asked for (mmap,
// brk, the loader) kept apart from the mappings that back them right now
// (which memory-file frame backs which guest page, and whether the host has
// that page mapped in the stub, and with what protection).
//
// mmap only records a VMA. The first touch faults; HandleFault assigns
// frames for a whole window around the address (2 MiB for anonymous memory,
// 256 KiB for files) and maps the contiguous run around the fault with one
// host mmap, so the host satisfies later touches of that run without a trap
// (for a guest touching fresh anonymous memory in order, the host is asked
// to fill in its page tables for the run in that call too:
// platform.PopulateMapper). Private pages whose frame has more than one
// reference are mapped read-only; a write fault copies the page, and for a
// sequential writer a run after it, with one pwritev into the memory file
// (cow.go), or takes it over if its last other user is gone. The first
// touch of a small data segment of a file nothing can change copies the
// whole segment at once (dataRun). File pages come from per-file caches
// (FileCache, Shmem) through the Mappable interface, so ten processes
// mapping libc share one copy.
//
// At the sandbox's memory limit, faults reclaim by swapping out private
// pages to a Swap area (reclaim.go, swap.go); a swapped page's pte holds
// its slot instead of a frame.
//
// Every change to host mappings goes through a platform.Mapper supplied by
// the caller: in the ptrace platform only the task's own stub thread can
// change its stub's mappings; in the seccomp platform the stub's syscall
// thread does, on a request of one of the address space's threads.
//
// Objects shrinking or losing pages call Invalidate (invalidate.go), which
// has every live address space drop those pages before its tasks next run
// the guest. VMA flags (advice.go) carry madvise and mlock state; mincore,
// smaps and pagemap read the page table (residency.go).
//
// # Invariants under concurrency
//
// An address space is shared by the tasks (guest threads) of one process,
// each running guest code on its own stub thread while others fault, make
// system calls, fork or unmap. These hold at all times:
//
//  1. Who changes host mappings. A stub's host mappings change only under
//     MM.mu, through the Mapper of a live thread of that same address space
//     (any one of them: the stub threads share one host address space).
//     Code that has no such thread (mp == nil: process_vm_writev from
//     another process, Invalidate from a truncating one) only records the
//     change (stale pages, pending ranges) and the owner's own threads apply
//     it before they next run guest code. The page table's pteMapped and
//     pteMapW bits say what the host maps; they change together with the
//     host mapping, under MM.mu. The host never grants a page more than
//     its VMA's protection: an mprotect that only takes rights away lowers
//     the host's mappings in place (protectHost), any other unmaps them.
//
//  2. When a frame may be reused. A frame is freed only when its reference
//     count is zero and it is not pinned. Every pte that names a frame holds
//     one reference, and so does every host mapping of it: code that points
//     a pte at a new frame (a COW copy, breakCOW, a stale page) drops the
//     old frame's reference only after the host mapping of the old frame is
//     gone (replaced by MAP_FIXED or unmapped). Until then another thread of
//     this address space may still read it, so it must not be handed to
//     anyone else. dropPages unmaps before it releases; Release runs only
//     after the last stub thread is gone: released by the platform, after
//     which no instruction of the address space runs again (on the seccomp
//     platform every other thread of the stub then waits in the handler or
//     has exited, and the stub is SIGKILLed; the host drops its mappings
//     as it dies, which may be after Release).
//
//  3. What a fault re-checks. The host reports a fault, then the task takes
//     MM.mu: in between, other threads may have mapped the page, copied it
//     on write, unmapped it or changed its protection. HandleFault therefore
//     decides from the VMA and pte as they are under the lock: no VMA →
//     SIGSEGV; the pte already allows the access (mapped, or mapped
//     writable for a write) → the fault was spurious, the page is mapped
//     again as the pte says and the access is retried; mapped read-only in
//     a writable private VMA → copy on write (or reuse when this address
//     space is the frame's only holder).
//
//  4. What fork snapshots. Fork runs under the parent's MM.mu: the child's
//     ptes name the parent's frames (one more reference each) and the
//     parent's writable host mappings of private pages are write-protected
//     before MM.mu is released, so from then on neither side can write a
//     shared frame without a fault that copies it. A private page pinned
//     for I/O (a read(2) blocked in another thread will still write into
//     its frame) is copied into the child at once and stays the parent's,
//     writable: the data it receives later belongs to the parent.
//
//  5. Kernel accesses. CopyIn/CopyOut hold MM.mu for the whole copy and
//     break COW before writing; Pin does the same for I/O that outlives the
//     lock, and the pinned frame stays allocated until Unpin.
//
//  6. userfaultfd (userfault.go). A VMA registered with a context
//     (VMA.Uffd, VMUffdMissing, VMUffdWP) makes a touch of a page with
//     neither frame nor swap entry, or a write to a page with pteUffdWP,
//     an access that must wait: HandleFault reports it in
//     FaultResult.Userfault, and prepare (CopyIn, CopyOut, Pin) returns
//     it as a *UserfaultError. Either way m.mu is released before the
//     caller sleeps on the context: no mm lock is ever held while a task
//     waits for a userfaultfd handler, so the handler's UFFDIO_COPY (which
//     takes m.mu) can always proceed. mm reads the context's Gen under
//     m.mu when it sees the page missing; fills (UffdFill) change the pte
//     under m.mu before the context advances Gen, so a waiter that finds
//     Gen unchanged is sure to be woken by the next fill's wake. Pages
//     with pteUffdWP are never host-mapped writable (hostProt, reuseRun,
//     copyRun and ownPage check it); a fault window never fills pages of
//     a MISSING VMA beyond the faulting one. Fork drops registrations and
//     uffd-wp bits in the child. mm takes no lock of the context's.
//
//  7. Patched syscall sites (patch.go). A site is patched and restored
//     with one aligned 8-byte store, under MM.mu, in a page that is the
//     address space's own; its record (original bytes, entry) changes only
//     under MM.mu. No path may write a patched page's bytes, or move them,
//     without restoring its sites first (Mprotect adding PROT_WRITE,
//     remote writes, mremap); paths that drop the page drop the records.
//     Entries are never reused, and the region's frames live until
//     Release.
//
//  8. Host-file mappings (hostfile.go). Where the Mapper is a
//     platform.HostFileMapper, a read or exec fault (SEGV_MAPERR) at a
//     page with no pte (no frame, no swap entry) in a private VMA whose
//     protection is within PROT_READ|PROT_EXEC, with no userfaultfd and no
//     mlock, of a Mappable that names a host file nothing in the sandbox
//     can write (HostFiler: a FileCache of a read-only hostfs) has the
//     host map every pte-less run of the VMA below the file's end from
//     that file, private and read-only, and so of the VMAs of the same
//     object next to it that qualify too (an ELF object's segments). MM.hostFiles records those ranges;
//     it changes only under MM.mu, together with the host mapping: the
//     fault adds them, and every path that removes or replaces host
//     mappings takes its range out (unmapHost: munmap, MAP_FIXED, mremap,
//     an mprotect that adds a right, MADV_DONTNEED, invalidation,
//     swap-out; an mprotect that only takes rights away keeps the range,
//     lowered in the host: protectHost; hostMapFill: a frame
//     mapped with MAP_FIXED over a page; ownPage: a page about to be
//     written through its own frame, whose host-file page is replaced or,
//     with no Mapper, queued for the owner to unmap as a stale page). Such
//     pages have no pteMapped bit, so no path may assume that a page with
//     no pte (or a pte without pteMapped) has nothing mapped by the host.
//     A page in a range may have a frame (a kernel read filled it, or a
//     fault window did) only as long as that frame holds the file's bytes:
//     whatever writes a frame of this address space goes through ownPage
//     or a writable VMA first. Fork gives the child no ranges: its stub is
//     new, and its pages fault and are mapped again. These pages are the
//     host's page cache, not the sandbox's frames: they count in no frame
//     total, Rss or memory bound (mincore reports them resident).
//
// Lock order: MM.mu, then FileCache.mu / Shmem.mu / Swap.mu / a file system's
// page-cache lock, then memfile.File.mu. live (the registry of address
// spaces) is a leaf: nothing is locked while it is held. Invalidate must
// be called without an object's lock.
package mm
