package tests

import (
	"strings"
	"testing"
)

// getifaddrsSrc prints every getifaddrs(3) entry (of the interface named
// by argv[1], if given): name, family, address, netmask and flags.
const getifaddrsSrc = `
#include <stdio.h>
#include <string.h>
#include <ifaddrs.h>
#include <arpa/inet.h>
#include <netpacket/packet.h>
#include <net/if.h>

static void addr(const struct sockaddr *sa, char *buf, size_t n) {
	if (!sa) { snprintf(buf, n, "-"); return; }
	if (sa->sa_family == AF_INET) inet_ntop(AF_INET, &((struct sockaddr_in *)sa)->sin_addr, buf, n);
	else if (sa->sa_family == AF_INET6) inet_ntop(AF_INET6, &((struct sockaddr_in6 *)sa)->sin6_addr, buf, n);
	else if (sa->sa_family == AF_PACKET) {
		struct sockaddr_ll *l = (struct sockaddr_ll *)sa;
		char *p = buf + sprintf(buf, "ll%d/%d/", l->sll_ifindex, l->sll_hatype);
		for (int i = 0; i < l->sll_halen; i++) p += sprintf(p, "%02x", l->sll_addr[i]);
	} else snprintf(buf, n, "family%d", sa->sa_family);
}

int main(int argc, char **argv) {
	struct ifaddrs *ifa, *p;
	if (getifaddrs(&ifa) != 0) { perror("getifaddrs"); return 1; }
	for (p = ifa; p; p = p->ifa_next) {
		if (argc > 1 && strcmp(p->ifa_name, argv[1]) != 0) continue;
		char a[128], m[128];
		addr(p->ifa_addr, a, sizeof a);
		addr(p->ifa_netmask, m, sizeof m);
		printf("%s fam=%d addr=%s mask=%s flags=%#x data=%d index=%u\n", p->ifa_name,
		       p->ifa_addr ? p->ifa_addr->sa_family : -1, a, m, p->ifa_flags, p->ifa_data != 0,
		       if_nametoindex(p->ifa_name));
	}
	freeifaddrs(ifa);
	struct if_nameindex *ni = if_nameindex(), *q;
	for (q = ni; q && q->if_index; q++) {
		char name[IF_NAMESIZE];
		if (argc > 1 && strcmp(q->if_name, argv[1]) != 0) continue;
		printf("if_nameindex %u %s %s\n", q->if_index, q->if_name, if_indextoname(q->if_index, name));
	}
	if_freenameindex(ni);
	return 0;
}
`

// TestNetlinkGetifaddrs: with --net=none getifaddrs lists lo exactly as
// a fresh network namespace lists its lo (AF_PACKET, 127.0.0.1/8, ::1/128) and nothing
// else; with --net=host the host's whole list. if_nametoindex (an ioctl
// on an AF_UNIX socket) and if_nameindex (netlink) agree with it.
func TestNetlinkGetifaddrs(t *testing.T) {
	bin := compileC(t, "getifaddrs", getifaddrsSrc)
	fresh := diffOpts{freshNet: true}
	diffWith(t, fresh, []string{bin, "lo"})
	gb := runGlassbox(t, nil, []string{bin})
	lo := runNative(t, append(freshNetPrefix(t), bin, "lo"))
	expect(t, "getifaddrs --net=none", gb, lo.Stdout, 0)
	if !strings.Contains(lo.Stdout, "lo fam=2 addr=127.0.0.1 mask=255.0.0.0 flags=0x10049 data=0 index=1") {
		t.Errorf("native lo is not as expected:\n%s", lo.Stdout)
	}
	diffWith(t, diffOpts{gbFlags: []string{"--net=host"}}, []string{bin})
}

