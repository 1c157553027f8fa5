package syscalls

import (
	"encoding/binary"
	"time"

	"golang.org/x/sys/unix"

	"glassbox/internal/abi"
	"glassbox/internal/kernel"
	unixsock "glassbox/internal/net/unix"
	"glassbox/internal/vfs"
)

func init() {
	reg(unix.SYS_SENDTO, sysSendto)
	reg(unix.SYS_RECVFROM, sysRecvfrom)
	reg(unix.SYS_SENDMSG, func(t *kernel.Task, a kernel.Args) (uint64, error) {
		return withSocket(t, a.Int(0), func(s sock) (uint64, error) {
			n, _, err := doSendmsg(t, s, a[1], a.Int(2))
			return uint64(n), err
		})
	})
	reg(unix.SYS_RECVMSG, func(t *kernel.Task, a kernel.Args) (uint64, error) {
		return withSocket(t, a.Int(0), func(s sock) (uint64, error) {
			n, _, err := doRecvmsg(t, s, a[1], a.Int(2))
			return uint64(n), err
		})
	})
	reg(unix.SYS_SENDMMSG, sysSendmmsg)
	reg(unix.SYS_RECVMMSG, sysRecvmmsg)
}

// Sizes of the message structures. Linux: include/linux/socket.h
const (
	msghdrSize  = 56 // struct user_msghdr
	mmsghdrSize = 64 // struct mmsghdr
	cmsgHdrLen  = 16 // struct cmsghdr
	ucredSize   = 12 // struct ucred
	uioMaxIOV   = 1024
	scmMaxFD    = 253    // SCM_MAX_FD
	optmemMax   = 131072 // net.core.optmem_max
)

func cmsgAlign(n int) int { return (n + 7) &^ 7 }

// sendResult turns a send's error into the syscall's: SIGPIPE unless
// MSG_NOSIGNAL (the socket layer returns a plain EPIPE where Linux raises
// none), and a restart after an interrupted wait.
func sendResult(t *kernel.Task, n int, err error, flags int) (int, error) {
	if err == nil {
		return n, nil
	}
	if flags&unix.MSG_NOSIGNAL == 0 {
		epipe(t, err)
	}
	return 0, restartable(err)
}

// sendEmpty sends a zero-length message on s for write(2).
func sendEmpty(t *kernel.Task, s sock) error {
	_, err := s.Send(t, nil, unixsock.SendOpts{})
	return err
}

// sendTo resolves a destination for a send. Stream sockets refuse any
// (EISCONN or EOPNOTSUPP, before checking it), seqpacket sockets ignore
// it. Linux: net/unix/af_unix.c (unix_stream_sendmsg, unix_seqpacket_sendmsg)
func sendTo(t *kernel.Task, s sock, b []byte) (*unixsock.Name, error) {
	if _, ok := s.(inetSock); ok && len(b) > 0 {
		return &unixsock.Name{Raw: b}, nil // decoded by the inet socket
	}
	if _, ok := s.(nlSock); ok && len(b) > 0 {
		return &unixsock.Name{Raw: b}, nil // decoded by the netlink socket
	}
	switch {
	case len(b) == 0 || s.Type() == unix.SOCK_SEQPACKET:
		return nil, nil
	case s.Type() == unix.SOCK_STREAM:
		return &unixsock.Name{}, nil
	}
	return resolveName(t, b, false)
}

func sysSendto(t *kernel.Task, a kernel.Args) (uint64, error) {
	return withSocket(t, a.Int(0), func(s sock) (uint64, error) {
		flags := a.Int(3)
		var to *unixsock.Name
		if a[4] != 0 {
			b, err := readSockaddr(t, a[4], a.Int(5))
			if err != nil {
				return 0, err
			}
			if to, err = sendTo(t, s, b); err != nil {
				return 0, err
			}
		}
		p, err := pin(t, []iovec{{a[1], min(a[2], maxRW)}}, false)
		if err != nil {
			return 0, err
		}
		defer p.unpin()
		n, err := s.Send(t, p.bufs, unixsock.SendOpts{To: to, Flags: flags})
		n, err = sendResult(t, n, err, flags)
		return uint64(n), err
	})
}

