package tests

import "testing"

// oobSrc sends and receives out-of-band bytes on TCP and AF_UNIX streams:
// the mark, SIOCATMARK, POLLPRI, MSG_OOB with MSG_PEEK, a second mark
// replacing the first, SO_OOBINLINE, and the families that refuse it.
const oobSrc = `#include <stdio.h>
#include <string.h>
#include <errno.h>
#include <unistd.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/ioctl.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#define E(x) do { errno = 0; long r_ = (x); printf("%-52s = %ld %s\n", #x, r_, r_ < 0 ? strerror(errno) : ""); } while (0)
static void tcp(int *a, int *b) {
	int l = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in s = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t n = sizeof s;
	bind(l, (void *)&s, sizeof s); listen(l, 1); getsockname(l, (void *)&s, &n);
	*a = socket(AF_INET, SOCK_STREAM, 0); connect(*a, (void *)&s, sizeof s); *b = accept(l, 0, 0); close(l);
}
static char buf[32];
static void rd(int b, int flags) {
	memset(buf, 0, sizeof buf);
	errno = 0;
	struct iovec iov = { buf, sizeof buf - 1 };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };
	int n = recvmsg(b, &m, flags | MSG_DONTWAIT);
	int at = -1; ioctl(b, SIOCATMARK, &at);
	printf("  recv(%#x) = %d %s [%s] msgflags=%#x atmark=%d\n", flags, n, n < 0 ? strerror(errno) : "", buf, m.msg_flags, at);
}
static void pollpri(int b) {
	struct pollfd p = { b, POLLIN | POLLPRI };
	poll(&p, 1, 0);
	printf("  revents %#x\n", p.revents);
}
static void test(const char *what, int a, int b) {

	printf("== %s\n", what);
	pollpri(b);
	rd(b, MSG_OOB);
	E(send(a, "12", 2, MSG_OOB));
	usleep(50000);
	pollpri(b);
	rd(b, MSG_OOB | MSG_PEEK);
	rd(b, MSG_PEEK);
	rd(b, 0);
	rd(b, 0);
	pollpri(b);
	rd(b, MSG_OOB);
	/* Two marks: the second wins; the first byte is plain data. */
	E(send(a, "ab", 2, MSG_OOB));
	E(send(a, "cd", 2, MSG_OOB));
	usleep(50000);
	rd(b, 0);
	rd(b, MSG_OOB);
	rd(b, 0);
	/* Read the oob byte first, then everything. */
	E(send(a, "xyz", 3, MSG_OOB));
	E(send(a, "w", 1, 0));
	usleep(50000);
	rd(b, MSG_OOB);
	rd(b, 0);
}
static void inl(const char *what, int a, int b) {
	int one = 1;
	printf("== %s inline\n", what);
	E(setsockopt(b, SOL_SOCKET, SO_OOBINLINE, &one, sizeof one));
	E(send(a, "pq", 2, MSG_OOB));
	E(send(a, "r", 1, 0));
	usleep(50000);
	pollpri(b);
	rd(b, MSG_OOB);
	rd(b, 0);
	rd(b, 0);
}
int main(void) {
	int a, b, sv[2];
	tcp(&a, &b); test("tcp", a, b);
	tcp(&a, &b); inl("tcp", a, b);
	socketpair(AF_UNIX, SOCK_STREAM, 0, sv); test("unix stream", sv[0], sv[1]);
	socketpair(AF_UNIX, SOCK_STREAM, 0, sv); inl("unix stream", sv[0], sv[1]);
	printf("== others\n");
	socketpair(AF_UNIX, SOCK_DGRAM, 0, sv);
	E(send(sv[0], "x", 1, MSG_OOB)); E(recv(sv[1], buf, 1, MSG_OOB | MSG_DONTWAIT));
	int at = 7; E(ioctl(sv[1], SIOCATMARK, &at));
	socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv);
	E(send(sv[0], "x", 1, MSG_OOB)); E(recv(sv[1], buf, 1, MSG_OOB | MSG_DONTWAIT));
	socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	E(send(sv[0], "", 0, MSG_OOB));
	int u = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in s = { .sin_family = AF_INET, .sin_port = htons(9), .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	E(sendto(u, "x", 1, MSG_OOB, (void *)&s, sizeof s));
	E(recv(u, buf, 1, MSG_OOB | MSG_DONTWAIT));
	E(ioctl(u, SIOCATMARK, &at));
	int t = socket(AF_INET, SOCK_STREAM, 0);
	E(ioctl(t, SIOCATMARK, &at)); printf("at %d\n", at);
	return 0;
}
`

// TestSocketOOB: MSG_OOB behaves as the host's on the private loopback's
// TCP, on host TCP sockets (--net=host) and on AF_UNIX streams.
func TestSocketOOB(t *testing.T) {
	bin := compileC(t, "socket_oob", oobSrc)
	diff(t, []string{bin})
	diffWith(t, diffOpts{gbFlags: []string{"--net=host"}}, []string{bin})
}
