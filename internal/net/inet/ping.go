package inet

import (
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"glassbox/internal/hostfd"
	"glassbox/internal/vfs"
)

// Ping sockets: socket(AF_INET, SOCK_DGRAM, IPPROTO_ICMP) and
// socket(AF_INET6, SOCK_DGRAM, IPPROTO_ICMPV6). Linux lets a process make
// one only when one of its groups is in net.ipv4.ping_group_range, which
// a fresh network namespace sets to "1 0" (nobody): so on the private
// loopback (--net=none) every caller gets EACCES, as in a new namespace.
// With --net=host the host's range decides, for the guest's own groups,
// and the socket is a host one made on the guest's behalf.
// Linux: net/ipv4/ping.c (ping_init_sock), net/ipv4/af_inet.c

// pingRangeFile is the host's setting.
const pingRangeFile = "/proc/sys/net/ipv4/ping_group_range"

// IsPing reports whether socket(family, typ, proto) asks for a ping
// socket (typ without flags).
func IsPing(family, typ, proto int) bool {
	return typ == unix.SOCK_DGRAM && (family == unix.AF_INET && proto == unix.IPPROTO_ICMP ||
		family == unix.AF_INET6 && proto == unix.IPPROTO_ICMPV6)
}

// pingAllowed reports whether gid or one of groups is in the host's range.
func pingAllowed(gid uint32, groups []uint32) bool {
	b, err := os.ReadFile(pingRangeFile)
	if err != nil {
		return false
	}
	f := strings.Fields(string(b))
	if len(f) != 2 {
		return false
	}
	lo, err1 := strconv.ParseUint(f[0], 10, 32)
	hi, err2 := strconv.ParseUint(f[1], 10, 32)
	if err1 != nil || err2 != nil {
		return false
	}
	in := func(g uint32) bool { return uint64(g) >= lo && uint64(g) <= hi }
	if in(gid) {
		return true
	}
	for _, g := range groups {
		if in(g) {
			return true
		}
	}
	return false
}

// NewPingFile returns the file of a new ping socket (IsPing), or EACCES.
func (st *Stack) NewPingFile(ctx vfs.Ctx, family, proto, fileFlags int) (*vfs.File, error) {
	c := ctx.Creds()
	if !st.host || c == nil || !pingAllowed(c.EGID, c.Groups) {
		return nil, unix.EACCES
	}
	fd, err := hostfd.Opened(unix.Socket(family, unix.SOCK_DGRAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, proto))
	if err != nil {
		return nil, err
	}
	s := st.newSocket(family, unix.SOCK_DGRAM)
	s.h = &hostSock{fd: fd, family: family, typ: unix.SOCK_DGRAM}
	s.uid = c.EUID
	return s.attach(ctx, fileFlags), nil
}
