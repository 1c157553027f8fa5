// Package devfs is the sandbox's /dev: the memory devices (null, zero,
// full, random, urandom) and the conventional links (fd, stdin, stdout,
// stderr) into /proc/self/fd, and the terminals: /dev/ptmx, /dev/pts/N
// and /dev/tty, whose pseudo-terminal pairs and controlling terminals
// belong to the tty package (one tty.Registry per /dev).
//
// No locks of its own.
package devfs
