package inet

import (
	"encoding/binary"
	"net/netip"
	"time"

	"golang.org/x/sys/unix"

	"glassbox/internal/vfs"
)

// pollSlice is how long a blocked host-socket call sleeps in the host's
// poll before looking at the caller's signals again (as
// internal/fs/hostio does: the host can't wake glassbox for a guest
// signal).
const pollSlice = 20 * time.Millisecond

// wait waits until the host fd is ready for events: EINTR when the
// caller is interrupted, EAGAIN when until (if set) passes.
func (h *hostSock) wait(ctx vfs.Ctx, events int16, until time.Time) error {
	for {
		slice := pollSlice
		if !until.IsZero() {
			d := time.Until(until)
			if d <= 0 {
				return unix.EAGAIN
			}
			slice = min(slice, d)
		}
		fds := []unix.PollFd{{Fd: int32(h.fd), Events: events}}
		n, err := unix.Poll(fds, int(max(slice/time.Millisecond, 1)))
		if n > 0 || err != nil && err != unix.EINTR {
			return nil // ready, or let the call report the error
		}
		if ctx != nil && ctx.Interrupted() {
			return unix.EINTR
		}
	}
}

// Flags passed to the host's send and receive calls; MSG_DONTWAIT is
// always added (the waiting is glassbox's), MSG_NOSIGNAL too (a SIGPIPE
// is the guest's, raised by the syscall layer from EPIPE).
const (
	hostSendFlags = unix.MSG_OOB | unix.MSG_DONTROUTE | unix.MSG_EOR | unix.MSG_MORE | unix.MSG_CONFIRM
	hostRecvFlags = unix.MSG_OOB | unix.MSG_PEEK | unix.MSG_TRUNC
)

func toSockaddr(family int, b []byte) (unix.Sockaddr, error) {
	ap, unspec, err := parseAddr(family, b)
	if err != nil {
		return nil, err
	}
	if unspec {
		return nil, unix.EAFNOSUPPORT
	}
	if family == unix.AF_INET {
		return &unix.SockaddrInet4{Port: int(ap.Port()), Addr: ap.Addr().As4()}, nil
	}
	sa := &unix.SockaddrInet6{Port: int(ap.Port()), Addr: ap.Addr().As16()}
	if len(b) >= sockaddrIn6Len {
		sa.ZoneId = binary.LittleEndian.Uint32(b[24:])
	}
	return sa, nil
}

func fromSockaddr(family int, sa unix.Sockaddr) []byte {
	switch a := sa.(type) {
	case *unix.SockaddrInet4:
		return encodeAddr(family, netip.AddrPortFrom(netip.AddrFrom4(a.Addr), uint16(a.Port)))
	case *unix.SockaddrInet6:
		b := encodeAddr(family, netip.AddrPortFrom(netip.AddrFrom16(a.Addr), uint16(a.Port)))
		if len(b) >= sockaddrIn6Len {
			binary.LittleEndian.PutUint32(b[24:], a.ZoneId)
		}
		return b
	}
	return nil
}

// send sends src, to the sockaddr to if given. A blocking stream send
// goes on until everything is sent (or a signal stops it after some).
func (s *Socket) hostSend(ctx vfs.Ctx, src [][]byte, to []byte, flags int) (int, error) {
	h := s.h
	if err := h.check(); err != nil {
		return 0, err
	}
	var sa unix.Sockaddr
	if len(to) > 0 && h.typ == unix.SOCK_DGRAM {
		var err error
		if sa, err = toSockaddr(h.family, to); err != nil {
			return 0, err
		}
	}
	nonblock := s.nonblock(flags)
	until := h.timeouts(false).Deadline()
	hf := flags&hostSendFlags | unix.MSG_DONTWAIT | unix.MSG_NOSIGNAL
	total := 0
	for {
		n, err := unix.SendmsgBuffers(h.fd, src, nil, sa, hf)
		if err == nil {
			total += n
			src = advance(src, n)
			if len(src) == 0 || h.typ != unix.SOCK_STREAM || nonblock {
				return total, nil
			}
		} else if err != unix.EAGAIN && err != unix.EINTR || nonblock {
			if total > 0 {
				return total, nil
			}
			return 0, err
		}
		if err := h.wait(ctx, unix.POLLOUT, until); err != nil {
			if total > 0 {
				return total, nil
			}
			return 0, err
		}
	}
}

