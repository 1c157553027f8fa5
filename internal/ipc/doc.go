// Package ipc owns the System V IPC namespace of a sandbox; so far its
// shared memory segments (shmget, shmat, shmdt, shmctl) and their
// /proc/sysvipc files. Linux: ipc/shm.c, ipc/util.c
//
// A Segment is an mm.Shmem with the IPC attributes around it. It is itself
// the mm.Mappable of every attachment, and counts them the way Linux
// counts shm_nattch: one per VMA that maps it (mm calls IncRef when a VMA
// is copied by fork or split, DecRef when one is unmapped, including at
// exit and exec). shmat takes the reference the new VMA owns. A segment
// marked for removal (IPC_RMID) loses its key at once and is destroyed
// when the last VMA goes.
//
// Lock order: mm.MM.mu → Namespace.mu → mm.Shmem.mu → memfile. Nothing
// here takes an MM's lock while holding Namespace.mu.
package ipc
