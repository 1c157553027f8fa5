package tests

import (
	"strings"
	"testing"
)

// udpliteSrc uses UDP-Lite sockets on the loopback: the protocol as
// SO_PROTOCOL reports it, datagrams between two of them, a port space of
// their own (a UDP socket binds the same port), and the checksum
// coverage options with their bounds.
const udpliteSrc = `#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#ifndef IPPROTO_UDPLITE
#define IPPROTO_UDPLITE 136
#endif
#define SOL_UDPLITE 136
#define UDPLITE_SEND_CSCOV 10
#define UDPLITE_RECV_CSCOV 11
static void show(const char *what, long r) {
	if (r < 0) printf("%s: -1 %s\n", what, strerrorname_np(errno));
	else printf("%s: %ld\n", what, r);
}
int main(void) {
	int a = socket(AF_INET, SOCK_DGRAM, IPPROTO_UDPLITE);
	int b = socket(AF_INET, SOCK_DGRAM, IPPROTO_UDPLITE);
	int u = socket(AF_INET, SOCK_DGRAM, 0);
	show("stream udplite", socket(AF_INET, SOCK_STREAM, IPPROTO_UDPLITE));
	int v; socklen_t l = sizeof v;
	getsockopt(a, SOL_SOCKET, SO_PROTOCOL, &v, &l);
	printf("protocol %d\n", v);
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	show("bind a", bind(a, (void *)&sa, sizeof sa));
	l = sizeof sa;
	getsockname(a, (void *)&sa, &l);
	show("bind udp to the same port", bind(u, (void *)&sa, sizeof sa));
	show("bind another udplite there", bind(b, (void *)&sa, sizeof sa));
	show("sendto", sendto(b, "lite", 4, 0, (void *)&sa, sizeof sa));
	char buf[16] = {0};
	show("recv", recv(a, buf, sizeof buf, 0));
	printf("got %s\n", buf);
	show("udp gets nothing", recv(u, buf, sizeof buf, MSG_DONTWAIT));
	v = 5;
	show("send cscov 5", setsockopt(a, SOL_UDPLITE, UDPLITE_SEND_CSCOV, &v, sizeof v));
	l = sizeof v;
	getsockopt(a, SOL_UDPLITE, UDPLITE_SEND_CSCOV, &v, &l);
	printf("send cscov %d\n", v);
	v = 100000;
	show("recv cscov 100000", setsockopt(a, SOL_UDPLITE, UDPLITE_RECV_CSCOV, &v, sizeof v));
	getsockopt(a, SOL_UDPLITE, UDPLITE_RECV_CSCOV, &v, &l);
	printf("recv cscov %d\n", v);
	show("cscov on udp", setsockopt(u, SOL_UDPLITE, UDPLITE_SEND_CSCOV, &v, sizeof v));
	return 0;
}
`

// TestUDPLite: UDP-Lite sockets behave as on Linux's loopback.
func TestUDPLite(t *testing.T) {
	t.Parallel()
	bin := compileC(t, "udplite", udpliteSrc)
	native, _ := diffWith(t, diffOpts{freshNet: true}, []string{bin})
	if !strings.Contains(native.Stdout, "got lite") {
		t.Errorf("native run looks wrong:\n%s", native.Stdout)
	}
}