// advance drops the first n bytes of bufs.
func advance(bufs [][]byte, n int) [][]byte {
	for len(bufs) > 0 && n >= len(bufs[0]) {
		n -= len(bufs[0])
		bufs = bufs[1:]
	}
	if len(bufs) > 0 && n > 0 {
		bufs = append([][]byte{bufs[0][n:]}, bufs[1:]...)
	}
	for len(bufs) > 0 && len(bufs[0]) == 0 {
		bufs = bufs[1:]
	}
	return bufs
}

// hostRecv receives into dst. MSG_WAITALL on a stream waits until dst is
// full, the stream ends or an error or signal comes after some data.
func (s *Socket) hostRecv(ctx vfs.Ctx, dst [][]byte, flags int, wantFrom bool) (int, int, []byte, error) {
	h := s.h
	if err := h.check(); err != nil {
		return 0, 0, nil, err
	}
	nonblock := s.nonblock(flags)
	waitAll := flags&unix.MSG_WAITALL != 0 && flags&unix.MSG_PEEK == 0 && h.typ == unix.SOCK_STREAM
	until := h.timeouts(true).Deadline()
	hf := flags&hostRecvFlags | unix.MSG_DONTWAIT
	total := 0
	for {
		n, _, rf, from, err := unix.RecvmsgBuffers(h.fd, dst, nil, hf)
		if err == nil {
			var fb []byte
			if wantFrom && from != nil {
				fb = fromSockaddr(h.family, from)
			}
			total += n
			dst = advance(dst, n)
			if !waitAll || n == 0 || len(dst) == 0 || nonblock {
				return total, rf, fb, nil
			}
		} else if err != unix.EAGAIN && err != unix.EINTR || nonblock {
			if total > 0 {
				return total, 0, nil, nil
			}
			return 0, 0, nil, err
		}
		if err := h.wait(ctx, unix.POLLIN, until); err != nil {
			if total > 0 {
				return total, 0, nil, nil
			}
			return 0, 0, nil, err
		}
	}
}

func (h *hostSock) shutdown(how int) error {
	if err := h.check(); err != nil {
		return unix.ENOTCONN
	}
	return unix.Shutdown(h.fd, how)
}

// readiness is the host fd's state now and a channel that fires after a
// poll slice, so that waiters look again.
func (h *hostSock) readiness() (uint32, <-chan struct{}) {
	ch := make(chan struct{})
	if h.fd < 0 {
		close(ch)
		return unix.POLLERR | unix.POLLHUP, ch
	}
	fds := []unix.PollFd{{Fd: int32(h.fd), Events: unix.POLLIN | unix.POLLOUT | unix.POLLPRI | pollRdhup}}
	var ev uint32
	if n, _ := unix.Poll(fds, 0); n > 0 {
		ev = uint32(uint16(fds[0].Revents))
		if ev&unix.POLLIN != 0 {
			ev |= pollRdnorm
		}
		if ev&unix.POLLOUT != 0 {
			ev |= pollWrnorm
		}
	}
	time.AfterFunc(pollSlice, func() { close(ch) })
	return ev, ch
}

// ioctl answers SIOCINQ/FIONREAD and SIOCOUTQ from the host socket.
func (h *hostSock) ioctl(mem vfs.Memory, cmd uint32, arg uint64) (uint64, bool, error) {
	if cmd != unix.SIOCINQ && cmd != unix.SIOCOUTQ && cmd != unix.SIOCATMARK {
		return 0, false, nil
	}
	if err := h.check(); err != nil {
		return 0, true, err
	}
	v, err := unix.IoctlGetInt(h.fd, uint(cmd))
	if err != nil {
		return 0, true, err
	}
	return 0, true, mem.CopyOut(arg, binary.LittleEndian.AppendUint32(nil, uint32(v)))
}
