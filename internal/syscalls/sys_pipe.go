package syscalls

import (
	"encoding/binary"

	"golang.org/x/sys/unix"

	"glassbox/internal/fs/pipe"
	"glassbox/internal/kernel"
)

func init() {
	reg(unix.SYS_PIPE, func(t *kernel.Task, a kernel.Args) (uint64, error) {
		return doPipe(t, a[0], 0)
	})
	reg(unix.SYS_PIPE2, func(t *kernel.Task, a kernel.Args) (uint64, error) {
		return doPipe(t, a[0], a.Int(1))
	}, "O_NOTIFICATION_PIPE gives ENOPKG (no watch queues)")
}

// oNotificationPipe is O_NOTIFICATION_PIPE (= O_EXCL). Linux: include/uapi/linux/watch_queue.h
const oNotificationPipe = unix.O_EXCL

// doPipe creates a pipe and stores its read and write descriptors at addr.
// Linux: fs/pipe.c (do_pipe2, __do_pipe_flags)
func doPipe(t *kernel.Task, addr uint64, flags int) (uint64, error) {
	if flags&^(unix.O_CLOEXEC|unix.O_NONBLOCK|unix.O_DIRECT|oNotificationPipe) != 0 {
		return 0, unix.EINVAL
	}
	if flags&oNotificationPipe != 0 {
		// As a kernel built without CONFIG_WATCH_QUEUE answers.
		return 0, unix.ENOPKG
	}
	cloexec := flags&unix.O_CLOEXEC != 0
	r, w := pipe.NewFiles(t, flags)
	rfd, err := t.FDs().Install(r, 0, cloexec, t.FDLimit())
	if err != nil {
		r.DecRef()
		w.DecRef()
		return 0, err
	}
	wfd, err := t.FDs().Install(w, 0, cloexec, t.FDLimit())
	if err != nil {
		t.FDs().Close(rfd)
		w.DecRef()
		return 0, err
	}
	var b [8]byte
	binary.LittleEndian.PutUint32(b[0:], uint32(rfd))
	binary.LittleEndian.PutUint32(b[4:], uint32(wfd))
	if err := t.CopyOut(addr, b[:]); err != nil {
		t.FDs().Close(rfd)
		t.FDs().Close(wfd)
		return 0, unix.EFAULT
	}
	return 0, nil
}
