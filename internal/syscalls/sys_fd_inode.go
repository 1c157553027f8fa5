package syscalls

import (
	"encoding/binary"

	"golang.org/x/sys/unix"

	"glassbox/internal/abi"
	"glassbox/internal/kernel"
	"glassbox/internal/vfs"
)

// Generic ioctl numbers x/sys lacks. Linux: include/uapi/linux/fs.h
const (
	figetbsz = 2          // _IO(0x00, 2)
	fibmap   = 1          // _IO(0x00, 1)
	fifreeze = 0xc0045877 // _IOWR('X', 119, int)
	fithaw   = 0xc0045878 // _IOWR('X', 120, int)
)

// ioctlInode answers the ioctls every file of a file system has: the
// bytes left to read in a regular file, the size of a file, directory
// or symlink, the file system's block size, and (refused) reflinks,
// block maps and freezing. ok is false when the
// file's own ioctl answers. Linux: fs/ioctl.c (do_vfs_ioctl)
func ioctlInode(t *kernel.Task, f *vfs.File, cmd uint32, arg uint64) (uint64, bool, error) {
	if f.Path().Dentry == nil {
		return 0, false, nil
	}
	st, err := f.Stat(t)
	if err != nil {
		return 0, false, nil
	}
	var b [8]byte
	typ := st.Mode & unix.S_IFMT
	switch cmd {
	case fionread:
		if typ != unix.S_IFREG {
			return 0, false, nil
		}
		pos, err := f.Seek(t, 0, unix.SEEK_CUR)
		if err != nil {
			return 0, false, nil
		}
		binary.LittleEndian.PutUint32(b[:], uint32(st.Size-pos))
		return 0, true, t.CopyOut(arg, b[:4])
	case fioqsize:
		if typ != unix.S_IFREG && typ != unix.S_IFDIR && typ != unix.S_IFLNK {
			return 0, true, unix.ENOTTY
		}
		binary.LittleEndian.PutUint64(b[:], uint64(st.Size))
		return 0, true, t.CopyOut(arg, b[:])
	case unix.FICLONE, unix.FICLONERANGE:
		return 0, true, ioctlClone(t, f, cmd, arg)
	case fibmap:
		// No file system here maps blocks. Linux: fs/ioctl.c (ioctl_fibmap)
		if !t.Creds().Capable(unix.CAP_SYS_RAWIO) {
			return 0, true, unix.EPERM
		}
		return 0, true, unix.EINVAL
	case fifreeze, fithaw:
		// None can be frozen (the host's least of all), so none is
		// frozen to thaw. Linux: fs/ioctl.c (ioctl_fsfreeze, ioctl_fsthaw),
		// fs/super.c (thaw_super)
		if !t.Creds().Capable(unix.CAP_SYS_ADMIN) {
			return 0, true, unix.EPERM
		}
		if cmd == fithaw {
			return 0, true, unix.EINVAL
		}
		return 0, true, unix.EOPNOTSUPP
	default: // FIGETBSZ
		bs := uint32(st.Blksize)
		if bs == 0 {
			bs = abi.PageSize
		}
		binary.LittleEndian.PutUint32(b[:], bs)
		return 0, true, t.CopyOut(arg, b[:4])
	}
}

// ioctlClone is FICLONE and FICLONERANGE: no file system here shares
// blocks between files, so after the checks vfs_clone_file_range makes
// a clone is EOPNOTSUPP (EXDEV across mounts), which cp --reflink=auto
// and friends answer by copying. Linux: fs/ioctl.c (ioctl_file_clone),
// fs/remap_range.c (vfs_clone_file_range), fs/read_write.c
// (generic_file_rw_checks)
func ioctlClone(t *kernel.Task, dst *vfs.File, cmd uint32, arg uint64) error {
	srcFD := int(int32(arg))
	if cmd == unix.FICLONERANGE {
		var b [32]byte
		if err := t.CopyIn(arg, b[:]); err != nil {
			return err
		}
		srcFD = int(int64(binary.LittleEndian.Uint64(b[:])))
	}
	src, err := getFileIO(t, srcFD)
	if err != nil {
		return err
	}
	defer src.DecRef()
	if src.Path().Mount != dst.Path().Mount {
		return unix.EXDEV
	}
	for _, f := range []*vfs.File{src, dst} {
		st, err := f.Stat(t)
		if err != nil {
			return err
		}
		if st.IsDir() {
			return unix.EISDIR
		}
		if st.Type() != unix.S_IFREG {
			return unix.EINVAL
		}
	}
	if !src.Readable() || !dst.Writable() || dst.Flags()&unix.O_APPEND != 0 {
		return unix.EBADF
	}
	return unix.EOPNOTSUPP
}
