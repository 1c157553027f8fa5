package tests

import "testing"

// errorsNetC provokes the ERRORS of the socket calls' man pages (socket,
// socketpair, bind, listen, accept4, connect, getsockname, getpeername,
// shutdown, getsockopt, setsockopt, sendto, recvfrom, sendmsg, recvmsg,
// sendmmsg, recvmmsg) on AF_UNIX and loopback AF_INET sockets.
// Linux: net/socket.c, net/ipv4/af_inet.c, net/unix/af_unix.c,
// net/ipv4/tcp.c, net/ipv4/udp.c, net/core/sock.c
const errorsNetC = `#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>

#define R(what, expr) do { errno = 0; long _r = (long)(expr); \
	printf("%-48s = %ld %s\n", what, _r < 0 ? -1L : _r, _r < 0 ? strerror(errno) : ""); fflush(stdout); } while (0)
/* F reports a call that returns a descriptor: ok or the error */
#define F(what, expr) do { errno = 0; int _r = (expr); \
	printf("%-48s = %s %s\n", what, _r < 0 ? "-1" : "fd", _r < 0 ? strerror(errno) : ""); fflush(stdout); \
	if (_r >= 0) close(_r); } while (0)

static struct sockaddr_in lo(int port) {
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return a;
}

static struct sockaddr_un un(const char *dir, const char *name) {
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	snprintf(a.sun_path, sizeof a.sun_path, "%s/%s", dir, name);
	return a;
}

static int port(int fd) {
	struct sockaddr_in a;
	socklen_t l = sizeof a;
	getsockname(fd, (void *)&a, &l);
	return ntohs(a.sin_port);
}

int main(void) {
	signal(SIGPIPE, SIG_IGN);
	char dir[] = "/tmp/errors-net-XXXXXX", path[128];
	if (!mkdtemp(dir)) { perror("mkdtemp"); return 1; }
	chmod(dir, 0755);
	snprintf(path, sizeof path, "%s/file", dir);
	int file = open(path, O_CREAT | O_RDWR, 0644);
	int opath = open(path, O_PATH);
	char buf[256];
	socklen_t len;

	/* socket */
	F("socket family 200", socket(200, SOCK_STREAM, 0));
	F("socket family -1", socket(-1, SOCK_STREAM, 0));
	F("socket AF_INET type 0", socket(AF_INET, 0, 0));
	F("socket AF_INET type 11", socket(AF_INET, 11, 0));
	F("socket AF_INET bad flags", socket(AF_INET, SOCK_STREAM | 0x100, 0));
	F("socket AF_INET stream proto UDP", socket(AF_INET, SOCK_STREAM, IPPROTO_UDP));
	F("socket AF_INET dgram proto TCP", socket(AF_INET, SOCK_DGRAM, IPPROTO_TCP));
	F("socket AF_INET stream proto 200", socket(AF_INET, SOCK_STREAM, 200));
	F("socket AF_INET proto -1", socket(AF_INET, SOCK_STREAM, -1));
	F("socket AF_INET SOCK_SEQPACKET", socket(AF_INET, SOCK_SEQPACKET, 0));
	F("socket AF_INET SOCK_RDM", socket(AF_INET, SOCK_RDM, 0));
	F("socket AF_INET6 SOCK_SEQPACKET", socket(AF_INET6, SOCK_SEQPACKET, 0));
	F("socket AF_UNIX proto 1", socket(AF_UNIX, SOCK_STREAM, 1));
	F("socket AF_UNIX SOCK_RAW", socket(AF_UNIX, SOCK_RAW, 0));
	F("socket AF_UNIX SOCK_RDM", socket(AF_UNIX, SOCK_RDM, 0));
	F("socket AF_UNIX SOCK_PACKET", socket(AF_UNIX, SOCK_PACKET, 0));
	F("socket AF_UNIX ok", socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
	F("socket AF_NETLINK proto 200", socket(AF_NETLINK, SOCK_RAW, 200));
	F("socket AF_NETLINK SOCK_STREAM", socket(AF_NETLINK, SOCK_STREAM, 0));

	/* socketpair */
	int sv[2];
	R("socketpair AF_INET", socketpair(AF_INET, SOCK_STREAM, 0, sv));
	R("socketpair AF_INET6 dgram", socketpair(AF_INET6, SOCK_DGRAM, 0, sv));
	R("socketpair family 200", socketpair(200, SOCK_STREAM, 0, sv));
	R("socketpair bad type", socketpair(AF_UNIX, 11, 0, sv));
	R("socketpair bad flags", socketpair(AF_UNIX, SOCK_STREAM | 0x100, 0, sv));
	R("socketpair bad proto", socketpair(AF_UNIX, SOCK_STREAM, 7, sv));
	R("socketpair bad pointer", syscall(SYS_socketpair, AF_UNIX, SOCK_STREAM, 0, (void *)8));
	R("socketpair AF_UNIX SOCK_RAW", socketpair(AF_UNIX, SOCK_RAW, 0, sv));
	R("socketpair AF_NETLINK", socketpair(AF_NETLINK, SOCK_RAW, 0, sv));

	/* bind */
	struct sockaddr_in a4 = lo(0);
	int t1 = socket(AF_INET, SOCK_STREAM, 0);
	R("bind bad fd", bind(999, (void *)&a4, sizeof a4));
	R("bind regular file", bind(file, (void *)&a4, sizeof a4));
	R("bind O_PATH", bind(opath, (void *)&a4, sizeof a4));
	R("bind short addrlen", bind(t1, (void *)&a4, sizeof a4 - 1));
	R("bind addrlen 0", bind(t1, (void *)&a4, 0));
	R("bind addrlen -1", bind(t1, (void *)&a4, -1));
	R("bind addrlen 129", bind(t1, (void *)&a4, 129));
	R("bind bad pointer", bind(t1, (void *)8, sizeof a4));
	struct sockaddr_in wrong = a4;
	wrong.sin_family = AF_INET6;
	R("bind wrong family", bind(t1, (void *)&wrong, sizeof wrong));
	wrong.sin_family = AF_UNSPEC;
	R("bind AF_UNSPEC any", bind(t1, (void *)&(struct sockaddr_in){.sin_family = AF_UNSPEC}, sizeof wrong));
	struct sockaddr_in far = a4;
	far.sin_addr.s_addr = inet_addr("192.0.2.1");
	R("bind foreign address", bind(t1, (void *)&far, sizeof far));
	close(t1);
	t1 = socket(AF_INET, SOCK_STREAM, 0);
	R("bind port 80", bind(t1, (void *)&(struct sockaddr_in){.sin_family = AF_INET, .sin_port = htons(80)}, sizeof a4));
	close(t1);
	t1 = socket(AF_INET, SOCK_STREAM, 0);
	R("bind ok", bind(t1, (void *)&a4, sizeof a4));
	R("bind again", bind(t1, (void *)&a4, sizeof a4));
	int t2 = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in same = lo(port(t1));
	R("bind port in use", bind(t2, (void *)&same, sizeof same));
	int u1 = socket(AF_INET, SOCK_DGRAM, 0);
	R("bind udp to tcp's port", bind(u1, (void *)&same, sizeof same));
	struct sockaddr_un ua = un(dir, "sock");
	int us = socket(AF_UNIX, SOCK_STREAM, 0);
	R("bind unix ok", bind(us, (void *)&ua, sizeof ua));
	int us2 = socket(AF_UNIX, SOCK_STREAM, 0);
	R("bind unix path exists", bind(us2, (void *)&ua, sizeof ua));
	struct sockaddr_un nodir = un(dir, "missing/sock");
	R("bind unix missing dir", bind(us2, (void *)&nodir, sizeof nodir));
	struct sockaddr_un notdir = un(dir, "file/sock");
	R("bind unix not a dir", bind(us2, (void *)&notdir, sizeof notdir));
	R("bind unix addrlen too long", bind(us2, (void *)&ua, sizeof ua + 1));
	R("bind unix family only (autobind)", bind(us2, (void *)&ua, sizeof(sa_family_t)));
	R("bind unix wrong family", bind(us2, (void *)&a4, sizeof a4));
	R("bind unix after autobind", bind(us2, (void *)&ua, sizeof ua));
	struct sockaddr_un rel = {.sun_family = AF_UNIX, .sun_path = "/proc/none/sock"};
	int us3 = socket(AF_UNIX, SOCK_DGRAM, 0);
	R("bind unix in /proc", bind(us3, (void *)&rel, sizeof rel));

	/* listen */
	R("listen bad fd", listen(999, 1));
	R("listen regular file", listen(file, 1));
	R("listen udp", listen(u1, 1));
	R("listen unix dgram", listen(us3, 1));
	int unb = socket(AF_UNIX, SOCK_STREAM, 0);
	R("listen unix unbound", listen(unb, 1));
	R("listen tcp ok", listen(t1, 5));
	R("listen tcp again", listen(t1, 10));
	R("listen negative backlog", listen(us, -1));
	int tcpunb = socket(AF_INET, SOCK_STREAM, 0);
	R("listen tcp unbound (autobind)", listen(tcpunb, 1));
	int tc = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in ta = lo(port(t1));
	connect(tc, (void *)&ta, sizeof ta);
	R("listen connected tcp", listen(tc, 1));

	/* accept4 */
	F("accept bad fd", syscall(SYS_accept, 999, NULL, NULL));
	F("accept regular file", syscall(SYS_accept, file, NULL, NULL));
	F("accept not listening", syscall(SYS_accept, t2, NULL, NULL));
	F("accept udp", syscall(SYS_accept, u1, NULL, NULL));
	F("accept4 bad fd", accept4(999, NULL, NULL, 0));
	F("accept4 regular file", accept4(file, NULL, NULL, 0));
	F("accept4 bad flags", accept4(t1, NULL, NULL, 0x100));
	F("accept4 not listening", accept4(t2, NULL, NULL, 0));
	F("accept4 udp", accept4(u1, NULL, NULL, 0));
	F("accept4 unix dgram", accept4(us3, NULL, NULL, 0));
	/* a connection accepted with a bad address or length is dropped */
	int tcs[3];
	for (int i = 0; i < 3; i++) {
		tcs[i] = socket(AF_INET, SOCK_STREAM, 0);
		connect(tcs[i], (void *)&ta, sizeof ta);
	}
	len = sizeof a4;
	F("accept4 bad addr pointer", accept4(t1, (void *)8, &len, 0));
	F("accept4 bad len pointer", accept4(t1, (void *)&a4, (void *)8, 0));
	len = -1;
	F("accept4 negative len", accept4(t1, (void *)&a4, &len, 0));
	F("accept4 ok", accept4(t1, NULL, NULL, SOCK_CLOEXEC));
	fcntl(t1, F_SETFL, O_NONBLOCK);
	while (accept4(t1, NULL, NULL, 0) >= 0) ;
	F("accept4 nonblocking empty", accept4(t1, NULL, NULL, 0));

	/* connect */
	R("connect bad fd", connect(999, (void *)&ta, sizeof ta));
	R("connect regular file", connect(file, (void *)&ta, sizeof ta));
	int c1 = socket(AF_INET, SOCK_STREAM, 0);
	R("connect short addrlen", connect(c1, (void *)&ta, sizeof ta - 1));
	R("connect bad pointer", connect(c1, (void *)8, sizeof ta));
	struct sockaddr_in w6 = ta;
	w6.sin_family = AF_INET6;
	R("connect wrong family", connect(c1, (void *)&w6, sizeof w6));
	struct sockaddr_in closed = lo(port(t2));
	R("connect refused", connect(c1, (void *)&closed, sizeof closed));
	close(c1);
	c1 = socket(AF_INET, SOCK_STREAM, 0);
	R("connect ok", connect(c1, (void *)&ta, sizeof ta));
	R("connect again", connect(c1, (void *)&ta, sizeof ta));
	R("connect listening socket", connect(t1, (void *)&ta, sizeof ta));
	int u2 = socket(AF_INET, SOCK_DGRAM, 0);
	R("connect udp", connect(u2, (void *)&closed, sizeof closed));
	R("connect udp AF_UNSPEC", connect(u2, (void *)&(struct sockaddr){.sa_family = AF_UNSPEC}, sizeof(struct sockaddr)));
	R("connect udp AF_UNSPEC short", connect(u2, (void *)&(struct sockaddr){.sa_family = AF_UNSPEC}, 1));
	int uc = socket(AF_UNIX, SOCK_STREAM, 0);
	R("connect unix missing", connect(uc, (void *)&nodir, sizeof nodir));
	struct sockaddr_un gone = un(dir, "nobody");
	R("connect unix no such socket", connect(uc, (void *)&gone, sizeof gone));
	struct sockaddr_un fa = un(dir, "file");
	R("connect unix regular file", connect(uc, (void *)&fa, sizeof fa));
	struct sockaddr_un da = un(dir, "dgram");
	int ud = socket(AF_UNIX, SOCK_DGRAM, 0);
	bind(ud, (void *)&da, sizeof da);
	R("connect unix stream to dgram", connect(uc, (void *)&da, sizeof da));
	R("connect unix not listening", connect(uc, (void *)&ua, sizeof ua));
	R("connect unix short addrlen", connect(uc, (void *)&ua, 1));
	R("connect unix wrong family", connect(uc, (void *)&ta, sizeof ta));
	listen(us, 1);
	R("connect unix ok", connect(uc, (void *)&ua, sizeof ua));
	R("connect unix again", connect(uc, (void *)&ua, sizeof ua));
	int nb = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
	R("connect unix backlog full nonblocking", connect(nb, (void *)&ua, sizeof ua) < 0 && errno == EAGAIN ? -1 : 0);

	/* getsockname, getpeername */
	len = sizeof a4;
	R("getsockname bad fd", getsockname(999, (void *)&a4, &len));
	R("getsockname regular file", getsockname(file, (void *)&a4, &len));
	R("getsockname bad addr", getsockname(t1, (void *)8, &len));
	R("getsockname bad len pointer", getsockname(t1, (void *)&a4, (void *)8));
	len = -1;
	R("getsockname negative len", getsockname(t1, (void *)&a4, &len));
	len = 0;
	R("getsockname len 0", getsockname(t1, (void *)&a4, &len));
	printf("  len %d\n", len);
	len = sizeof a4;
	R("getpeername unconnected", getpeername(t2, (void *)&a4, &len));
	R("getpeername listening", getpeername(t1, (void *)&a4, &len));
	R("getpeername udp unconnected", getpeername(u1, (void *)&a4, &len));
	R("getpeername unix unconnected", getpeername(unb, (void *)&a4, &len));
	R("getpeername connected", getpeername(c1, (void *)&a4, &len));
	R("getpeername bad addr", getpeername(c1, (void *)8, &len));
	len = -1;
	R("getpeername negative len", getpeername(c1, (void *)&a4, &len));

	/* shutdown */
	R("shutdown bad fd", shutdown(999, SHUT_RD));
	R("shutdown regular file", shutdown(file, SHUT_RD));
	R("shutdown bad how", shutdown(c1, 3));
	R("shutdown bad how -1", shutdown(c1, -1));
	int t3 = socket(AF_INET, SOCK_STREAM, 0);
	R("shutdown unconnected tcp", shutdown(t3, SHUT_RDWR));
	R("  then send", send(t3, "x", 1, MSG_NOSIGNAL));
	R("  then recv", recv(t3, buf, 1, 0));
	R("  then listen", listen(t3, 1));
	int u3 = socket(AF_INET, SOCK_DGRAM, 0);
	R("shutdown unconnected udp", shutdown(u3, SHUT_RDWR));
	R("  then sendto", sendto(u3, "x", 1, 0, (void *)&same, sizeof same));
	R("  then recv MSG_DONTWAIT", recv(u3, buf, 1, MSG_DONTWAIT));
	R("  then recv", recv(u3, buf, 1, 0));
	R("shutdown unconnected unix stream", shutdown(unb, SHUT_RDWR));
	R("shutdown unix dgram", shutdown(ud, SHUT_RDWR));
	R("shutdown listening tcp", shutdown(t1, SHUT_WR));
	R("shutdown bad how unconnected", shutdown(t2, 7));

	/* getsockopt, setsockopt */
	int v = 1;
	len = sizeof v;
	R("getsockopt bad fd", getsockopt(999, SOL_SOCKET, SO_TYPE, &v, &len));
	R("getsockopt regular file", getsockopt(file, SOL_SOCKET, SO_TYPE, &v, &len));
	R("getsockopt bad level", getsockopt(c1, 9999, 1, &v, &len));
	R("getsockopt bad SOL_SOCKET option", getsockopt(c1, SOL_SOCKET, 9999, &v, &len));
	R("getsockopt bad SOL_TCP option", getsockopt(c1, SOL_TCP, 9999, &v, &len));
	R("getsockopt bad SOL_IP option", getsockopt(c1, SOL_IP, 9999, &v, &len));
	R("getsockopt bad value pointer", getsockopt(c1, SOL_SOCKET, SO_TYPE, (void *)8, &len));
	R("getsockopt bad len pointer", getsockopt(c1, SOL_SOCKET, SO_TYPE, &v, (void *)8));
	len = -1;
	R("getsockopt negative len", getsockopt(c1, SOL_SOCKET, SO_TYPE, &v, &len));
	len = 0;
	R("getsockopt len 0", getsockopt(c1, SOL_SOCKET, SO_TYPE, &v, &len));
	printf("  len %d\n", len);
	len = 2;
	R("getsockopt SO_TYPE len 2", getsockopt(c1, SOL_SOCKET, SO_TYPE, &v, &len));
	printf("  len %d\n", len);
	len = sizeof buf;
	R("getsockopt SO_BINDTODEVICE unbound", getsockopt(c1, SOL_SOCKET, SO_BINDTODEVICE, buf, &len));
	printf("  len %d\n", len);
	len = sizeof v;
	R("getsockopt SOL_TCP on unix", getsockopt(uc, SOL_TCP, TCP_NODELAY, &v, &len));
	R("getsockopt SOL_TCP on udp", getsockopt(u1, SOL_TCP, TCP_NODELAY, &v, &len));
	R("getsockopt SOL_IP on unix", getsockopt(uc, SOL_IP, IP_TTL, &v, &len));
	len = 4;
	R("getsockopt SO_LINGER len 4", getsockopt(c1, SOL_SOCKET, SO_LINGER, buf, &len));
	printf("  len %d\n", len);
	len = 4;
	R("getsockopt SO_PEERCRED len 4", getsockopt(uc, SOL_SOCKET, SO_PEERCRED, buf, &len));
	R("setsockopt bad fd", setsockopt(999, SOL_SOCKET, SO_REUSEADDR, &v, sizeof v));
	R("setsockopt regular file", setsockopt(file, SOL_SOCKET, SO_REUSEADDR, &v, sizeof v));
	R("setsockopt bad level", setsockopt(c1, 9999, 1, &v, sizeof v));
	R("setsockopt bad SOL_SOCKET option", setsockopt(c1, SOL_SOCKET, 9999, &v, sizeof v));
	R("setsockopt bad SOL_TCP option", setsockopt(c1, SOL_TCP, 9999, &v, sizeof v));
	R("setsockopt short optlen", setsockopt(c1, SOL_SOCKET, SO_REUSEADDR, &v, 2));
	R("setsockopt negative optlen", setsockopt(c1, SOL_SOCKET, SO_REUSEADDR, &v, -1));
	R("setsockopt bad value pointer", setsockopt(c1, SOL_SOCKET, SO_REUSEADDR, (void *)8, sizeof v));
	R("setsockopt SO_TYPE (read-only)", setsockopt(c1, SOL_SOCKET, SO_TYPE, &v, sizeof v));
	R("setsockopt SO_ERROR (read-only)", setsockopt(c1, SOL_SOCKET, SO_ERROR, &v, sizeof v));
	R("setsockopt SO_LINGER short", setsockopt(c1, SOL_SOCKET, SO_LINGER, &v, sizeof v));
	R("setsockopt TCP_MAXSEG tiny", setsockopt(c1, SOL_TCP, TCP_MAXSEG, &(int){1}, sizeof v));
	R("setsockopt TCP_NODELAY short", setsockopt(c1, SOL_TCP, TCP_NODELAY, &v, 2));
	R("setsockopt SOL_TCP on unix", setsockopt(uc, SOL_TCP, TCP_NODELAY, &v, sizeof v));
	R("setsockopt IP_TTL 0", setsockopt(c1, SOL_IP, IP_TTL, &(int){0}, sizeof v));
	R("setsockopt IP_TTL 256", setsockopt(c1, SOL_IP, IP_TTL, &(int){256}, sizeof v));
	R("setsockopt IP_TTL -1", setsockopt(c1, SOL_IP, IP_TTL, &(int){-1}, sizeof v));
	R("setsockopt SO_RCVTIMEO short", setsockopt(c1, SOL_SOCKET, SO_RCVTIMEO, &v, sizeof v));
	struct timeval badtv = {0, 2000000};
	R("setsockopt SO_RCVTIMEO bad usec", setsockopt(c1, SOL_SOCKET, SO_RCVTIMEO, &badtv, sizeof badtv));
	R("setsockopt SO_BINDTODEVICE missing", setsockopt(c1, SOL_SOCKET, SO_BINDTODEVICE, "nosuchdev0", 11));
	R("setsockopt SO_BINDTODEVICE lo", setsockopt(u3, SOL_SOCKET, SO_BINDTODEVICE, "lo", 3));
	len = sizeof buf;
	R("getsockopt SO_BINDTODEVICE lo", getsockopt(u3, SOL_SOCKET, SO_BINDTODEVICE, buf, &len));
	printf("  len %d %s\n", len, buf);
	R("setsockopt SO_BINDTODEVICE empty", setsockopt(u3, SOL_SOCKET, SO_BINDTODEVICE, "", 0));
	R("setsockopt SO_BINDTODEVICE negative", setsockopt(u3, SOL_SOCKET, SO_BINDTODEVICE, "lo", -1));

	/* sendto, recvfrom, sendmsg, recvmsg */
	R("sendto bad fd", sendto(999, "x", 1, 0, NULL, 0));
	R("sendto regular file", sendto(file, "x", 1, 0, NULL, 0));
	R("sendto udp no address", sendto(u1, "x", 1, 0, NULL, 0));
	R("sendto udp short addrlen", sendto(u1, "x", 1, 0, (void *)&ta, 4));
	R("sendto udp bad addr pointer", sendto(u1, "x", 1, 0, (void *)8, sizeof ta));
	R("sendto udp wrong family", sendto(u1, "x", 1, 0, (void *)&w6, sizeof w6));
	R("sendto udp bad buffer", sendto(u1, (void *)8, 1, 0, (void *)&same, sizeof same));
	R("sendto udp too big", sendto(u1, malloc(70000), 70000, 0, (void *)&same, sizeof same));
	R("sendto udp MSG_OOB", sendto(u1, "x", 1, MSG_OOB, (void *)&same, sizeof same));
	R("sendto tcp unconnected", sendto(t2, "x", 1, MSG_NOSIGNAL, NULL, 0));
	R("sendto tcp listening", sendto(t1, "x", 1, MSG_NOSIGNAL, NULL, 0));
	R("sendto unix stream unconnected", sendto(unb, "x", 1, MSG_NOSIGNAL, NULL, 0));
	R("sendto unix stream with address", sendto(uc, "x", 1, MSG_NOSIGNAL, (void *)&ua, sizeof ua));
	R("sendto unix dgram no address", sendto(ud, "x", 1, 0, NULL, 0));
	R("sendto unix dgram missing path", sendto(ud, "x", 1, 0, (void *)&gone, sizeof gone));
	R("sendto unix stream MSG_OOB", sendto(uc, "x", 1, MSG_OOB | MSG_NOSIGNAL, NULL, 0));
	R("sendto unix dgram too big", sendto(ud, malloc(1 << 24), 1 << 24, 0, (void *)&da, sizeof da));
	int pr[2];
	socketpair(AF_UNIX, SOCK_STREAM, 0, pr);
	close(pr[1]);
	R("send to closed peer MSG_NOSIGNAL", send(pr[0], "x", 1, MSG_NOSIGNAL));
	R("recv from closed peer", recv(pr[0], buf, sizeof buf, 0));
	close(pr[0]);
	/* a bad buffer is found when data are copied: after EAGAIN or EOF */
	int sp[2];
	socketpair(AF_UNIX, SOCK_STREAM, 0, sp);
	R("recv stream bad buffer, empty, MSG_DONTWAIT", recv(sp[0], (void *)8, 4, MSG_DONTWAIT));
	send(sp[1], "data", 4, 0);
	R("recv stream bad buffer, data", recv(sp[0], (void *)8, 4, 0));
	R("  data are still there", recv(sp[0], buf, 4, MSG_DONTWAIT));
	shutdown(sp[1], SHUT_WR);
	R("recv stream bad buffer at EOF", recv(sp[0], (void *)8, 4, 0));
	close(sp[0]);
	close(sp[1]);
	socketpair(AF_UNIX, SOCK_DGRAM, 0, sp);
	R("recv dgram bad buffer, empty, MSG_DONTWAIT", recv(sp[0], (void *)8, 4, MSG_DONTWAIT));
	send(sp[1], "one", 3, 0);
	send(sp[1], "two", 3, 0);
	R("recv dgram bad buffer, MSG_PEEK", recv(sp[0], (void *)8, 4, MSG_PEEK));
	R("recv dgram bad buffer", recv(sp[0], (void *)8, 4, 0));
	memset(buf, 0, 8);
	R("  the next datagram", recv(sp[0], buf, 4, MSG_DONTWAIT));
	printf("  %s\n", buf);
	close(sp[0]);
	close(sp[1]);
	socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sp);
	send(sp[1], "one", 3, 0);
	send(sp[1], "two", 3, 0);
	R("recvmsg seqpacket bad buffer", recvmsg(sp[0], &(struct msghdr){.msg_iov = &(struct iovec){(void *)8, 4}, .msg_iovlen = 1}, 0));
	memset(buf, 0, 8);
	R("  the next record", recv(sp[0], buf, 4, MSG_DONTWAIT));
	printf("  %s\n", buf);
	close(sp[0]);
	close(sp[1]);
	R("recvfrom bad fd", recvfrom(999, buf, 1, 0, NULL, NULL));
	R("recvfrom regular file", recvfrom(file, buf, 1, 0, NULL, NULL));
	R("recvfrom MSG_DONTWAIT empty", recvfrom(u1, buf, 1, MSG_DONTWAIT, NULL, NULL));
	R("recvfrom tcp unconnected", recvfrom(t2, buf, 1, 0, NULL, NULL));
	R("recvfrom tcp listening", recvfrom(t1, buf, 1, MSG_DONTWAIT, NULL, NULL));
	R("recvfrom unix stream unconnected", recvfrom(unb, buf, 1, 0, NULL, NULL));
	R("recvfrom MSG_OOB udp", recvfrom(u1, buf, 1, MSG_OOB | MSG_DONTWAIT, NULL, NULL));
	R("recvfrom MSG_OOB unix", recvfrom(uc, buf, 1, MSG_OOB | MSG_DONTWAIT, NULL, NULL));
	sendto(u2, "hello", 5, 0, NULL, 0);
	struct sockaddr_in u1a = lo(port(u1));
	sendto(u2, "hello", 5, 0, (void *)&u1a, sizeof u1a);
	R("recvfrom bad buffer", recvfrom(u1, (void *)8, 5, MSG_DONTWAIT, NULL, NULL));
	sendto(u2, "hello", 5, 0, (void *)&u1a, sizeof u1a);
	len = -1;
	R("recvfrom negative addrlen", recvfrom(u1, buf, 5, MSG_DONTWAIT, (void *)&a4, &len));
	len = sizeof a4;
	R("recvfrom bad addr", recvfrom(u1, buf, 5, MSG_DONTWAIT, (void *)8, &len));
	struct msghdr mh = {0};
	struct iovec iov = {buf, 1};
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	R("sendmsg bad fd", sendmsg(999, &mh, 0));
	R("sendmsg regular file", sendmsg(file, &mh, 0));
	R("sendmsg bad msghdr", sendmsg(c1, (void *)8, 0));
	mh.msg_iovlen = IOV_MAX + 1;
	R("sendmsg iovlen > IOV_MAX", sendmsg(c1, &mh, MSG_NOSIGNAL));
	R("recvmsg iovlen > IOV_MAX", recvmsg(c1, &mh, MSG_DONTWAIT));
	mh.msg_iovlen = 1;
	mh.msg_iov = (void *)8;
	R("sendmsg bad iov", sendmsg(c1, &mh, MSG_NOSIGNAL));
	mh.msg_iov = &iov;
	mh.msg_control = buf;
	mh.msg_controllen = 8;
	R("sendmsg short control", sendmsg(uc, &mh, MSG_NOSIGNAL));
	struct { struct cmsghdr h; int fd; } cm = {{CMSG_LEN(sizeof(int)), SOL_SOCKET, SCM_RIGHTS}, 999};
	mh.msg_control = &cm;
	mh.msg_controllen = sizeof cm;
	R("sendmsg SCM_RIGHTS bad fd", sendmsg(uc, &mh, MSG_NOSIGNAL));
	cm.h.cmsg_type = 77;
	R("sendmsg unknown cmsg type", sendmsg(uc, &mh, MSG_NOSIGNAL));
	cm.h.cmsg_type = SCM_RIGHTS;
	cm.h.cmsg_len = 4;
	R("sendmsg cmsg_len too small", sendmsg(uc, &mh, MSG_NOSIGNAL));
	cm.h.cmsg_len = CMSG_LEN(sizeof(int));
	cm.fd = 0;
	R("sendmsg SCM_RIGHTS on tcp", sendmsg(c1, &mh, MSG_NOSIGNAL));
	mh.msg_control = (void *)8;
	R("sendmsg bad control pointer", sendmsg(uc, &mh, MSG_NOSIGNAL));
	mh.msg_control = NULL;
	mh.msg_controllen = 0;
	mh.msg_name = &ta;
	mh.msg_namelen = 3;
	R("sendmsg udp short name", sendmsg(u1, &mh, 0));
	mh.msg_name = NULL;
	mh.msg_namelen = 0;
	R("recvmsg bad fd", recvmsg(999, &mh, 0));
	R("recvmsg bad msghdr", recvmsg(u1, (void *)8, 0));
	R("recvmsg MSG_DONTWAIT empty", recvmsg(u1, &mh, MSG_DONTWAIT));
	R("recvmsg MSG_ERRQUEUE empty", recvmsg(u1, &mh, MSG_ERRQUEUE));
	R("recvmsg unix MSG_ERRQUEUE", recvmsg(uc, &mh, MSG_ERRQUEUE | MSG_DONTWAIT));
	struct mmsghdr mm[2] = {{.msg_hdr = mh}, {.msg_hdr = mh}};
	R("sendmmsg bad fd", sendmmsg(999, mm, 2, 0));
	R("sendmmsg bad vector", sendmmsg(u2, (void *)8, 2, 0));
	R("sendmmsg vlen 0", sendmmsg(u2, mm, 0, 0));
	R("sendmmsg udp no address", sendmmsg(u1, mm, 2, 0));
	R("sendmmsg ok", sendmmsg(u2, mm, 2, 0));
	R("recvmmsg bad fd", recvmmsg(999, mm, 2, 0, NULL));
	R("recvmmsg bad vector", recvmmsg(u1, (void *)8, 2, MSG_DONTWAIT, NULL));
	R("recvmmsg empty", recvmmsg(u1, mm, 2, MSG_DONTWAIT, NULL));
	struct timespec bad = {0, 2000000000};
	R("recvmmsg bad timeout", recvmmsg(u1, mm, 2, 0, &bad));
	R("recvmmsg bad timeout pointer", recvmmsg(u1, mm, 2, 0, (void *)8));
	R("recvmmsg regular file", recvmmsg(file, mm, 2, MSG_DONTWAIT, NULL));

	unlink(path);
	unlink(ua.sun_path);
	unlink(da.sun_path);
	rmdir(dir);
	return 0;
}
`

