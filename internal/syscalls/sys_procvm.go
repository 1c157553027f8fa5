package syscalls

import (
	"golang.org/x/sys/unix"

	"glassbox/internal/abi"
	"glassbox/internal/kernel"
)

func init() {
	reg(unix.SYS_PROCESS_VM_READV, func(t *kernel.Task, a kernel.Args) (uint64, error) { return processVM(t, a, false) })
	reg(unix.SYS_PROCESS_VM_WRITEV, func(t *kernel.Task, a kernel.Args) (uint64, error) { return processVM(t, a, true) })
}

// processVM copies between the caller's local iovecs and another
// process's remote ones, in order, page by page; a fault on either side
// ends the transfer, which reports the bytes moved before it (or the
// error if there were none). Linux: mm/process_vm_access.c (process_vm_rw)
func processVM(t *kernel.Task, a kernel.Args, write bool) (uint64, error) {
	// The local count is an unsigned int to import_iovec; the remote one
	// is checked whole, and only once there is something to move.
	pid, lcnt, rcnt := a.Int(0), uint32(a[2]), a[4]
	if a[5] != 0 || lcnt > uioMaxIOV {
		return 0, unix.EINVAL
	}
	local, err := readIovecs(t, a[1], int(lcnt))
	if err != nil {
		return 0, err
	}
	var want uint64
	for _, v := range local {
		want += v.len
	}
	if want == 0 {
		return 0, nil
	}
	if rcnt > uioMaxIOV {
		return 0, unix.EINVAL
	}
	// The remote iovecs are decoded only: no access_ok, no length cut.
	rb, err := copyInIovecs(t, a[3], int(rcnt))
	if err != nil {
		return 0, err
	}
	remote, err := decodeIovecs(rb)
	if err != nil {
		return 0, err
	}
	if pid > 0 {
		pid = t.KPID(pid) // the caller's PID namespace
	}
	m, err := t.RemoteMM(pid)
	if err != nil {
		return 0, err
	}
	defer m.DropUser()
	if write {
		defer t.Kernel().KickMM(m)
	}
	var done uint64
	li := 0
	var buf [abi.PageSize]byte
	for _, r := range remote {
		for off := uint64(0); off < r.len; {
			for li < len(local) && local[li].len == 0 {
				li++
			}
			if li == len(local) {
				return done, nil
			}
			ra, la := r.base+off, local[li].base
			n := min(r.len-off, local[li].len, abi.PageSize-ra&abi.PageMask, abi.PageSize-la&abi.PageMask)
			b := buf[:n]
			var ferr error
			if write {
				if ferr = t.CopyIn(la, b); ferr == nil {
					var got int
					got, ferr = m.RemoteCopy(ra, b, true)
					n = uint64(got)
				}
			} else {
				var got int
				got, ferr = m.RemoteCopy(ra, b, false)
				if ferr == nil || got > 0 {
					if err := t.CopyOut(la, b[:got]); err != nil {
						got, ferr = 0, err
					}
				}
				n = uint64(got)
			}
			done += n
			if ferr != nil {
				if done == 0 {
					return 0, ferr
				}
				return done, nil
			}
			off += n
			local[li].base += n
			local[li].len -= n
		}
	}
	return done, nil
}
