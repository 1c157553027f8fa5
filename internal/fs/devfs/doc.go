// Package devfs is the sandbox's /dev: the memory devices (null, zero,
// full, random, urandom) and the conventional links (fd, stdin, stdout,
// stderr) into /proc/self/fd, and the terminals: /dev/ptmx, /dev/pts/N
// and /dev/tty, whose pseudo-terminal pairs and controlling terminals
// belong to the tty package (one tty.Registry per /dev, given by the
// caller so glassbox can open a pty of its own in it), and /dev/console,
// which opens what the caller says (glassbox's own output).
//
// No locks of its own.
package devfs
