package inet

import (
	"cmp"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"golang.org/x/sys/unix"
)

// The socket tables of /proc/net (tcp, tcp6, udp, udp6, udplite,
// udplite6): every socket in the port table, listeners before
// connections, in Linux's columns. Kernel pointers print as zeros, as
// Linux prints them for readers without CAP_SYSLOG; the timers and
// congestion numbers are those of an idle loopback connection.
// Linux: net/ipv4/tcp_ipv4.c (tcp4_seq_show, get_tcp4_sock),
// net/ipv6/tcp_ipv6.c (get_tcp6_sock), net/ipv4/udp.c (udp4_format_sock),
// net/ipv6/datagram.c (__ip6_dgram_sock_seq_show)

// TCP states as /proc/net/tcp numbers them. Linux: include/net/tcp_states.h
const (
	tcpEstablished = 0x01
	tcpSynSent     = 0x02
	tcpFinWait2    = 0x05
	tcpClose       = 0x07
	tcpCloseWait   = 0x08
	tcpListen      = 0x0A
)

// Header lines. The IPv4 tables pad every line with spaces to a fixed
// width (seq_setwidth, seq_pad); the IPv6 ones do not.
const (
	tcpHeader  = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode"
	tcp6Header = "  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
	udpHeader  = "   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops"
	udp6Header = "  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops\n"
	tcpWidth   = 149 // TMPSZ - 1
	udpWidth   = 127
	nullPtr    = "0000000000000000"
	udpSlots   = 256 // the UDP hash table's size (sl is the port's slot)
)

// procSock is one row: a socket's fields read under st.mu.
type procSock struct {
	local, peer netip.AddrPort
	state       int
	rx          int
	uid         uint32
	ino         uint64
	listener    bool
}

// ProcTCP renders /proc/net/tcp (v6: tcp6).
func (st *Stack) ProcTCP(v6 bool) []byte {
	var b strings.Builder
	if v6 {
		b.WriteString(tcp6Header)
	} else {
		pad(&b, tcpHeader, tcpWidth)
	}
	for i, p := range st.procSocks(unix.SOCK_STREAM, v6) {
		state, to, rto, ssthresh, ref := p.state, "00:00000000", 20, "-1", 2
		if p.listener {
			rto, ssthresh, ref = 100, "0", 1
		}
		tail := fmt.Sprintf("%02X %08X:%08X %s %08X %5d %8d %d %d %s %d %d %d %d %s",
			state, 0, p.rx, to, 0, p.uid, 0, p.ino, ref, nullPtr, rto, 0, 0, 10, ssthresh)
		if v6 {
			fmt.Fprintf(&b, "%4d: %s %s %s\n", i, addr6(p.local), addr6(p.peer), tail)
		} else {
			pad(&b, fmt.Sprintf("%4d: %s %s %s", i, addr4(p.local), addr4(p.peer), tail), tcpWidth)
		}
	}
	return []byte(b.String())
}

// ProcUDP renders /proc/net/udp (v6: udp6; lite: udplite, udplite6).
func (st *Stack) ProcUDP(v6, lite bool) []byte {
	var b strings.Builder
	if v6 {
		b.WriteString(udp6Header)
	} else {
		pad(&b, udpHeader, udpWidth)
	}
	space := unix.SOCK_DGRAM
	if lite {
		space = unix.IPPROTO_UDPLITE
	}
	for _, p := range st.procSocks(space, v6) {
		tail := fmt.Sprintf("%02X %08X:%08X %02X:%08X %08X %5d %8d %d %d %s %d",
			p.state, 0, p.rx, 0, 0, 0, p.uid, 0, p.ino, 2, nullPtr, 0)
		sl := int(p.local.Port()) % udpSlots
		if v6 {
			fmt.Fprintf(&b, "%5d: %s %s %s\n", sl, addr6(p.local), addr6(p.peer), tail)
		} else {
			pad(&b, fmt.Sprintf("%5d: %s %s %s", sl, addr4(p.local), addr4(p.peer), tail), udpWidth)
		}
	}
	return []byte(b.String())
}

// procSocks lists the rows of one table: the sockets of port space space
// (a socket type, or IPPROTO_UDPLITE) and family. A TCP socket bound but
// neither listening nor connected is in no table, as in Linux.
func (st *Stack) procSocks(space int, v6 bool) []procSock {
	if st.host {
		return nil // the host's own tables are not the sandbox's to show
	}
	st.mu.Lock()
	var out []procSock
	var inners []*procInner
	for k, l := range st.bound {
		if k.typ != space {
			continue
		}
		for _, s := range l {
			if (s.family == unix.AF_INET6) != v6 || s.dead {
				continue
			}
			p := procSock{local: s.local, peer: s.peer, uid: s.uid, ino: s.ino}
			if s.file.Load() == nil {
				p.ino = 0 // an embryo not yet accepted
			}
			if s.typ == unix.SOCK_DGRAM {
				p.state, p.rx = tcpClose, s.qbytes
				if s.state == stateConnected {
					p.state = tcpEstablished
				}
				out = append(out, p)
				continue
			}
			switch {
			case s.state == stateListening:
				p.state, p.rx, p.listener = tcpListen, len(s.pending), true
			case s.state == stateConnected && s.innerSock != nil:
				p.state = tcpEstablished
				if s.shut&sendShutdown != 0 {
					p.state = tcpFinWait2
				}
			case s.state == stateConnected && s.connecting:
				p.state = tcpSynSent
			default:
				continue
			}
			out = append(out, p)
			if s.innerSock != nil {
				inners = append(inners, &procInner{i: len(out) - 1, s: s})
			}
		}
	}
	for _, in := range inners {
		in.inq, in.peerGone = in.s.innerSock.ProcState()
	}
	st.mu.Unlock()
	for _, in := range inners {
		out[in.i].rx = in.inq
		if in.peerGone && out[in.i].state == tcpEstablished {
			out[in.i].state = tcpCloseWait
		}
	}
	slices.SortStableFunc(out, func(a, b procSock) int {
		if a.listener != b.listener {
			if a.listener {
				return -1
			}
			return 1
		}
		return cmp.Or(cmp.Compare(a.local.Port(), b.local.Port()), cmp.Compare(a.peer.Port(), b.peer.Port()))
	})
	return out
}

type procInner struct {
	i        int
	s        *Socket
	inq      int
	peerGone bool
}

// addr4 is an IPv4 address and port as the tables print them: the
// address's network-order word printed as a little-endian number.
func addr4(ap netip.AddrPort) string {
	var a [4]byte
	if ip := ap.Addr().Unmap(); ip.Is4() {
		a = ip.As4()
	}
	return fmt.Sprintf("%02X%02X%02X%02X:%04X", a[3], a[2], a[1], a[0], ap.Port())
}

// addr6 is an IPv6 address (v4-mapped for an IPv4 one) and port: each of
// the four words printed as a little-endian number.
func addr6(ap netip.AddrPort) string {
	ip := ap.Addr()
	if !ip.IsValid() {
		ip = netip.IPv6Unspecified()
	}
	a := ip.As16()
	var b strings.Builder
	for i := 0; i < 16; i += 4 {
		fmt.Fprintf(&b, "%02X%02X%02X%02X", a[i+3], a[i+2], a[i+1], a[i])
	}
	fmt.Fprintf(&b, ":%04X", ap.Port())
	return b.String()
}

// pad writes line padded with spaces to width and a newline (seq_pad).
func pad(b *strings.Builder, line string, width int) {
	b.WriteString(line)
	for n := len(line); n < width; n++ {
		b.WriteByte(' ')
	}
	b.WriteByte('\n')
}
