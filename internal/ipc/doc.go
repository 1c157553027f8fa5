// Package ipc owns the System V IPC namespace of a sandbox: shared memory
// segments (shmget, shmat, shmdt, shmctl), message queues (msgget,
// msgsnd, msgrcv, msgctl), semaphore sets (semget, semop, semtimedop,
// semctl) and their /proc/sysvipc files. Linux: ipc/shm.c, ipc/msg.c,
// ipc/sem.c, ipc/util.c
//
// A Segment is an mm.Shmem with the IPC attributes around it. It is itself
// the mm.Mappable of every attachment, and counts them the way Linux
// counts shm_nattch: one per VMA that maps it (mm calls IncRef when a VMA
// is copied by fork or split, DecRef when one is unmapped, including at
// exit and exec). shmat takes the reference the new VMA owns. A segment
// marked for removal (IPC_RMID) loses its key at once and is destroyed
// when the last VMA goes.
//
// Message queues and semaphore sets each have their own ids (idSet) and
// their own lock (msgNS.mu, semNS.mu) guarding every queue, set, waiter
// and undo list of that kind. A blocked msgrcv, msgsnd or semop queues a
// waiter with a channel, drops the lock and sleeps on that channel and
// the caller's interrupt; whoever makes progress possible does the work
// for the waiter under the lock (hands over the message, performs the
// semaphore operations) and closes the channel. A waiter that gives up
// (signal, timeout) takes the lock again and either finds its channel
// closed (the work was done: that result counts) or removes itself. No
// goroutine is started; a semtimedop's timer is stopped on return.
//
// A process's SEM_UNDO list (UndoList) belongs to the kernel's process,
// which calls ExitUndo when its last user ends.
//
// Lock order: mm.MM.mu → Namespace.mu → mm.Shmem.mu → memfile. msgNS.mu
// and semNS.mu are leaves. Nothing here takes an MM's lock while holding
// a namespace lock.
package ipc