// TestNetlinkIPLo: iproute2 inside the sandbox sees lo as a fresh network
// namespace's lo.
func TestNetlinkIPLo(t *testing.T) {
	for _, argv := range [][]string{
		{"/usr/sbin/ip", "-o", "addr", "show", "lo"},
		{"/usr/sbin/ip", "link", "show", "lo"},
		{"/usr/sbin/ip", "addr", "show", "dev", "lo"},
		{"/usr/sbin/ip", "-s", "-d", "-o", "-4", "addr", "show", "lo"},
		{"/usr/sbin/ip", "route", "show", "table", "local", "dev", "lo"},
		{"/usr/sbin/ip", "-6", "route", "show", "table", "local", "dev", "lo"},
	} {
		diffWith(t, diffOpts{freshNet: true}, argv)
	}
	// The whole sandbox is lo: no other link, no main-table route.
	expect(t, "ip -o link", runGlassbox(t, nil, []string{"/usr/sbin/ip", "-o", "link"}),
		"1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN mode DEFAULT group default qlen 1000\\    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00\n", 0)
	expect(t, "ip route", runGlassbox(t, nil, []string{"/usr/sbin/ip", "route"}), "", 0)
	// Changes need CAP_NET_ADMIN, which the sandbox never has (natively
	// we are root, so there is nothing to compare with).
	r := runGlassbox(t, nil, []string{"/usr/sbin/ip", "link", "set", "lo", "mtu", "1500"})
	expect(t, "ip link set", r, "", 2)
	if !strings.Contains(r.Stderr, "Operation not permitted") {
		t.Errorf("ip link set: want EPERM, got %s", r)
	}
}

// TestNetlinkIPHost: with --net=host iproute2 lists the host's links,
// addresses and routes (relayed from a host netlink socket).
func TestNetlinkIPHost(t *testing.T) {
	o := diffOpts{gbFlags: []string{"--net=host"}}
	for _, argv := range [][]string{
		{"/usr/sbin/ip", "-o", "addr"},
		{"/usr/sbin/ip", "link"},
		{"/usr/sbin/ip", "route"},
		{"/usr/sbin/ip", "-6", "route", "show", "table", "all"},
		{"/usr/sbin/ip", "rule"},
		{"/usr/sbin/ip", "route", "get", "127.0.0.1"},
		{"/usr/sbin/ip", "link", "show", "nosuchif0"},
	} {
		diffWith(t, o, argv)
	}
}

