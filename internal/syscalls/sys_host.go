package syscalls

import (
	"encoding/binary"

	"golang.org/x/sys/unix"

	"glassbox/internal/kernel"
)

// Calls about the machine and the kernel's objects that a container's
// root may make. Linux: kernel/reboot.c, kernel/kcmp.c, fs/fhandle.c
func init() {
	reg(unix.SYS_REBOOT, sysReboot, "EPERM for every valid command: the sandbox cannot reboot or halt")
	reg(unix.SYS_KCMP, func(t *kernel.Task, a kernel.Args) (uint64, error) {
		r, err := t.Kcmp(a.Int(0), a.Int(1), a.Int(2), a[3], a[4])
		return uint64(r), err
	}, "KCMP_EPOLL_TFD is EINVAL; KCMP_IO always equal")
	reg(unix.SYS_NAME_TO_HANDLE_AT, sysNameToHandleAt, "no file system exports handles: EOPNOTSUPP after the path checks")
	reg(unix.SYS_OPEN_BY_HANDLE_AT, sysOpenByHandleAt, "every handle is stale (ESTALE)")
}

// File handle flags. Linux: include/uapi/linux/fcntl.h
const (
	atHandleFID = 0x200 // AT_HANDLE_FID
	maxHandleSz = 128   // MAX_HANDLE_SZ
)

// sysNameToHandleAt: the path is looked up as Linux does, then no file
// system glassbox serves can encode a handle (as procfs cannot).
// Linux: fs/fhandle.c (name_to_handle_at, do_sys_name_to_handle)
func sysNameToHandleAt(t *kernel.Task, a kernel.Args) (uint64, error) {
	flags := a.Int(4)
	if flags&^(unix.AT_SYMLINK_FOLLOW|unix.AT_EMPTY_PATH|atHandleFID) != 0 {
		return 0, unix.EINVAL
	}
	at := flags & unix.AT_EMPTY_PATH
	if flags&unix.AT_SYMLINK_FOLLOW == 0 {
		at |= unix.AT_SYMLINK_NOFOLLOW
	}
	if _, err := atPath(t, a.Int(0), a[1], at); err != nil {
		return 0, err
	}
	return 0, unix.EOPNOTSUPP
}

// sysOpenByHandleAt reads the handle (EFAULT, EINVAL), then the mount
// descriptor (EBADF), then checks the privilege (EPERM).
// Linux: fs/fhandle.c (do_handle_open, handle_to_path, may_decode_fh)
func sysOpenByHandleAt(t *kernel.Task, a kernel.Args) (uint64, error) {
	var hdr [8]byte
	if err := t.CopyIn(a[1], hdr[:]); err != nil {
		return 0, err
	}
	n, typ := binary.LittleEndian.Uint32(hdr[:]), int32(binary.LittleEndian.Uint32(hdr[4:]))
	if n > maxHandleSz || n == 0 {
		return 0, unix.EINVAL
	}
	const userFlags, validUserFlags = 0xffff0000, 0x30000 // FILEID_IS_CONNECTABLE | FILEID_IS_DIR
	if typ < 0 || uint32(typ)&userFlags&^validUserFlags != 0 {
		return 0, unix.EINVAL
	}
	if err := t.CopyIn(a[1]+8, make([]byte, n)); err != nil {
		return 0, err
	}
	if fd := a.Int(0); fd != kernel.AtFDCWD {
		f, err := getFile(t, fd)
		if err != nil {
			return 0, err
		}
		f.DecRef()
	}
	if !t.CapableInit(unix.CAP_DAC_READ_SEARCH) {
		return 0, unix.EPERM
	}
	return 0, unix.ESTALE
}

// reboot(2) magic numbers and commands. Linux: include/uapi/linux/reboot.h
const (
	rebootMagic1 = 0xfee1dead
)

// sysReboot answers as Linux answers a container's root: the checks
// pass, and the machine is not the sandbox's to reboot (EPERM).
// Linux: kernel/reboot.c (reboot), kernel/pid_namespace.c (reboot_pid_ns)
func sysReboot(t *kernel.Task, a kernel.Args) (uint64, error) {
	if !t.HasCap(unix.CAP_SYS_BOOT) {
		return 0, unix.EPERM
	}
	switch uint32(a[1]) {
	case 672274793, 85072278, 369367448, 537993216: // LINUX_REBOOT_MAGIC2, 2A, 2B, 2C
	default:
		return 0, unix.EINVAL
	}
	if uint32(a[0]) != rebootMagic1 {
		return 0, unix.EINVAL
	}
	switch uint32(a[2]) {
	case unix.LINUX_REBOOT_CMD_RESTART, unix.LINUX_REBOOT_CMD_RESTART2, unix.LINUX_REBOOT_CMD_POWER_OFF,
		unix.LINUX_REBOOT_CMD_HALT, unix.LINUX_REBOOT_CMD_CAD_ON, unix.LINUX_REBOOT_CMD_CAD_OFF:
		return 0, unix.EPERM
	}
	return 0, unix.EINVAL
}