func sysRecvfrom(t *kernel.Task, a kernel.Args) (uint64, error) {
	return withSocket(t, a.Int(0), func(s sock) (uint64, error) {
		p, eof, err := pinRecv(t, s, []iovec{{a[1], min(a[2], maxRW)}}, a.Int(3))
		if err != nil || eof {
			return 0, err
		}
		defer p.unpin()
		r, err := s.Recv(t, p.bufs, a.Int(3), a[4] != 0)
		dropFiles(r.Rights)
		if err != nil {
			return 0, restartable(err)
		}
		if a[4] != 0 {
			if err := writeSockaddr(t, r.From, a[4], a[5]); err != nil {
				return 0, err
			}
		}
		return uint64(r.N), nil
	})
}

// pinRecv pins a receive's buffers. Linux finds a bad buffer only when
// it copies: the receive waits first, and its own answers (EAGAIN, an
// error, end of file) come before EFAULT. A datagram (or a SEQPACKET
// record) is then lost; a stream's data stay. eof reports end of file
// found that way: the receive returns 0. Linux: net/ipv4/udp.c
// (udp_recvmsg), net/ipv4/tcp.c (tcp_recvmsg_locked), net/unix/af_unix.c
func pinRecv(t *kernel.Task, s sock, iov []iovec, flags int) (p *pinned, eof bool, err error) {
	p, err = pin(t, iov, true)
	if err != unix.EFAULT {
		return p, false, err
	}
	probe, fl := [][]byte{make([]byte, 1)}, flags|unix.MSG_PEEK
	if typ := s.Type(); (typ == unix.SOCK_DGRAM || typ == unix.SOCK_SEQPACKET) && flags&unix.MSG_PEEK == 0 {
		probe, fl = nil, flags // take the datagram
	}
	r, rerr := s.Recv(t, probe, fl, false)
	dropFiles(r.Rights)
	switch {
	case rerr != nil:
		return nil, false, restartable(rerr)
	case probe != nil && r.N == 0:
		return nil, true, nil
	}
	return nil, false, unix.EFAULT
}

// msghdr is struct user_msghdr.
type msghdr struct {
	name               uint64
	namelen            int32
	iov, iovlen        uint64
	control, ctrllen   uint64
	flags              int32
	iovecs             []iovec
	controlBytes, addr []byte
}

// readMsghdr reads and checks a msghdr; send also copies in the address
// and the control data. Linux: net/socket.c (__copy_msghdr,
// ____sys_sendmsg)
func readMsghdr(t *kernel.Task, addr uint64, send bool) (*msghdr, error) {
	var b [msghdrSize]byte
	if err := t.CopyIn(addr, b[:]); err != nil {
		return nil, unix.EFAULT
	}
	le := binary.LittleEndian
	m := &msghdr{name: le.Uint64(b[0:]), namelen: int32(le.Uint32(b[8:])), iov: le.Uint64(b[16:]),
		iovlen: le.Uint64(b[24:]), control: le.Uint64(b[32:]), ctrllen: le.Uint64(b[40:]), flags: int32(le.Uint32(b[48:]))}
	if m.name == 0 {
		m.namelen = 0
	}
	if m.namelen < 0 {
		return nil, unix.EINVAL
	}
	m.namelen = min(m.namelen, sockaddrMax)
	if send && m.namelen > 0 {
		a, err := readSockaddr(t, m.name, int(m.namelen))
		if err != nil {
			return nil, err
		}
		m.addr = a
	}
	if m.iovlen > uioMaxIOV {
		return nil, unix.EMSGSIZE
	}
	iov, err := readIovecs(t, m.iov, int(m.iovlen))
	if err != nil {
		return nil, err
	}
	m.iovecs = iov
	if send && m.ctrllen > 0 {
		if m.ctrllen > optmemMax {
			return nil, unix.ENOBUFS
		}
		m.controlBytes = make([]byte, m.ctrllen)
		if err := t.CopyIn(m.control, m.controlBytes); err != nil {
			return nil, unix.EFAULT
		}
	}
	return m, nil
}

