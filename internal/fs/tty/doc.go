// Package tty implements the sandbox's terminals: Unix 98 pseudo-terminal
// pairs (/dev/ptmx opens a master, /dev/pts/N its slave) with the N_TTY
// line discipline (canonical editing, echo, CR/NL translations, signal
// characters, VMIN/VTIME), termios and window size, the foreground
// process group and the controlling terminal of a session (/dev/tty).
// Linux: drivers/tty/pty.c, drivers/tty/n_tty.c, drivers/tty/tty_io.c,
// drivers/tty/tty_jobctrl.c.
//
// Ownership: a Registry (one per /dev) owns the table of pty numbers and
// the map from session id to controlling terminal. A TTY (one pty pair)
// owns its termios, window size, input queue (master writes, slave
// reads), output queue (slave writes, master reads), open counts, lock
// state, foreground group and session. Process groups, sessions and
// signal delivery belong to the kernel, reached through the Sessions
// interface, which the caller's vfs.Ctx provides (so this package never
// imports the kernel).
//
// glassbox opens a pair of its own (host.go) to stand for the host
// terminal it runs on (package hostterm copies between them), and the
// kernel tells the Registry when a session leader exits.
//
// Lock order: Registry.mu before TTY.mu. Neither is held while calling
// Sessions (signals are collected under TTY.mu and sent after unlocking).
package tty
