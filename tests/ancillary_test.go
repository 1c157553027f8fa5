package tests

import (
	"strings"
	"testing"
)

// ancillarySrc sends UDP datagrams over the loopback with per-datagram
// options (IPV6_HOPLIMIT, IPV6_TCLASS, IP_TTL, IP_TOS) and receives them
// with what the receiver asked to learn (IPV6_RECVPKTINFO/RECVHOPLIMIT/
// RECVTCLASS, IP_PKTINFO/RECVTTL/RECVTOS), printing every control
// message, MSG_CTRUNC with a short buffer, and the errors of bad ones.
const ancillarySrc = `#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
static void show(const char *what, long r) {
	if (r < 0) printf("%s: -1 %s\n", what, strerrorname_np(errno));
	else printf("%s: %ld\n", what, r);
}
static int on = 1;
static void recv_show(const char *what, int s, size_t ctlsize) {
	char data[16], ctl[256];
	struct iovec iov = { data, sizeof data };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctlsize ? ctl : 0, .msg_controllen = ctlsize };
	long n = recvmsg(s, &m, 0);
	printf("%s: %ld bytes, flags %#x, controllen %zu\n", what, n, m.msg_flags, (size_t)m.msg_controllen);
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c)) {
		printf("  cmsg level %d type %d len %zu:", c->cmsg_level, c->cmsg_type, (size_t)c->cmsg_len);
		for (size_t i = 0; i < c->cmsg_len - CMSG_LEN(0) && i < 20; i++) printf(" %02x", CMSG_DATA(c)[i]);
		printf("\n");
	}
}
static long send_with(int s, struct sockaddr *to, socklen_t tl, int level, int type, int val) {
	char ctl[CMSG_SPACE(sizeof(int))] = {0};
	struct iovec iov = { "data", 4 };
	struct msghdr m = { .msg_name = to, .msg_namelen = tl, .msg_iov = &iov, .msg_iovlen = 1 };
	if (level >= 0) {
		m.msg_control = ctl; m.msg_controllen = sizeof ctl;
		struct cmsghdr *c = CMSG_FIRSTHDR(&m);
		c->cmsg_level = level; c->cmsg_type = type; c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &val, sizeof val);
	}
	return sendmsg(s, &m, 0);
}
int main(void) {
	int r6 = socket(AF_INET6, SOCK_DGRAM, 0), s6 = socket(AF_INET6, SOCK_DGRAM, 0);
	struct sockaddr_in6 a6 = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT };
	bind(r6, (void *)&a6, sizeof a6);
	socklen_t l = sizeof a6;
	getsockname(r6, (void *)&a6, &l);
	setsockopt(r6, IPPROTO_IPV6, IPV6_RECVHOPLIMIT, &on, sizeof on);
	setsockopt(r6, IPPROTO_IPV6, IPV6_RECVTCLASS, &on, sizeof on);
	setsockopt(r6, IPPROTO_IPV6, IPV6_RECVPKTINFO, &on, sizeof on);
	int v; l = sizeof v;
	getsockopt(r6, IPPROTO_IPV6, IPV6_RECVHOPLIMIT, &v, &l);
	printf("recvhoplimit %d\n", v);
	show("send plain", send_with(s6, (void *)&a6, sizeof a6, -1, 0, 0));
	recv_show("plain", r6, 256);
	show("send hoplimit 7", send_with(s6, (void *)&a6, sizeof a6, IPPROTO_IPV6, IPV6_HOPLIMIT, 7));
	recv_show("hoplimit 7", r6, 256);
	int tc = 0x20;
	setsockopt(s6, IPPROTO_IPV6, IPV6_TCLASS, &tc, sizeof tc);
	show("send tclass 0x48", send_with(s6, (void *)&a6, sizeof a6, IPPROTO_IPV6, IPV6_TCLASS, 0x48));
	recv_show("tclass 0x48", r6, 256);
	show("send socket tclass", send_with(s6, (void *)&a6, sizeof a6, -1, 0, 0));
	recv_show("short control buffer", r6, CMSG_SPACE(20) + 4);
	show("send socket tclass", send_with(s6, (void *)&a6, sizeof a6, -1, 0, 0));
	recv_show("no control buffer", r6, 0);
	show("hoplimit 300", send_with(s6, (void *)&a6, sizeof a6, IPPROTO_IPV6, IPV6_HOPLIMIT, 300));
	show("unknown ipv6 cmsg", send_with(s6, (void *)&a6, sizeof a6, IPPROTO_IPV6, 9999, 1));

	int r4 = socket(AF_INET, SOCK_DGRAM, 0), s4 = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in a4 = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	bind(r4, (void *)&a4, sizeof a4);
	l = sizeof a4;
	getsockname(r4, (void *)&a4, &l);
	setsockopt(r4, IPPROTO_IP, IP_PKTINFO, &on, sizeof on);
	setsockopt(r4, IPPROTO_IP, IP_RECVTTL, &on, sizeof on);
	setsockopt(r4, IPPROTO_IP, IP_RECVTOS, &on, sizeof on);
	show("send ttl 9", send_with(s4, (void *)&a4, sizeof a4, IPPROTO_IP, IP_TTL, 9));
	recv_show("ipv4 ttl 9", r4, 256);
	show("ttl 0", send_with(s4, (void *)&a4, sizeof a4, IPPROTO_IP, IP_TTL, 0));
	show("ipv6 cmsg on ipv4", send_with(s4, (void *)&a4, sizeof a4, IPPROTO_IPV6, IPV6_HOPLIMIT, 3));
	recv_show("ipv4 after ipv6 cmsg", r4, 256);
	return 0;
}
`

// TestAncillaryIP: per-datagram IP and IPv6 options and what a receiver
// learns about each datagram, as on Linux's loopback.
func TestAncillaryIP(t *testing.T) {
	t.Parallel()
	bin := compileC(t, "ancillary", ancillarySrc)
	native, _ := diffWith(t, diffOpts{freshNet: true}, []string{bin})
	for _, want := range []string{"hoplimit 7: 4 bytes", "hoplimit 300: -1 EINVAL", "flags 0x8"} {
		if !strings.Contains(native.Stdout, want) {
			t.Errorf("native run lacks %q:\n%s", want, native.Stdout)
		}
	}
}
