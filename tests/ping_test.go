package tests

import (
	"os/exec"
	"testing"
)

// pingSrc makes ping sockets (ICMP echo over SOCK_DGRAM) and, where it
// may, sends an echo request to 127.0.0.1 and ::1 and prints the reply.
const pingSrc = `#include <stdio.h>
#include <string.h>
#include <errno.h>
#include <unistd.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/ip_icmp.h>
#include <netinet/icmp6.h>
#include <arpa/inet.h>
#define E(x) ({ errno = 0; long r_ = (x); printf("%-55s = %s\n", #x, r_ < 0 ? strerror(errno) : "ok"); r_; })

/* ping sends one echo request with payload "glassbox" to 127.0.0.1 and
   prints the reply's type, code and payload (the kernel sets the id). */
static void ping4(int fd) {
	struct icmphdr h = { .type = ICMP_ECHO, .un.echo.sequence = htons(7) };
	char pkt[64], rep[128];
	memcpy(pkt, &h, sizeof h);
	memcpy(pkt + sizeof h, "glassbox", 8);
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	E(sendto(fd, pkt, sizeof h + 8, 0, (void *)&to, sizeof to));
	struct sockaddr_in from; socklen_t l = sizeof from;
	int n = recvfrom(fd, rep, sizeof rep, 0, (void *)&from, &l);
	if (n < 0) { printf("recv: %s\n", strerror(errno)); return; }
	struct icmphdr *r = (void *)rep;
	printf("reply from %s type %d code %d seq %d payload %.*s\n", inet_ntoa(from.sin_addr), r->type, r->code,
	       ntohs(r->un.echo.sequence), n - (int)sizeof *r, rep + sizeof *r);
}

static void ping6(int fd) {
	struct icmp6_hdr h = { .icmp6_type = ICMP6_ECHO_REQUEST, .icmp6_seq = htons(9) };
	char pkt[64], rep[128];
	memcpy(pkt, &h, sizeof h);
	memcpy(pkt + sizeof h, "sandbox6", 8);
	struct sockaddr_in6 to = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT };
	E(sendto(fd, pkt, sizeof h + 8, 0, (void *)&to, sizeof to));
	struct sockaddr_in6 from; socklen_t l = sizeof from;
	int n = recvfrom(fd, rep, sizeof rep, 0, (void *)&from, &l);
	if (n < 0) { printf("recv: %s\n", strerror(errno)); return; }
	struct icmp6_hdr *r = (void *)rep;
	char a[64];
	printf("reply6 from %s type %d code %d seq %d payload %.*s\n", inet_ntop(AF_INET6, &from.sin6_addr, a, sizeof a),
	       r->icmp6_type, r->icmp6_code, ntohs(r->icmp6_seq), n - (int)sizeof *r, rep + sizeof *r);
}

int main(void) {
	int fd = E(socket(AF_INET, SOCK_DGRAM, IPPROTO_ICMP));
	if (fd >= 0) ping4(fd);
	fd = E(socket(AF_INET6, SOCK_DGRAM, IPPROTO_ICMPV6));
	if (fd >= 0) ping6(fd);
	E(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, IPPROTO_ICMP));
	E(socket(AF_INET, SOCK_DGRAM, IPPROTO_ICMPV6));
	E(socket(AF_INET6, SOCK_DGRAM, IPPROTO_ICMP));
	E(socket(AF_INET, SOCK_STREAM, IPPROTO_ICMP));
	return 0;
}
`

// TestPingSocket: this host's net.ipv4.ping_group_range is "1 0", as in
// any fresh network namespace, so ping sockets are EACCES natively even
// for root; the sandbox's private loopback is such a namespace
// (--net=none), and with --net=host the host's range decides.
func TestPingSocket(t *testing.T) {
	bin := compileC(t, "ping", pingSrc)
	diff(t, []string{bin})
	diffWith(t, diffOpts{gbFlags: []string{"--net=host"}}, []string{bin})
}

// TestPingSocketAllowed: in a network namespace of its own whose range
// lets group 0 ping, the echo replies natively and through glassbox's
// host sockets (--net=host) are the same; the private loopback still
// says EACCES there.
func TestPingSocketAllowed(t *testing.T) {
	if _, err := exec.LookPath("unshare"); err != nil {
		t.Fatalf("unshare not found (%v): apt-get install util-linux", err)
	}
	bin := compileC(t, "ping", pingSrc)
	setup := "/usr/sbin/ip link set lo up && echo '0 0' > /proc/sys/net/ipv4/ping_group_range && "
	native := runNative(t, []string{"unshare", "-n", "sh", "-c", setup + "exec " + bin})
	if native.Code != 0 {
		t.Fatalf("native run in a new network namespace failed: %s", native)
	}
	if buildErr != nil {
		t.Fatalf("glassbox unavailable: %v", buildErr)
	}
	gb := runNative(t, []string{"unshare", "-n", "sh", "-c", setup + "exec " + glassboxBin + " run --net=host -- " + bin})
	expect(t, "ping in a namespace, --net=host", gb, native.Stdout, 0)
	none := runNative(t, []string{"unshare", "-n", "sh", "-c", setup + "exec " + glassboxBin + " run -- " + bin})
	want := runNative(t, []string{bin})
	expect(t, "ping in a namespace, --net=none", none, want.Stdout, 0)
}
