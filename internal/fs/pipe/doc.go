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
// Lock order: Pipe.mu is a leaf. The status flags are read (taking
// vfs.File's lock) before Pipe.mu is taken, never while it is held, and no
// lock is held while waiting.
package pipe
