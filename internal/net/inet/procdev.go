package inet

import (
	"fmt"
	"os"
)

// The interface files of /proc/net. The loopback stack's only interface
// is lo, with no traffic counted; its IPv6 address ::1 exists while lo is
// up. A host stack (--net=host) shows the host's files, whose interfaces
// its sockets use. Linux: net/core/net-procfs.c (dev_seq_show),
// net/ipv4/fib_trie.c (fib_route_seq_show), net/ipv6/addrconf.c
// (if6_seq_show)

const devHeader = "Inter-|   Receive                                                |  Transmit\n" +
	" face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed\n"

// ProcDev renders /proc/net/dev.
func (st *Stack) ProcDev() []byte {
	if st.host {
		return hostProcFile("/proc/net/dev")
	}
	var z [16]uint64
	return fmt.Appendf([]byte(devHeader), "%6s: %7d %7d %4d %4d %4d %5d %10d %9d %8d %7d %4d %4d %4d %5d %7d %10d\n",
		"lo", z[0], z[1], z[2], z[3], z[4], z[5], z[6], z[7], z[8], z[9], z[10], z[11], z[12], z[13], z[14], z[15])
}

// ProcRoute renders /proc/net/route: the main table's IPv4 routes, none
// on a loopback-only stack (lo's are in the local table). A new
// namespace whose lo never came up has no table yet: not even the header.
func (st *Stack) ProcRoute() []byte {
	if st.host {
		return hostProcFile("/proc/net/route")
	}
	if st.down.Load() {
		return nil
	}
	b := []byte("Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT")
	for len(b) < udpWidth {
		b = append(b, ' ')
	}
	return append(b, '\n')
}

// ProcIfInet6 renders /proc/net/if_inet6: ::1 on lo (index 1, prefix
// 128, host scope, IFA_F_PERMANENT) while lo is up.
func (st *Stack) ProcIfInet6() []byte {
	if st.host {
		return hostProcFile("/proc/net/if_inet6")
	}
	if st.down.Load() {
		return nil
	}
	return []byte("00000000000000000000000000000001 01 80 10 80       lo\n")
}

func hostProcFile(name string) []byte {
	b, _ := os.ReadFile(name)
	return b
}
