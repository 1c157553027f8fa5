// Package hostterm puts the host terminal glassbox runs on behind one of
// the sandbox's own pseudo-terminals (package tty), as script(1) or an
// ssh server does: the host terminal goes into raw mode, bytes typed on
// it are written to the pty master (so the sandbox's N_TTY line
// discipline edits, echoes and turns ^C/^Z/^\ into signals for the
// guest's foreground process group), what the guest writes to the slave
// is copied back to the host terminal, and the host's window size
// follows SIGWINCH. The host termios is restored when it stops.
//
// Ownership: a Terminal owns the saved host termios, the master of its
// pty and the three goroutines that copy input, output and window size.
// No locks of its own (a stop channel and a WaitGroup). The input copier
// polls the host terminal and an eventfd that Stop signals after closing
// the stop channel, so Stop never waits out a poll timeout; Stop closes
// the eventfd once the copiers have ended.
package hostterm
