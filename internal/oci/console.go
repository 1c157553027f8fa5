package oci

import (
	"fmt"
	"net"
	"os"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// openPTY opens a host pseudo-terminal pair (both ends close-on-exec,
// neither a controlling terminal yet).
func openPTY() (master, slave *os.File, err error) {
	mfd, err := unix.Open("/dev/ptmx", unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, nil, err
	}
	if err := unix.IoctlSetPointerInt(mfd, unix.TIOCSPTLCK, 0); err != nil {
		unix.Close(mfd)
		return nil, nil, err
	}
	n, err := unix.IoctlGetUint32(mfd, unix.TIOCGPTN)
	if err != nil {
		unix.Close(mfd)
		return nil, nil, err
	}
	name := fmt.Sprintf("/dev/pts/%d", n)
	sfd, err := unix.Open(name, unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		unix.Close(mfd)
		return nil, nil, err
	}
	return os.NewFile(uintptr(mfd), "/dev/ptmx"), os.NewFile(uintptr(sfd), name), nil
}

// setSize gives the terminal the size config.json asks for.
func setSize(f *os.File, size *specs.Box) {
	if size == nil || size.Height == 0 || size.Width == 0 {
		return
	}
	unix.IoctlSetWinsize(int(f.Fd()), unix.TIOCSWINSZ, &unix.Winsize{Row: uint16(size.Height), Col: uint16(size.Width)})
}

// sendConsole sends the pty master over the engine's console socket
// (SCM_RIGHTS, with the terminal's name as the data), as runc does.
func sendConsole(socket string, master *os.File, name string) error {
	c, err := net.Dial("unix", socket)
	if err != nil {
		return fmt.Errorf("--console-socket: %v", err)
	}
	defer c.Close()
	_, _, err = c.(*net.UnixConn).WriteMsgUnix([]byte(name), unix.UnixRights(int(master.Fd())), nil)
	if err != nil {
		return fmt.Errorf("--console-socket: %v", err)
	}
	return nil
}

// makeControlling makes the terminal the controlling terminal of this
// process's session (it must lead one), with our group in front.
func makeControlling(f *os.File) error {
	return unix.IoctlSetInt(int(f.Fd()), unix.TIOCSCTTY, 0)
}