// parseControl reads SCM_RIGHTS (taking a reference on each file) and
// SCM_CREDENTIALS from a control buffer. Linux: net/core/scm.c
// (__scm_send, scm_fp_copy, scm_check_creds)
func parseControl(t *kernel.Task, ctl []byte) (rights []*vfs.File, cred *unixsock.Cred, err error) {
	rights, cred, err = decodeControl(ctl, func(fd int) (*vfs.File, error) { return getFile(t, fd) },
		func(c unixsock.Cred) error { return checkCreds(t, c) })
	if cred != nil {
		cred.PID = int32(t.KPID(int(cred.PID))) // the kernel's number from here on
	}
	return rights, cred, err
}

// decodeControl is parseControl with the task's descriptor table and
// credential check as functions: every byte of ctl is the guest's. On an
// error it holds no reference.
func decodeControl(ctl []byte, getFile func(fd int) (*vfs.File, error), checkCreds func(unixsock.Cred) error) (rights []*vfs.File, cred *unixsock.Cred, err error) {
	defer func() {
		if err != nil {
			dropFiles(rights)
			rights = nil
		}
	}()
	le := binary.LittleEndian
	for off := 0; off+cmsgHdrLen <= len(ctl); {
		clen := le.Uint64(ctl[off:])
		level, typ := int32(le.Uint32(ctl[off+8:])), int32(le.Uint32(ctl[off+12:]))
		if clen < cmsgHdrLen || clen > uint64(len(ctl)-off) {
			return rights, nil, unix.EINVAL
		}
		data := ctl[off+cmsgHdrLen : off+int(clen)]
		off += cmsgAlign(int(clen))
		if level != unix.SOL_SOCKET {
			continue
		}
		switch typ {
		case unix.SCM_RIGHTS:
			n := len(data) / 4
			if n == 0 {
				continue
			}
			if len(rights)+n > scmMaxFD {
				return rights, nil, unix.EINVAL
			}
			for i := range n {
				f, err := getFile(int(int32(le.Uint32(data[4*i:]))))
				if err != nil {
					return rights, nil, unix.EBADF
				}
				rights = append(rights, f)
			}
		case unix.SCM_CREDENTIALS:
			if len(data) != ucredSize {
				return rights, nil, unix.EINVAL
			}
			c := unixsock.Cred{PID: int32(le.Uint32(data)), UID: le.Uint32(data[4:]), GID: le.Uint32(data[8:])}
			if err := checkCreds(c); err != nil {
				return rights, nil, err
			}
			cred = &c
		default:
			return rights, nil, unix.EINVAL
		}
	}
	return rights, cred, nil
}

// SOL_SOCKET control messages an inet socket accepts (and glassbox
// ignores). Linux: include/uapi/asm-generic/socket.h
const (
	soMark            = 36
	soTimestampingOld = 37
	scmTxtime         = 61
)

// inetControlCheck is what an inet socket's sendmsg checks of the
// SOL_SOCKET messages: the framing, and the type (descriptors and
// credentials mean nothing to inet and are ignored).
// Linux: net/ipv4/ip_sockglue.c (ip_cmsg_send), net/core/sock.c (__sock_cmsg_send)
func inetControlCheck(ctl []byte) error {
	le := binary.LittleEndian
	for off := 0; off+cmsgHdrLen <= len(ctl); {
		clen := le.Uint64(ctl[off:])
		level, typ := int32(le.Uint32(ctl[off+8:])), int32(le.Uint32(ctl[off+12:]))
		if clen < cmsgHdrLen || clen > uint64(len(ctl)-off) {
			return unix.EINVAL
		}
		off += cmsgAlign(int(clen))
		if level != unix.SOL_SOCKET {
			continue
		}
		switch typ {
		case unix.SCM_RIGHTS, unix.SCM_CREDENTIALS, soMark, soTimestampingOld, scmTxtime:
		default:
			return unix.EINVAL
		}
	}
	return nil
}

