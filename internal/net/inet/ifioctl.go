package inet

import (
	"encoding/binary"
	"runtime"
	"unsafe"

	"golang.org/x/sys/unix"

	"glassbox/internal/vfs"
)

// More interface ioctls. Linux: include/uapi/linux/sockios.h
const (
	siocGifdstaddr = 0x8917
	siocGifbrdaddr = 0x8919
	siocGifmetric  = 0x891d
	siocGiftxqlen  = 0x8942
	siocGifmap     = 0x8970
	maxIfconf      = 1 << 20 // the most SIOCGIFCONF buffer asked of the host
)

// ifGets are the read-only interface queries; ifSets the changes, which
// need CAP_NET_ADMIN (EPERM in the sandbox). Linux: net/core/dev_ioctl.c
var (
	ifGets = map[uint32]bool{siocGifname: true, siocGifconf: true, siocGifflags: true, siocGifaddr: true,
		siocGifdstaddr: true, siocGifbrdaddr: true, siocGifnetmask: true, siocGifmetric: true, siocGifmtu: true,
		siocGifhwaddr: true, siocGifindex: true, siocGiftxqlen: true, siocGifmap: true}
	ifSets = map[uint32]bool{0x8914: true, 0x8916: true, 0x8918: true, 0x891a: true, 0x891c: true, 0x891e: true,
		0x8922: true, 0x8923: true, 0x8924: true, 0x8943: true, 0x8936: true, 0x8934: true}
)

// InterfaceIoctl answers the interface ioctls Linux answers on a socket
// of any family (dev_ioctl): the sandbox's lo with --net=none, the host's
// interfaces (asked on a host socket glassbox makes for the call) with
// --net=host. ok is false for other commands.
func (st *Stack) InterfaceIoctl(mem vfs.Memory, cmd uint32, arg uint64) (r uint64, ok bool, err error) {
	switch {
	case ifSets[cmd]:
		return 0, true, unix.EPERM
	case !ifGets[cmd]:
		return 0, false, nil
	case st.host:
		return 0, true, hostIfIoctl(mem, cmd, arg)
	case cmd == siocGifconf:
		return 0, true, ifconf(mem, arg)
	}
	return 0, true, ifreq(mem, cmd, arg)
}

// hostIfIoctl asks the host about its interfaces.
func hostIfIoctl(mem vfs.Memory, cmd uint32, arg uint64) error {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	if cmd != siocGifconf {
		b := make([]byte, ifreqSize)
		if err := mem.CopyIn(arg, b); err != nil {
			return unix.EFAULT
		}
		if err := ioctlPtr(fd, cmd, unsafe.Pointer(&b[0])); err != nil {
			return err
		}
		runtime.KeepAlive(b)
		return mem.CopyOut(arg, b)
	}
	var hdr [16]byte // struct ifconf: int ifc_len; pad; char *ifc_buf
	if err := mem.CopyIn(arg, hdr[:]); err != nil {
		return unix.EFAULT
	}
	le := binary.LittleEndian
	size := int(int32(le.Uint32(hdr[:])))
	ubuf := le.Uint64(hdr[8:])
	var buf []byte
	if ubuf != 0 && size > 0 {
		buf = make([]byte, min(size, maxIfconf))
	}
	var h [16]byte
	le.PutUint32(h[:], uint32(len(buf)))
	if buf != nil {
		le.PutUint64(h[8:], uint64(uintptr(unsafe.Pointer(&buf[0]))))
	}
	err = ioctlPtr(fd, cmd, unsafe.Pointer(&h[0]))
	runtime.KeepAlive(buf)
	if err != nil {
		return err
	}
	n := int(int32(le.Uint32(h[:])))
	if buf != nil && n > 0 {
		if err := mem.CopyOut(ubuf, buf[:min(n, len(buf))]); err != nil {
			return unix.EFAULT
		}
	}
	return mem.CopyOut(arg, le.AppendUint32(nil, uint32(n)))
}

func ioctlPtr(fd int, cmd uint32, p unsafe.Pointer) error {
	_, _, e := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), uintptr(cmd), uintptr(p))
	if e != 0 {
		return e
	}
	return nil
}
