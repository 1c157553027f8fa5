package kernel

import (
	"encoding/binary"
	"fmt"

	"golang.org/x/sys/unix"

	"glassbox/internal/trace"
)

// Descriptor and memory events for --trace=fd,mem: one readable line per
// successful call that opens, closes or duplicates a descriptor, or
// changes the address space. They are derived from the syscall and its
// result, after it ran.

// fdCalls name the argument that holds the descriptor a call acts on
// (-1: the result is the new descriptor).
var fdCalls = map[int]string{
	unix.SYS_OPEN: "open", unix.SYS_OPENAT: "open", unix.SYS_CREAT: "open",
	unix.SYS_DUP: "dup", unix.SYS_DUP2: "dup", unix.SYS_DUP3: "dup",
	unix.SYS_PIPE: "pipe", unix.SYS_PIPE2: "pipe",
	unix.SYS_SOCKET: "socket", unix.SYS_SOCKETPAIR: "socket", unix.SYS_ACCEPT: "accept", unix.SYS_ACCEPT4: "accept",
	unix.SYS_EPOLL_CREATE1: "open", unix.SYS_EVENTFD2: "open", unix.SYS_TIMERFD_CREATE: "open",
	unix.SYS_CLOSE: "close",
}

var memCalls = map[int]string{
	unix.SYS_MMAP: "mmap", unix.SYS_MUNMAP: "munmap", unix.SYS_MPROTECT: "mprotect",
	unix.SYS_MREMAP: "mremap", unix.SYS_BRK: "brk",
}

// traceAfter emits fd and mem events for a finished syscall.
func (t *Task) traceAfter(nr int, a Args, ret uint64, err error) {
	tr := t.k.cfg.Tracer
	if err != nil {
		return
	}
	if what, ok := fdCalls[nr]; ok && tr.On(trace.FD) {
		var detail string
		switch what {
		case "close":
			detail = fmt.Sprintf("close fd %d", a.Int(0))
		case "pipe", "socket":
			if nr == unix.SYS_SOCKET {
				detail = fmt.Sprintf("socket fd %d -> %s", ret, t.describeFD(int(ret)))
				break
			}
			// pipe, pipe2, socketpair: the two fds are in guest memory.
			at := a[0]
			if nr == unix.SYS_SOCKETPAIR {
				at = a[3]
			}
			var b [8]byte
			if t.CopyIn(at, b[:]) != nil {
				return
			}
			r, w := int(int32(binary.LittleEndian.Uint32(b[:]))), int(int32(binary.LittleEndian.Uint32(b[4:])))
			detail = fmt.Sprintf("%s fds %d, %d -> %s, %s", what, r, w, t.describeFD(r), t.describeFD(w))
		case "dup":
			detail = fmt.Sprintf("dup fd %d -> fd %d (%s)", a.Int(0), ret, t.describeFD(int(ret)))
		default:
			detail = fmt.Sprintf("%s fd %d -> %s", what, ret, t.describeFD(int(ret)))
		}
		tr.Emit(&trace.Event{Kind: trace.FD, PID: t.tg.pid, TID: t.tid, Detail: detail})
	}
	if what, ok := memCalls[nr]; ok && tr.On(trace.Mem) {
		var detail string
		switch what {
		case "mmap":
			detail = fmt.Sprintf("mmap %#x-%#x prot %#x flags %#x", ret, ret+a[1], a[2], a[3])
		case "munmap":
			detail = fmt.Sprintf("munmap %#x-%#x", a[0], a[0]+a[1])
		case "mprotect":
			detail = fmt.Sprintf("mprotect %#x-%#x prot %#x", a[0], a[0]+a[1], a[2])
		case "mremap":
			detail = fmt.Sprintf("mremap %#x (%d bytes) -> %#x (%d bytes)", a[0], a[1], ret, a[2])
		case "brk":
			detail = fmt.Sprintf("brk %#x", ret)
		}
		tr.Emit(&trace.Event{Kind: trace.Mem, PID: t.tg.pid, TID: t.tid, Detail: detail})
	}
}

// describeFD names what an fd refers to: a path, pipe:[N], socket:[N]...
func (t *Task) describeFD(fd int) string {
	f, err := t.tg.fds.Get(fd)
	if err != nil {
		return "?"
	}
	defer f.DecRef()
	if f.Path().Dentry == nil {
		return f.AnonName()
	}
	return t.PathName(f.Path())
}