// ipControl collects a control buffer's IP- and IPv6-level messages,
// which inet datagram sockets read (parseControl has checked the
// buffer's framing).
func ipControl(ctl []byte) []unixsock.Cmsg {
	var out []unixsock.Cmsg
	le := binary.LittleEndian
	for off := 0; off+cmsgHdrLen <= len(ctl); {
		clen := le.Uint64(ctl[off:])
		if clen < cmsgHdrLen || clen > uint64(len(ctl)-off) {
			break
		}
		level, typ := int(int32(le.Uint32(ctl[off+8:]))), int(int32(le.Uint32(ctl[off+12:])))
		if level == unix.IPPROTO_IP || level == unix.IPPROTO_IPV6 {
			out = append(out, unixsock.Cmsg{Level: level, Type: typ, Data: ctl[off+cmsgHdrLen : off+int(clen)]})
		}
		off += cmsgAlign(int(clen))
	}
	return out
}

// checkCreds allows a sender to claim its own pid and ids; CAP_SYS_ADMIN
// any pid, CAP_SETUID any uid, CAP_SETGID any gid (ids of the sender's
// user namespace). Linux: net/core/scm.c (scm_check_creds)
func checkCreds(t *kernel.Task, c unixsock.Cred) error {
	c.PID = int32(t.KPID(int(c.PID))) // as the sender's PID namespace numbers it
	cr := t.Creds()
	ku, uok := t.MapUID(c.UID)
	kg, gok := t.MapGID(c.GID)
	if c.PID != int32(t.PID()) && !t.HasCap(unix.CAP_SYS_ADMIN) ||
		uok && ku != cr.UID && ku != cr.EUID && ku != cr.SUID && !t.HasCap(unix.CAP_SETUID) ||
		gok && kg != cr.GID && kg != cr.EGID && kg != cr.SGID && !t.HasCap(unix.CAP_SETGID) {
		return unix.EPERM
	}
	if c.PID != int32(t.PID()) && t.Kernel().ThreadGroupByPID(int(c.PID)) == nil {
		return unix.ESRCH
	}
	if c.UID == ^uint32(0) || c.GID == ^uint32(0) {
		return unix.EINVAL
	}
	return nil
}

// doSendmsg is sendmsg(2); it also returns whether all data went.
func doSendmsg(t *kernel.Task, s sock, addr uint64, flags int) (int, bool, error) {
	m, err := readMsghdr(t, addr, true)
	if err != nil {
		return 0, false, err
	}
	var rights []*vfs.File
	var cred *unixsock.Cred
	if _, ok := s.(inetSock); ok {
		err = inetControlCheck(m.controlBytes)
	} else {
		rights, cred, err = parseControl(t, m.controlBytes)
	}
	if err != nil {
		return 0, false, err
	}
	to, err := sendTo(t, s, m.addr)
	if err != nil {
		dropFiles(rights)
		return 0, false, err
	}
	p, err := pin(t, m.iovecs, false)
	if err != nil {
		dropFiles(rights)
		return 0, false, err
	}
	defer p.unpin()
	total := 0
	for _, b := range p.bufs {
		total += len(b)
	}
	n, err := s.Send(t, p.bufs, unixsock.SendOpts{To: to, Flags: flags, Rights: rights, Cred: cred, Ctl: ipControl(m.controlBytes)})
	n, err = sendResult(t, n, err, flags)
	return n, n == total, err
}

// cmsgOut builds the control data of a received message: each message
// starts where the previous one's CMSG_SPACE ends, as far as msg_controllen
// allows. Linux: net/core/scm.c (put_cmsg, scm_detach_fds)
type cmsgOut struct {
	room  int    // msg_controllen left
	used  int    // how far the control pointer moved
	buf   []byte // the bytes to write, up to the end of the last message
	flags int
}

