package hostio

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// ioctlBuf runs a host ioctl whose argument is a buffer glassbox owns.
func ioctlBuf(fd int, cmd uint32, buf []byte) error {
	_, _, e := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), uintptr(cmd), uintptr(unsafe.Pointer(&buf[0])))
	if e != 0 {
		return e
	}
	return nil
}
