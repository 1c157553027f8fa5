package syscalls

import (
	"golang.org/x/sys/unix"

	"glassbox/internal/kernel"
	"glassbox/internal/vfs"
)

func init() {
	reg(unix.SYS_INOTIFY_INIT, func(t *kernel.Task, a kernel.Args) (uint64, error) {
		return installNew(t, vfs.NewInotify(0), false)
	}, "events from the sandbox's own changes: create, delete, move, modify, close")
	reg(unix.SYS_INOTIFY_INIT1, func(t *kernel.Task, a kernel.Args) (uint64, error) {
		fl := int(a[0])
		if fl&^(unix.IN_CLOEXEC|unix.IN_NONBLOCK) != 0 {
			return 0, unix.EINVAL
		}
		return installNew(t, vfs.NewInotify(fl), fl&unix.IN_CLOEXEC != 0)
	}, "events from the sandbox's own changes: create, delete, move, modify, close")
	reg(unix.SYS_INOTIFY_ADD_WATCH, sysInotifyAddWatch)
	reg(unix.SYS_INOTIFY_RM_WATCH, func(t *kernel.Task, a kernel.Args) (uint64, error) {
		in, done, err := getInotify(t, a.Int(0))
		if err != nil {
			return 0, err
		}
		defer done()
		return 0, in.RmWatch(int32(a[1]))
	})
}

func getInotify(t *kernel.Task, fd int) (*vfs.Inotify, func(), error) {
	f, err := getFileIO(t, fd)
	if err != nil {
		return nil, nil, err
	}
	in, ok := vfs.InotifyOf(f)
	if !ok {
		f.DecRef()
		return nil, nil, unix.EINVAL
	}
	return in, f.DecRef, nil
}

// sysInotifyAddWatch is inotify_add_watch(2). Linux: fs/notify/inotify/inotify_user.c
// The mask is checked before the descriptor.
func sysInotifyAddWatch(t *kernel.Task, a kernel.Args) (uint64, error) {
	mask := uint32(a[2])
	if mask&unix.IN_ALL_EVENTS == 0 || mask&unix.IN_MASK_ADD != 0 && mask&unix.IN_MASK_CREATE != 0 {
		return 0, unix.EINVAL
	}
	in, done, err := getInotify(t, a.Int(0))
	if err != nil {
		return 0, err
	}
	defer done()
	path, err := t.ReadString(a[1], vfs.PathMax)
	if err != nil {
		return 0, err
	}
	flags := vfs.Follow
	if mask&unix.IN_DONT_FOLLOW != 0 {
		flags = 0
	}
	p, err := t.Walk(kernel.AtFDCWD, path, flags)
	if err != nil {
		return 0, err
	}
	if err := vfs.MayAccess(t, p.Inode(), vfs.MayRead); err != nil {
		return 0, err
	}
	wd, err := in.AddWatch(p, mask)
	return uint64(wd), err
}