// write puts one message (clen bytes of header and data) at the control
// pointer and moves it by CMSG_SPACE of full data bytes, or what is left.
func (c *cmsgOut) write(clen, level, typ int, data []byte, full int) {
	for len(c.buf) < c.used {
		c.buf = append(c.buf, 0)
	}
	le := binary.LittleEndian
	c.buf = le.AppendUint64(c.buf, uint64(clen))
	c.buf = le.AppendUint32(c.buf, uint32(level))
	c.buf = le.AppendUint32(c.buf, uint32(typ))
	c.buf = append(c.buf, data[:clen-cmsgHdrLen]...)
	adv := min(cmsgAlign(cmsgHdrLen+full), c.room)
	c.used += adv
	c.room -= adv
}

// put is put_cmsg: a message truncated to the room left (MSG_CTRUNC).
func (c *cmsgOut) put(level, typ int, data []byte) {
	if c.room < cmsgHdrLen {
		c.flags |= unix.MSG_CTRUNC
		return
	}
	clen := cmsgHdrLen + len(data)
	if c.room < clen {
		c.flags |= unix.MSG_CTRUNC
		clen = c.room
	}
	c.write(clen, level, typ, data, len(data))
}

// rights installs as many files as fit and reports them in one
// SCM_RIGHTS; the rest are closed (MSG_CTRUNC).
func (c *cmsgOut) rights(t *kernel.Task, files []*vfs.File, cloexec bool) (installed []int) {
	fdmax := 0
	if c.room > cmsgHdrLen {
		fdmax = (c.room - cmsgHdrLen) / 4
	}
	var data []byte
	i := 0
	for ; i < len(files) && i < fdmax; i++ {
		fd, err := t.FDs().Install(files[i], 0, cloexec, t.FDLimit())
		if err != nil {
			break
		}
		installed = append(installed, fd)
		data = binary.LittleEndian.AppendUint32(data, uint32(fd))
	}
	dropFiles(files[i:])
	if i > 0 {
		c.write(cmsgHdrLen+len(data), unix.SOL_SOCKET, unix.SCM_RIGHTS, data, len(data))
	}
	if i < len(files) {
		c.flags |= unix.MSG_CTRUNC
	}
	return installed
}

// doRecvmsg is recvmsg(2): data, the sender's address, credentials and
// files, and msg_flags. It returns the byte count and msg_flags.
// Linux: net/socket.c (____sys_recvmsg), net/core/scm.c (scm_recv_unix)
func doRecvmsg(t *kernel.Task, s sock, addr uint64, flags int) (int, int, error) {
	m, err := readMsghdr(t, addr, false)
	if err != nil {
		return 0, 0, err
	}
	if m.ctrllen > 1<<31-1 {
		m.ctrllen = 1<<31 - 1
	}
	p, eof, err := pinRecv(t, s, m.iovecs, flags)
	if err != nil || eof {
		return 0, 0, err
	}
	defer p.unpin()
	r, err := s.Recv(t, p.bufs, flags, m.name != 0)
	if err != nil {
		return 0, 0, restartable(err)
	}
	out := cmsgOut{room: int(m.ctrllen), flags: r.Flags | flags&unix.MSG_CMSG_CLOEXEC}
	if m.control == 0 {
		if r.Cred != nil || len(r.Rights) > 0 || len(r.Ctl) > 0 {
			out.flags |= unix.MSG_CTRUNC
		}
		dropFiles(r.Rights)
	} else {
		if c := r.Cred; c != nil {
			b := binary.LittleEndian.AppendUint32(nil, uint32(t.VPID(int(c.PID))))
			b = binary.LittleEndian.AppendUint32(b, c.UID)
			out.put(unix.SOL_SOCKET, unix.SCM_CREDENTIALS, binary.LittleEndian.AppendUint32(b, c.GID))
		}
		for _, c := range r.Ctl {
			out.put(c.Level, c.Type, c.Data)
		}
		var fds []int
		if len(r.Rights) > 0 {
			fds = out.rights(t, r.Rights, flags&unix.MSG_CMSG_CLOEXEC != 0)
		}
		if len(out.buf) > 0 {
			if err := t.CopyOut(m.control, out.buf); err != nil {
				for _, fd := range fds {
					t.FDs().Close(fd)
				}
				return 0, 0, unix.EFAULT
			}
		}
	}
	if m.name != 0 {
		if err := writeSockaddr(t, r.From, m.name, addr+8); err != nil {
			return 0, 0, err
		}
	}
	le := binary.LittleEndian
	var fb [4]byte
	le.PutUint32(fb[:], uint32(out.flags))
	if err := t.CopyOut(addr+48, fb[:]); err != nil {
		return 0, 0, unix.EFAULT
	}
	var cb [8]byte
	le.PutUint64(cb[:], uint64(out.used))
	if err := t.CopyOut(addr+40, cb[:]); err != nil {
		return 0, 0, unix.EFAULT
	}
	return r.N, out.flags, nil
}

