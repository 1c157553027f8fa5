// Package pipe implements Linux pipes: the anonymous pipes pipe(2) and
// pipe2(2) create and, later, the buffer behind a FIFO's opens.
//
// It owns a pipe's buffer (a ring of page-sized buffers, 16 pages by
// default, as Linux keeps it), its counts of open read and write ends (which
// give EOF and EPIPE their meaning), its inode attributes on the pipefs
// device, and the blocking rules of man 7 pipe: PIPE_BUF atomicity,
// O_NONBLOCK (EAGAIN), O_DIRECT packets, and waits that a signal
// interrupts (EINTR).
// Linux: fs/pipe.c.
//
// A Pipe has no ends of its own; Open adds one (an *End, the vfs.FileOps of
// one open file) and the end's Release removes it. NewFiles builds the two
// vfs.Files of pipe2. An End learns its vfs.File through SetFile so that it
// can read O_NONBLOCK and O_DIRECT, which F_SETFL may change at any time,
// from the file's status flags at the start of each read or write.
//
// Readiness for poll: Pipe.Readable, Pipe.Writable and End.Events say what
// would block; Pipe.Changed gives a channel closed on the next change.
//
// Splice (splice.go): splice, tee and sendfile move bytes between a pipe
// and another file without ever dropping one that the other side did not
// take. A splice out of a pipe claims its reading side (Pipe.rbusy) while
// the other file writes the bytes offered in place, then consumes only
// what was written; a splice into a pipe claims its writing side
// (Pipe.wbusy) while its source fills free slots. Readers wait while the
// reading side is claimed, writers while the writing side is, as Linux's
// readers and writers wait for the pipe mutex a splice holds.
//
// Hand-off (rw.go): a read(2) that waits on an empty pipe registers its
// buffer in Pipe.direct; a writer that finds the pipe empty with such a
// reader copies straight into its buffer (one copy instead of two), sets
// the count and takes it off the list, all under Pipe.mu, and only where
// Linux would end in the same state (handOffLocked says when). The reader
// returns that count even if it was interrupted meanwhile.
//
// Waiting: a task waits on its own vfs.Sleeper (its futex word), added to
// the pipe's Changes, which Notify wakes directly; other contexts wait on
// the Changes channel. Readers and writers poll Pipe.mu briefly before
// they block on it (Pipe.lock): its holder is copying.
//
// Lock order: Pipe.mu is a leaf (Notify's Sleeper.Wake takes no lock). The status flags are read (taking
// vfs.File's lock) before Pipe.mu is taken, never while it is held, and no
// lock is held while waiting. A claim is a flag under Pipe.mu, set and
// cleared by its holder only; waiting for one is interruptible. Claims go
// input side first: pipe-to-pipe takes the input's rbusy, then the
// output's wbusy only if it is free and has room (else it lets go of the
// input and waits with nothing claimed), so no claim waits for another in
// a cycle. A holder may block in the other file (a socket's send or
// receive) with its claim held, as Linux blocks holding the mutex.
package pipe