// netlinkSocketSrc exercises the socket layer of AF_NETLINK: creation
// errors, bind and autobind, names, options, acks and errors, gets by name
// and index, MSG_PEEK|MSG_TRUNC, poll, and messages between two sockets.
const netlinkSocketSrc = `#include <stdio.h>
#include <string.h>
#include <errno.h>
#include <unistd.h>
#include <poll.h>
#include <sys/socket.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#define E(x) do { errno = 0; long r_ = (x); printf("%-40s = %ld %s\n", #x, r_, r_ < 0 ? strerror(errno) : ""); } while (0)

static int req(int fd, int type, int flags, int seq, const void *body, int blen) {
	char buf[256];
	struct nlmsghdr *h = (struct nlmsghdr *)buf;
	memset(buf, 0, sizeof buf);
	h->nlmsg_len = NLMSG_LENGTH(blen);
	h->nlmsg_type = type;
	h->nlmsg_flags = flags;
	h->nlmsg_seq = seq;
	memcpy(NLMSG_DATA(h), body, blen);
	struct sockaddr_nl k = { .nl_family = AF_NETLINK };
	return sendto(fd, buf, h->nlmsg_len, 0, (struct sockaddr *)&k, sizeof k);
}

/* show prints the messages of one datagram: type, flags, seq, pid==ours,
   and for errors the errno and the echoed length. */
static void show(int fd, unsigned pid) {
	static char buf[65536];
	struct sockaddr_nl from;
	struct iovec iov = { buf, sizeof buf };
	struct msghdr m = { .msg_name = &from, .msg_namelen = sizeof from, .msg_iov = &iov, .msg_iovlen = 1 };
	int n = recvmsg(fd, &m, MSG_DONTWAIT);
	if (n < 0) { printf("recv: %s\n", strerror(errno)); return; }
	printf("recv %s namelen=%d from=%u/%u flags=%#x:", n > 0 ? "data" : "empty", m.msg_namelen, from.nl_pid, from.nl_groups, m.msg_flags);
	for (struct nlmsghdr *h = (void *)buf; NLMSG_OK(h, n); h = NLMSG_NEXT(h, n)) {
		printf(" [type=%d flags=%#x seq=%u mine=%d", h->nlmsg_type, h->nlmsg_flags, h->nlmsg_seq, h->nlmsg_pid == pid);
		if (h->nlmsg_type != RTM_NEWLINK) printf(" len=%u", h->nlmsg_len);
		if (h->nlmsg_type == NLMSG_ERROR) {
			struct nlmsgerr *e = NLMSG_DATA(h);
			printf(" err=%d echo=%u/%u", e->error, e->msg.nlmsg_len, e->msg.nlmsg_seq);
		}
		if (h->nlmsg_type == RTM_NEWLINK) {
			struct ifinfomsg *i = NLMSG_DATA(h);
			printf(" idx=%d flags=%#x type=%d", i->ifi_index, i->ifi_flags, i->ifi_type);
		}
		printf("]");
	}
	printf("\n");
}

int main(void) {
	int one = 1, v; socklen_t l;
	E(socket(AF_NETLINK, SOCK_STREAM, NETLINK_ROUTE));
	E(socket(AF_NETLINK, SOCK_RAW, 32));
	E(socket(AF_NETLINK, SOCK_RAW, -1));
	int sv[2];
	E(socketpair(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE, sv));
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	int fd2 = socket(AF_NETLINK, SOCK_DGRAM, NETLINK_ROUTE);
	printf("fds ok: %d\n", fd >= 0 && fd2 >= 0);
	struct sockaddr_nl a = { .nl_family = AF_NETLINK };
	l = sizeof a;
	E(getsockname(fd, (struct sockaddr *)&a, &l));
	printf("unbound: len=%d fam=%d pid=%u\n", l, a.nl_family, a.nl_pid);
	E(bind(fd, (struct sockaddr *)&a, 4));
	a.nl_family = AF_INET;
	E(bind(fd, (struct sockaddr *)&a, sizeof a));
	a.nl_family = AF_NETLINK;
	E(bind(fd, (struct sockaddr *)&a, sizeof a));
	l = sizeof a;
	getsockname(fd, (struct sockaddr *)&a, &l);
	unsigned pid = a.nl_pid;
	printf("bound: pid is getpid: %d\n", pid == (unsigned)getpid());
	a.nl_pid = pid + 1;
	E(bind(fd, (struct sockaddr *)&a, sizeof a));
	a.nl_pid = pid;
	E(bind(fd2, (struct sockaddr *)&a, sizeof a));
	a.nl_pid = 0;
	E(bind(fd2, (struct sockaddr *)&a, sizeof a));
	l = sizeof a;
	getsockname(fd2, (struct sockaddr *)&a, &l);
	printf("second: negative=%d\n", (int)a.nl_pid < 0);
	l = sizeof a;
	E(getpeername(fd, (struct sockaddr *)&a, &l));
	printf("peer: pid=%u\n", a.nl_pid);
	E(listen(fd, 1));
	E(accept(fd, 0, 0));
	E(shutdown(fd, SHUT_RDWR));

	l = sizeof v; getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v, &l); printf("rcvbuf %d\n", v);
	l = sizeof v; getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &v, &l); printf("protocol %d\n", v);
	l = sizeof v; getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &v, &l); printf("domain %d\n", v);
	l = sizeof v; getsockopt(fd2, SOL_SOCKET, SO_TYPE, &v, &l); printf("type %d\n", v);
	v = 32768; E(setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &v, sizeof v));
	l = sizeof v; getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &v, &l); printf("sndbuf %d\n", v);
	E(setsockopt(fd, SOL_NETLINK, NETLINK_GET_STRICT_CHK, &one, sizeof one));
	l = sizeof v; E(getsockopt(fd, SOL_NETLINK, NETLINK_GET_STRICT_CHK, &v, &l)); printf("strict %d len %d\n", v, l);
	l = 2; E(getsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &v, &l));
	E(setsockopt(fd, SOL_NETLINK, 99, &one, sizeof one));
	E(setsockopt(fd, 0, 2, &one, sizeof one));
	E(setsockopt(fd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &(int){0}, sizeof one));
	v = 0; E(setsockopt(fd, SOL_NETLINK, NETLINK_GET_STRICT_CHK, &v, sizeof v));

	struct pollfd p = { fd, POLLIN | POLLOUT };
	E(poll(&p, 1, 0)); printf("revents %#x\n", p.revents);
	/* A no-op control message with an ack, a non-request, a change. */
	struct rtgenmsg g = { AF_PACKET };
	E(req(fd, NLMSG_NOOP, NLM_F_REQUEST | NLM_F_ACK, 1, &g, sizeof g));
	show(fd, pid);
	E(req(fd, RTM_GETLINK, NLM_F_DUMP, 2, &g, sizeof g));
	show(fd, pid);
	E(req(fd, 200, NLM_F_REQUEST, 3, &g, sizeof g));
	show(fd, pid);
	E(req(fd, RTM_GETLINK, NLM_F_REQUEST, 4, &g, 0));
	show(fd, pid);
	/* Get lo by name and by index, and an unknown name. */
	struct { struct ifinfomsg i; struct rtattr a; char name[16]; } q = {0};
	q.a.rta_type = IFLA_IFNAME; q.a.rta_len = RTA_LENGTH(3); strcpy(q.name, "lo");
	E(req(fd, RTM_GETLINK, NLM_F_REQUEST, 5, &q, sizeof q.i + RTA_ALIGN(q.a.rta_len)));
	E(poll(&p, 1, 0)); printf("revents %#x\n", p.revents);
	show(fd, pid);
	q.i.ifi_index = 1;
	E(req(fd, RTM_GETLINK, NLM_F_REQUEST | NLM_F_ACK, 6, &q, sizeof q.i));
	show(fd, pid);
	show(fd, pid);
	q.i.ifi_index = 0; strcpy(q.name, "nosuchif0"); q.a.rta_len = RTA_LENGTH(10);
	E(req(fd, RTM_GETLINK, NLM_F_REQUEST, 7, &q, sizeof q.i + RTA_ALIGN(q.a.rta_len)));
	show(fd, pid);
	E(req(fd, RTM_GETLINK, NLM_F_REQUEST, 8, &q, 4));
	show(fd, pid);
	/* MSG_PEEK|MSG_TRUNC tells a datagram's size; a short read truncates. */
	E(req(fd, RTM_GETADDR, NLM_F_REQUEST | NLM_F_DUMP, 9, &g, sizeof g));
	char small[20];
	int peek = recv(fd, small, 0, MSG_PEEK | MSG_TRUNC);
	struct iovec iov = { small, sizeof small };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };
	int got = recvmsg(fd, &m, 0);
	printf("peek>20 %d got %d flags %#x type %d\n", peek > 20, got, m.msg_flags, ((struct nlmsghdr *)small)->nlmsg_type);
	while (recv(fd, small, sizeof small, MSG_DONTWAIT) > 0)
		;
	E(recv(fd, small, sizeof small, MSG_DONTWAIT));
	E(recv(fd, small, sizeof small, MSG_OOB));
	/* Messages between two sockets of the sandbox. */
	l = sizeof a; getsockname(fd, (struct sockaddr *)&a, &l);
	E(sendto(fd2, "hello", 5, 0, (struct sockaddr *)&a, sizeof a));
	struct sockaddr_nl from; l = sizeof from;
	E(recvfrom(fd, small, sizeof small, 0, (struct sockaddr *)&from, &l));
	printf("from the second socket: %d\n", (int)from.nl_pid < 0);
	a.nl_pid = 12345678;
	E(sendto(fd2, "hello", 5, 0, (struct sockaddr *)&a, sizeof a));
	l = sizeof a; getsockname(fd, (struct sockaddr *)&a, &l);
	E(sendto(fd2, "", 0, 0, (struct sockaddr *)&a, sizeof a));
	E(write(fd, "", 0));
	return 0;
}
`

// TestNetlinkSocket: the netlink socket layer behaves as the host's, on
// the made-up lo (--net=none) and relayed to the host (--net=host).
func TestNetlinkSocket(t *testing.T) {
	bin := compileC(t, "netlink_socket", netlinkSocketSrc)
	diff(t, []string{bin})
	diffWith(t, diffOpts{gbFlags: []string{"--net=host"}}, []string{bin})
}
