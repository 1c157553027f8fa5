package syscalls

import (
	"golang.org/x/sys/unix"

	"glassbox/internal/kernel"
)

// seccomp(2) and prctl(PR_SET_SECCOMP): the guest's own filters, which
// glassbox' dispatcher enforces (kernel/seccomp.go). User notification is
// not offered, as on a kernel built without it.
// Linux: kernel/seccomp.c (do_seccomp, prctl_set_seccomp)

func init() {
	reg(unix.SYS_SECCOMP, sysSeccomp, "no user notification: NEW_LISTENER and GET_NOTIF_SIZES are EINVAL")
}

func sysSeccomp(t *kernel.Task, a kernel.Args) (uint64, error) {
	return doSeccomp(t, uint(a[0]), uint(a[1]), a[2])
}

func doSeccomp(t *kernel.Task, op, flags uint, uargs uint64) (uint64, error) {
	switch op {
	case unix.SECCOMP_SET_MODE_STRICT:
		if flags != 0 || uargs != 0 {
			return 0, unix.EINVAL
		}
		return 0, t.SeccompStrict()
	case unix.SECCOMP_SET_MODE_FILTER:
		return t.SeccompFilter(flags, uargs)
	case unix.SECCOMP_GET_ACTION_AVAIL:
		if flags != 0 {
			return 0, unix.EINVAL
		}
		return 0, t.SeccompActionAvail(uargs)
	}
	// SECCOMP_GET_NOTIF_SIZES among them: no user notification here.
	return 0, unix.EINVAL
}

// prctlSeccomp is PR_SET_SECCOMP: mode 1 (strict, the filter argument
// ignored) or 2 (a filter, no flags).
func prctlSeccomp(t *kernel.Task, a kernel.Args) (uint64, error) {
	switch a[1] {
	case unix.SECCOMP_MODE_STRICT:
		return doSeccomp(t, unix.SECCOMP_SET_MODE_STRICT, 0, 0)
	case unix.SECCOMP_MODE_FILTER:
		return doSeccomp(t, unix.SECCOMP_SET_MODE_FILTER, 0, a[2])
	}
	return 0, unix.EINVAL
}