func sysSendmmsg(t *kernel.Task, a kernel.Args) (uint64, error) {
	return withSocket(t, a.Int(0), func(s sock) (uint64, error) {
		vlen := min(uint32(a[2]), uioMaxIOV)
		sent := uint32(0)
		var err error
		for ; sent < vlen; sent++ {
			entry := a[1] + uint64(sent)*mmsghdrSize
			var n int
			var all bool
			if n, all, err = doSendmsg(t, s, entry, a.Int(3)); err != nil {
				break
			}
			var b [4]byte
			binary.LittleEndian.PutUint32(b[:], uint32(n))
			if err = t.CopyOut(entry+msghdrSize, b[:]); err != nil {
				err = unix.EFAULT
				break
			}
			if !all {
				sent++
				break
			}
		}
		if sent > 0 {
			return uint64(sent), nil
		}
		return 0, err
	})
}

// sysRecvmmsg is recvmmsg(2): the timeout is checked after each message,
// as Linux does. Linux: net/socket.c (do_recvmmsg)
func sysRecvmmsg(t *kernel.Task, a kernel.Args) (uint64, error) {
	var end time.Time
	if a[4] != 0 {
		d, err := getTimespec(t, a[4])
		if err != nil {
			return 0, err
		}
		end = time.Now().Add(d)
	}
	return withSocket(t, a.Int(0), func(s sock) (uint64, error) {
		flags := a.Int(3)
		vlen := min(uint32(a[2]), uioMaxIOV)
		if err := s.TakeError(); err != nil && flags&unix.MSG_ERRQUEUE == 0 {
			return 0, err
		}
		got := uint32(0)
		var err error
		for got < vlen {
			entry := a[1] + uint64(got)*mmsghdrSize
			var n int
			if n, _, err = doRecvmsg(t, s, entry, flags&^unix.MSG_WAITFORONE); err != nil {
				break
			}
			var b [4]byte
			binary.LittleEndian.PutUint32(b[:], uint32(n))
			if err = t.CopyOut(entry+msghdrSize, b[:]); err != nil {
				err = unix.EFAULT
				break
			}
			got++
			if flags&unix.MSG_WAITFORONE != 0 {
				flags |= unix.MSG_DONTWAIT
			}
			if !end.IsZero() && !time.Now().Before(end) {
				break
			}
		}
		if a[4] != 0 && got > 0 {
			left := max(time.Until(end), 0) // what is left of the timeout
			if perr := putTimespec(t, a[4], unix.NsecToTimespec(left.Nanoseconds())); perr != nil {
				return 0, unix.EFAULT
			}
		}
		switch {
		case got > 0:
			if e := unixsock.Errno(err); e != 0 && e != unix.EAGAIN && e != unix.EINTR && e != abi.ERESTARTSYS {
				s.SetError(e) // reported by the next call, as Linux does
			}
			return uint64(got), nil
		case err != nil:
			return 0, err
		}
		return 0, nil
	})
}
