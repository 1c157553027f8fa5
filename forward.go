package glassbox

import (
	"os"
	"syscall"

	"golang.org/x/sys/unix"

	"glassbox/internal/kernel"
)

// forward delivers a signal the glassbox process received to the guest:
// to the first process's process group when glassbox runs on a terminal
// (as a terminal sends Ctrl-C to the foreground group), else to the first
// process only.
func forward(k *kernel.Kernel, sig os.Signal, onTTY bool) {
	s, ok := sig.(syscall.Signal)
	if !ok {
		return
	}
	k.SignalInit(int(s), onTTY)
}

// isTerminal reports whether f is a terminal.
func isTerminal(f *os.File) bool {
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}
