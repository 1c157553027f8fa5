// Package userfaultfd implements userfaultfd(2) objects: page faults in
// registered ranges of an address space are handed to a user-space
// handler, which reads them as struct uffd_msg and resolves them with
// UFFDIO_COPY, UFFDIO_ZEROPAGE, UFFDIO_WAKE or UFFDIO_WRITEPROTECT.
// Linux: fs/userfaultfd.c, mm/userfaultfd.c; man 2 userfaultfd,
// man 2 ioctl_userfaultfd.
//
// mm keeps the registrations (VMA.Uffd, VMUffdMissing, VMUffdWP) and the
// uffd-wp bit of each page, and reports an access that must wait as an
// *mm.UserfaultError. The kernel then calls UFFD.Wait, which queues a
// message and sleeps.
//
// # Who blocks where
//
//   - A guest thread that faults on a missing page of a MISSING range, or
//     writes a uffd-wp page of a WP range, sleeps in Wait called from the
//     kernel's fault handler, holding no lock at all: mm has released
//     MM.mu before HandleFault returns. A wake (COPY, ZEROPAGE, WAKE,
//     WRITEPROTECT clearing, UNREGISTER, close) or any signal ends the
//     sleep and the guest retries the access (after the signal's handler,
//     or dies of a fatal one). The retry faults again if the page is
//     still missing, and queues a new message.
//   - A system call whose guest buffer meets such a page (read(2) into a
//     missing page) sleeps the same way from kernel.Task's CopyIn,
//     CopyOut, ReadString and Pin, then redoes the whole access; a signal
//     makes the access EFAULT, as copy_to_user fails on Linux.
//   - read(2) on the uffd sleeps in Read on UFFD.changes until a message
//     is pending.
//
// # Lost wake-ups
//
// mm reads Gen (an atomic counter) under MM.mu when it sees the page
// missing or protected. Every fill and unprotect changes the pages under
// MM.mu first and advances Gen after; every wake advances it too, under
// UFFD.mu. Wait compares the counter under UFFD.mu before it queues: if it
// moved, the page may have been provided already and the access is
// retried instead of sleeping. A fill after the comparison finds the
// waiter queued and wakes it.
//
// # Locks
//
// UFFD.mu is a leaf: nothing is locked while it is held, and it is never
// taken under MM.mu (mm only calls Gen, which takes no lock). The ioctls
// call mm (MM.mu) with UFFD.mu released.
package userfaultfd
