package kernel

import (
	"errors"

	"golang.org/x/sys/unix"

	"glassbox/internal/mm"
)

// Guest memory access for syscall handlers, through this task's address
// space and stub thread.

// CopyIn reads guest memory.
func (t *Task) CopyIn(addr uint64, b []byte) error {
	return t.userfaultRetry(func() error { return t.mm.CopyIn(t.thread, addr, b) })
}

// CopyOut writes guest memory.
func (t *Task) CopyOut(addr uint64, b []byte) error {
	return t.userfaultRetry(func() error { return t.mm.CopyOut(t.thread, addr, b) })
}

// ReadString reads a NUL-terminated string of at most max bytes.
func (t *Task) ReadString(addr uint64, max int) (s string, err error) {
	err = t.userfaultRetry(func() (err error) {
		s, err = t.mm.ReadString(t.thread, addr, max)
		return err
	})
	return s, err
}

// Pin prepares guest memory for host I/O (mm.MM.Pin).
func (t *Task) Pin(addr uint64, n int, write bool) (p *mm.Pinned, err error) {
	err = t.userfaultRetry(func() (err error) {
		p, err = t.mm.Pin(t.thread, addr, n, write)
		return err
	})
	return p, err
}

// userfaultRetry runs access until it no longer meets a page a
// userfaultfd must provide, waiting for the handler in between with no mm
// lock held, as copy_to_user and copy_from_user wait in handle_userfault.
// A signal ends the wait with EFAULT, as a kernel access that cannot be
// retried fails on Linux (kernelmode_fixup_or_oops after
// fault_signal_pending).
func (t *Task) userfaultRetry(access func() error) error {
	for {
		err := access()
		var uf *mm.UserfaultError
		if !errors.As(err, &uf) {
			return err
		}
		if e := uf.Ctx.Wait(uf, t.VPID(t.tid), false, t); e != nil {
			return unix.EFAULT
		}
	}
}
