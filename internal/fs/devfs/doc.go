// Package devfs is the sandbox's /dev: the memory devices (null, zero,
// full, random, urandom) and the conventional links (fd, stdin, stdout,
// stderr) into /proc/self/fd. Terminals and pseudo-terminals join it with
// the tty work.
//
// No locks of its own.
package devfs
