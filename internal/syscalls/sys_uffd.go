package syscalls

import (
	"os"
	"strings"
	"sync"

	"golang.org/x/sys/unix"

	"glassbox/internal/fs/userfaultfd"
	"glassbox/internal/kernel"
)

func init() {
	reg(unix.SYS_USERFAULTFD, sysUserfaultfd, "anonymous private ranges only (shmem and hugetlbfs: EINVAL); no events (fork, remap, remove, unmap), minor faults, MOVE, CONTINUE or POISON; on --platform=ptrace a write to a missing page is reported as a read")
}

// unprivilegedUserfaultfd is the host's vm.unprivileged_userfaultfd,
// which the sandbox follows.
var unprivilegedUserfaultfd = sync.OnceValue(func() bool {
	b, err := os.ReadFile("/proc/sys/vm/unprivileged_userfaultfd")
	return err == nil && strings.TrimSpace(string(b)) == "1"
})

// sysUserfaultfd: userfaultfd(flags). Linux: fs/userfaultfd.c
// (userfaultfd_syscall_allowed, new_userfaultfd)
func sysUserfaultfd(t *kernel.Task, a kernel.Args) (uint64, error) {
	flags := a.Int(0)
	if flags&userfaultfd.UserModeOnly == 0 && !t.CapableInit(unix.CAP_SYS_PTRACE) && !unprivilegedUserfaultfd() {
		return 0, unix.EPERM
	}
	return newUserfaultfd(t, flags)
}

func newUserfaultfd(t *kernel.Task, flags int) (uint64, error) {
	if flags&^(unix.O_CLOEXEC|unix.O_NONBLOCK|userfaultfd.UserModeOnly) != 0 {
		return 0, unix.EINVAL
	}
	return installNew(t, userfaultfd.New(t.MM(), flags), flags&unix.O_CLOEXEC != 0)
}
