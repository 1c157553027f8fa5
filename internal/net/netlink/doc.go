// Package netlink implements AF_NETLINK sockets of protocol NETLINK_ROUTE
// (issue 7): enough rtnetlink for getifaddrs(3) and iproute2's `ip link`,
// `ip addr` and `ip route` to list the sandbox's interfaces.
//
// A Namespace is one sandbox's netlink world: its port ids (nl_pid, bound
// explicitly or by autobind: the process id first, then negative numbers
// from -4096 down, as Linux does) and where rtnetlink answers come from.
// A Socket is one socket and the vfs.FileOps of its file: a queue of
// datagrams (from "the kernel", port 0, or from another socket of the
// sandbox), SOL_SOCKET and SOL_NETLINK options, poll readiness.
//
// Requests. A send to port 0 is parsed as Linux's netlink_rcv_skb does:
// each message with NLM_F_REQUEST and a type of at least NLMSG_MIN_TYPE
// goes to rtnetlink (route.go); an error, or NLM_F_ACK, draws an
// NLMSG_ERROR. Only the GET kinds are answered: a change (RTM_NEW*,
// RTM_DEL*, RTM_SET*) is EPERM, as for a process without CAP_NET_ADMIN.
// With --net=none (lo.go) the answers are made up: one interface, lo
// (index 1, 127.0.0.1/8, ::1/128, mtu 65536), and its local routes. With
// --net=host (host.go) each GET is relayed on a host NETLINK_ROUTE socket
// glassbox owns (the guest never sees its descriptor), the replies are
// read until the request is answered, their nlmsg_pid rewritten to the
// guest's port, and queued. Either way a dump's messages are packed into
// datagrams as Linux's netlink_dump does (one page, or as much as the
// largest receive buffer the socket has seen, up to 32 KiB), ending with
// NLMSG_DONE, so readers with a page-sized buffer (glibc) never truncate.
// Multicast groups can be joined but nothing is ever broadcast.
//
// Lock order: Namespace.mu guards every Socket's state; it is never held
// while waiting, while talking to the host, or across a DecRef.
//
// Linux: net/netlink/af_netlink.c, net/core/rtnetlink.c,
// net/ipv4/devinet.c, net/ipv6/addrconf.c, net/ipv4/fib_frontend.c.
package netlink
