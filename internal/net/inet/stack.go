package inet

import (
	"math/rand/v2"
	"net/netip"
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"

	unixsock "glassbox/internal/net/unix"
)

// Ephemeral ports. Linux: net.ipv4.ip_local_port_range
const (
	ephemeralLow  = 32768
	ephemeralHigh = 60999
)

// portKey is one port of one protocol (SOCK_STREAM or SOCK_DGRAM).
type portKey struct {
	typ  int
	port uint16
}

// Stack is one sandbox's inet sockets: the port table and the private
// unix namespace whose socket pairs carry TCP connections.
type Stack struct {
	pairs *unixsock.Namespace
	host  bool        // sockets are host sockets (--net=host)
	down  atomic.Bool // a new network namespace's lo is down: nothing is reachable

	mu    sync.Mutex
	bound map[portKey][]*Socket
}

// NewStack returns an empty loopback-only stack.
func NewStack() *Stack {
	return &Stack{pairs: unixsock.NewNamespace(nil), bound: map[portKey][]*Socket{}}
}

// NewDownStack returns the stack of a new network namespace, whose only
// interface (lo) is down: no address can be bound but the wildcard, and
// every destination is unreachable.
func NewDownStack() *Stack {
	st := NewStack()
	st.down.Store(true)
	return st
}

// SetUp brings the namespace's lo up (ip link set lo up).
func (st *Stack) SetUp() { st.down.Store(false) }

// span is the set of local addresses a binding covers.
type span struct {
	v4all, v6all bool
	one          netip.Addr // a single address (unmapped), if valid
}

func spanOf(ip netip.Addr, v6only bool) span {
	switch {
	case !ip.IsUnspecified():
		return span{one: ip}
	case ip.Is4():
		return span{v4all: true}
	}
	return span{v6all: true, v4all: !v6only}
}

func (a span) covers(ip netip.Addr) bool {
	return a.one == ip || a.v4all && ip.Is4() || a.v6all && ip.Is6()
}

func (a span) overlaps(b span) bool {
	return a.v4all && (b.v4all || b.one.Is4()) || a.v6all && (b.v6all || b.one.Is6()) ||
		b.v4all && a.one.Is4() || b.v6all && a.one.Is6() || a.one.IsValid() && a.one == b.one
}

// spanLocked is the set of addresses s is bound to.
func (s *Socket) spanLocked() span { return spanOf(s.local.Addr(), s.v6only) }

// conflictLocked reports whether s may not share its port with o, bound
// to the addresses of sp. Linux: net/ipv4/inet_connection_sock.c
// (inet_bind_conflict), net/ipv4/udp.c (udp_lib_lport_inuse)
func conflictLocked(s *Socket, sp span, o *Socket) bool {
	if o == s || !sp.overlaps(o.spanLocked()) {
		return false
	}
	if s.opts.reuseport && o.opts.reuseport && s.uid == o.uid {
		return false
	}
	if s.opts.reuseaddr && o.opts.reuseaddr && (s.typ == unix.SOCK_DGRAM || o.state != stateListening) {
		return false
	}
	return true
}

// bindLocked binds s to ip and port, choosing an ephemeral port for 0.
// Linux: net/ipv4/af_inet.c (__inet_bind), inet_csk_get_port
func (st *Stack) bindLocked(s *Socket, ip netip.Addr, port uint16) error {
	sp := spanOf(ip, s.v6only)
	if port == 0 {
		p, err := st.ephemeralLocked(s, sp)
		if err != nil {
			return err
		}
		port = p
		s.autoPort = true
	} else {
		for _, o := range st.bound[portKey{s.space(), port}] {
			if conflictLocked(s, sp, o) {
				return unix.EADDRINUSE
			}
		}
	}
	s.local = netip.AddrPortFrom(ip, port)
	s.bound = true
	k := portKey{s.space(), port}
	st.bound[k] = append(st.bound[k], s)
	return nil
}

// ephemeralLocked finds a port no socket of s's type uses at all.
func (st *Stack) ephemeralLocked(s *Socket, sp span) (uint16, error) {
	n := ephemeralHigh - ephemeralLow + 1
	start := rand.IntN(n)
	for i := range n {
		p := uint16(ephemeralLow + (start+i)%n)
		if len(st.bound[portKey{s.space(), p}]) == 0 {
			return p, nil
		}
	}
	return 0, unix.EADDRINUSE
}

// unbindLocked takes s out of the port table.
func (st *Stack) unbindLocked(s *Socket) {
	if !s.bound {
		return
	}
	k := portKey{s.space(), s.local.Port()}
	l := st.bound[k]
	for i, o := range l {
		if o == s {
			l = append(l[:i], l[i+1:]...)
			break
		}
	}
	if len(l) == 0 {
		delete(st.bound, k)
	} else {
		st.bound[k] = l
	}
	s.bound, s.autoPort = false, false
	s.local = netip.AddrPort{}
}

// lookupLocked finds the socket of type typ that receives for dst: one
// bound to dst's address wins over a wildcard. Linux: net/ipv4/
// inet_hashtables.c (__inet_lookup_listener scores), udp.c (compute_score)
func (st *Stack) lookupLocked(typ int, dst netip.AddrPort, ok func(*Socket) bool) *Socket {
	var wild *Socket
	for _, o := range st.bound[portKey{typ, dst.Port()}] {
		if o.dead || !ok(o) || !o.spanLocked().covers(dst.Addr()) {
			continue
		}
		if o.local.Addr() == dst.Addr() {
			return o
		}
		if wild == nil {
			wild = o
		}
	}
	return wild
}