func TestErrorsNet(t *testing.T) {
	t.Parallel()
	prog := compileC(t, "errors-net", errorsNetC)
	diffWith(t, diffOpts{freshNet: true}, []string{prog})
	diffAsUser(t, prog)
}

// errorsPollC: poll, ppoll, select, pselect6, the epoll calls and
// eventfd. Linux: fs/select.c, fs/eventpoll.c, fs/eventfd.c
const errorsPollC = `#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/syscall.h>

#define R(what, expr) do { errno = 0; long _r = (long)(expr); \
	printf("%-48s = %ld %s\n", what, _r < 0 ? -1L : _r, _r < 0 ? strerror(errno) : ""); fflush(stdout); } while (0)

int main(void) {
	char dir[] = "/tmp/errors-poll-XXXXXX", path[64];
	if (!mkdtemp(dir)) { perror("mkdtemp"); return 1; }
	snprintf(path, sizeof path, "%s/f", dir);
	int file = open(path, O_CREAT | O_RDWR, 0644);
	int p[2];
	pipe(p);
	struct timespec ts0 = {0, 0}, bad = {0, 1000000000}, neg = {-1, 0};
	sigset_t ss;
	sigemptyset(&ss);

	/* poll, ppoll */
	struct pollfd pf[2] = {{p[0], POLLIN, 0}, {999, POLLIN, 0}};
	R("poll bad fd (POLLNVAL)", poll(pf, 2, 0));
	printf("  revents %#x %#x\n", pf[0].revents, pf[1].revents);
	pf[1].fd = -1;
	R("poll negative fd ignored", poll(pf, 2, 0));
	R("poll bad array", syscall(SYS_poll, (void *)8, 1, 0));
	R("poll NULL nfds 0", poll(NULL, 0, 0));
	struct rlimit rl;
	getrlimit(RLIMIT_NOFILE, &rl);
	R("poll nfds > RLIMIT_NOFILE", poll(pf, rl.rlim_cur + 1, 0));
	R("poll nfds huge", syscall(SYS_poll, pf, 1UL << 40, 0));
	R("ppoll bad timeout", ppoll(pf, 1, &bad, NULL));
	R("ppoll negative timeout", ppoll(pf, 1, &neg, NULL));
	R("ppoll timeout pointer bad", syscall(SYS_ppoll, pf, 1, (void *)8, NULL, 8));
	R("ppoll bad sigsetsize", syscall(SYS_ppoll, pf, 1, &ts0, &ss, 4));
	R("ppoll bad sigmask pointer", syscall(SYS_ppoll, pf, 1, &ts0, (void *)8, 8));
	R("ppoll ok", ppoll(pf, 1, &ts0, &ss));

	/* select, pselect6 */
	fd_set r;
	FD_ZERO(&r);
	FD_SET(p[0], &r);
	FD_SET(900, &r);
	struct timeval tv0 = {0, 0}, tvbad = {0, 2000000}, tvneg = {-1, 0};
	R("select closed fd", select(901, &r, NULL, NULL, &tv0));
	FD_ZERO(&r);
	FD_SET(p[0], &r);
	R("select negative nfds", select(-1, &r, NULL, NULL, &tv0));
	fd_set w;
	FD_ZERO(&w);
	FD_SET(p[1], &w);
	R("select usec over a second (normalized)", select(p[1] + 1, NULL, &w, NULL, &tvbad));
	R("select negative timeout", select(p[0] + 1, &r, NULL, NULL, &tvneg));
	R("select bad set pointer", syscall(SYS_select, p[0] + 1, (void *)8, NULL, NULL, &tv0));
	R("select bad timeout pointer", syscall(SYS_select, p[0] + 1, &r, NULL, NULL, (void *)8));
	R("select nfds huge", select(1 << 30, &r, NULL, NULL, &tv0));
	R("select no fds", select(0, NULL, NULL, NULL, &tv0));
	struct { void *ss; size_t len; } sm = {&ss, 4};
	R("pselect6 bad sigsetsize", syscall(SYS_pselect6, p[0] + 1, &r, NULL, NULL, &ts0, &sm));
	sm.len = 8;
	sm.ss = (void *)8;
	R("pselect6 bad sigmask pointer", syscall(SYS_pselect6, p[0] + 1, &r, NULL, NULL, &ts0, &sm));
	R("pselect6 bad sigmask struct", syscall(SYS_pselect6, p[0] + 1, &r, NULL, NULL, &ts0, (void *)8));
	R("pselect6 bad timeout", syscall(SYS_pselect6, p[0] + 1, &r, NULL, NULL, &bad, NULL));
	R("pselect6 negative nfds", syscall(SYS_pselect6, -1, &r, NULL, NULL, &ts0, NULL));

	/* epoll_create, epoll_create1, epoll_ctl */
	R("epoll_create 0", epoll_create(0));
	R("epoll_create -1", epoll_create(-1));
	R("epoll_create1 bad flags", epoll_create1(1));
	int ep = epoll_create1(EPOLL_CLOEXEC);
	struct epoll_event ev = {.events = EPOLLIN};
	R("epoll_ctl bad epfd", epoll_ctl(999, EPOLL_CTL_ADD, p[0], &ev));
	R("epoll_ctl bad fd", epoll_ctl(ep, EPOLL_CTL_ADD, 999, &ev));
	R("epoll_ctl epfd not epoll", epoll_ctl(p[1], EPOLL_CTL_ADD, p[0], &ev));
	R("epoll_ctl fd is epfd", epoll_ctl(ep, EPOLL_CTL_ADD, ep, &ev));
	R("epoll_ctl regular file", epoll_ctl(ep, EPOLL_CTL_ADD, file, &ev));
	R("epoll_ctl bad op", epoll_ctl(ep, 7, p[0], &ev));
	R("epoll_ctl bad event pointer", epoll_ctl(ep, EPOLL_CTL_ADD, p[0], (void *)8));
	R("epoll_ctl MOD missing", epoll_ctl(ep, EPOLL_CTL_MOD, p[0], &ev));
	R("epoll_ctl DEL missing", epoll_ctl(ep, EPOLL_CTL_DEL, p[0], &ev));
	R("epoll_ctl ADD", epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev));
	R("epoll_ctl ADD again", epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev));
	R("epoll_ctl DEL NULL event", epoll_ctl(ep, EPOLL_CTL_DEL, p[0], NULL));
	R("epoll_ctl ADD NULL event", epoll_ctl(ep, EPOLL_CTL_ADD, p[0], NULL));
	struct epoll_event ex = {.events = EPOLLIN | EPOLLEXCLUSIVE};
	R("epoll_ctl ADD EPOLLEXCLUSIVE", epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ex));
	R("epoll_ctl MOD EPOLLEXCLUSIVE", epoll_ctl(ep, EPOLL_CTL_MOD, p[0], &ex));
	R("epoll_ctl MOD of exclusive", epoll_ctl(ep, EPOLL_CTL_MOD, p[0], &ev));
	struct epoll_event exo = {.events = EPOLLIN | EPOLLEXCLUSIVE | EPOLLONESHOT};
	R("epoll_ctl EPOLLEXCLUSIVE|EPOLLONESHOT", epoll_ctl(ep, EPOLL_CTL_ADD, p[1], &exo));
	int ep2 = epoll_create1(0);
	R("epoll_ctl EPOLLEXCLUSIVE on epoll fd", epoll_ctl(ep2, EPOLL_CTL_ADD, ep, &ex));
	R("epoll_ctl nest", epoll_ctl(ep2, EPOLL_CTL_ADD, ep, &ev));
	R("epoll_ctl loop", epoll_ctl(ep, EPOLL_CTL_ADD, ep2, &ev));

	/* epoll_wait, epoll_pwait, epoll_pwait2 */
	struct epoll_event out[4];
	R("epoll_wait bad epfd", epoll_wait(999, out, 4, 0));
	R("epoll_wait not epoll", epoll_wait(p[0], out, 4, 0));
	R("epoll_wait maxevents 0", epoll_wait(ep, out, 0, 0));
	R("epoll_wait maxevents -1", syscall(SYS_epoll_wait, ep, out, -1, 0));
	R("epoll_wait maxevents huge", syscall(SYS_epoll_wait, ep, out, 1 << 30, 0));
	write(p[1], "x", 1);
	R("epoll_wait bad events pointer", syscall(SYS_epoll_wait, ep, (void *)8, 4, 0));
	R("epoll_wait ok", epoll_wait(ep, out, 4, 0));
	R("epoll_pwait bad sigsetsize", syscall(SYS_epoll_pwait, ep, out, 4, 0, &ss, 4));
	R("epoll_pwait bad sigmask", syscall(SYS_epoll_pwait, ep, out, 4, 0, (void *)8, 8));
	R("epoll_pwait2 bad timeout", syscall(SYS_epoll_pwait2, ep, out, 4, &bad, NULL, 8));
	R("epoll_pwait2 negative timeout", syscall(SYS_epoll_pwait2, ep, out, 4, &neg, NULL, 8));
	R("epoll_pwait2 timeout pointer bad", syscall(SYS_epoll_pwait2, ep, out, 4, (void *)8, NULL, 8));
	R("epoll_pwait2 bad sigsetsize", syscall(SYS_epoll_pwait2, ep, out, 4, &ts0, &ss, 4));
	R("epoll_pwait2 ok", syscall(SYS_epoll_pwait2, ep, out, 4, &ts0, NULL, 8));

	/* eventfd, eventfd2 */
	R("eventfd2 bad flags", syscall(SYS_eventfd2, 0, 4));
	R("eventfd2 O_RDWR flag", syscall(SYS_eventfd2, 0, O_RDWR));
	R("eventfd2 EFD_SEMAPHORE", syscall(SYS_eventfd2, 0, EFD_SEMAPHORE) >= 0);
	int e = eventfd(0, EFD_NONBLOCK);
	uint64_t val = 0;
	R("eventfd read empty", read(e, &val, 8));
	R("eventfd read short buffer", read(e, &val, 4));
	R("eventfd write short buffer", write(e, &val, 4));
	val = ~0ULL;
	R("eventfd write 2^64-1", write(e, &val, 8));
	val = ~0ULL - 1;
	R("eventfd write max", write(e, &val, 8));
	val = 1;
	R("eventfd write over max", write(e, &val, 8));
	R("eventfd read", read(e, &val, 8));
	R("eventfd write bad buffer", syscall(SYS_write, e, (void *)8, 8));
	int es = eventfd(3, EFD_SEMAPHORE | EFD_NONBLOCK);
	R("eventfd semaphore read", read(es, &val, 8));
	printf("  value %llu\n", (unsigned long long)val);
	R("eventfd old call count -1", syscall(SYS_eventfd, -1) >= 0);
	unlink(path);
	rmdir(dir);
	return 0;
}
`

func TestErrorsPoll(t *testing.T) {
	t.Parallel()
	prog := compileC(t, "errors-poll", errorsPollC)
	diff(t, []string{prog})
	diffAsUser(t, prog)
}
