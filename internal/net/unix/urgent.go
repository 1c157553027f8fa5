package unix

import "golang.org/x/sys/unix"

// Urgent data beyond AF_UNIX's own rules. When an oob byte is queued, the
// receiver's owner hears of it (SIGURG) through its file, or through the
// hook of a socket that is one end of an inet TCP connection
// (internal/net/inet), whose file is the inet socket's. Such an end also
// answers poll and SIOCINQ as TCP does about its urgent mark: the urgent
// byte (until a read passes it) is not data a plain read can take, so a
// socket whose next byte is the mark is readable only with more behind
// it, and SIOCINQ counts only the bytes before the mark.
// Linux: net/ipv4/tcp.c (tcp_poll, tcp_inq), net/ipv4/tcp_input.c
// (tcp_check_urg), net/unix/af_unix.c (queue_oob: sk_send_sigurg)

// SetTCP makes s one end of an inet TCP connection: urgent is called
// (without locks held) when an oob byte arrives for it.
func (s *Socket) SetTCP(urgent func()) {
	s.ns.mu.Lock()
	s.tcp, s.urgent = true, urgent
	s.ns.mu.Unlock()
}

// urgentFuncLocked returns what to call, once ns.mu is dropped, to tell
// s's owner that an oob byte arrived.
func (s *Socket) urgentFuncLocked() func() {
	if s.tcp {
		return s.urgent
	}
	f := s.file.Load()
	if f == nil {
		return nil
	}
	return f.Urgent
}

// tcpMarkLocked returns the queue index of TCP's urgent mark, the newest
// oob message still queued (pending, or taken but not yet passed by a
// read); -1 without one.
func (s *Socket) tcpMarkLocked() int {
	mark := -1
	for i := 0; i < s.queue.len(); i++ {
		m := s.queue.at(i)
		if m == s.oobMsg {
			return i
		}
		if m.taken {
			mark = i
		}
	}
	return mark
}

// tcpReadableLocked is tcp_poll's test: the bytes up to the sender's
// (rcv_nxt - copied_seq, the urgent byte included until passed) reach
// the target, which is one byte more when the next byte is the urgent
// one and it is not read inline.
func (s *Socket) tcpReadableLocked() bool {
	if s.oobMsg == nil && s.takenOOB == 0 {
		return s.inq > 0
	}
	avail, target := s.inq, 1
	if m := s.queue.at(0); m != nil && m.taken {
		avail++ // a taken urgent byte a read has not passed yet
	}
	if s.tcpMarkLocked() == 0 && !s.opts.flags[unix.SO_OOBINLINE] {
		target++
	}
	return avail >= target
}

// tcpInqLocked is tcp_inq: without an urgent mark ahead (or reading
// inline) every unread byte, else the bytes before the mark.
func (s *Socket) tcpInqLocked() int {
	if s.oobMsg == nil && s.takenOOB == 0 {
		return s.inq
	}
	mark := s.tcpMarkLocked()
	if mark < 0 || s.opts.flags[unix.SO_OOBINLINE] {
		return s.inq
	}
	n := 0
	for i := 0; i < mark; i++ {
		m := s.queue.at(i)
		n += len(m.data) - m.off
	}
	return n
}

// ProcState is what /proc/net/tcp shows of a connection end: its unread
// bytes (rcv_nxt - copied_seq) and whether the peer has closed its
// sending side (a FIN came: CLOSE_WAIT).
func (s *Socket) ProcState() (inq int, peerGone bool) {
	s.ns.mu.Lock()
	defer s.ns.mu.Unlock()
	return s.inq, s.shut&rcvShutdown != 0
}
