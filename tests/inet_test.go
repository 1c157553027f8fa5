package tests

import (
	"hash/fnv"
	"net"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// AF_INET/AF_INET6 on the sandbox's private loopback (--net=none) against
// the host's loopback. Each test uses fixed ports (from 40000 + a hash of
// its name, moved on while the host has them busy); outputs show no
// ephemeral ports.

const inetPrelude = sockPrelude + `#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
static struct sockaddr_in sin4(const char *ip, int port) {
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
	inet_pton(AF_INET, ip, &a.sin_addr); return a;
}
static struct sockaddr_in6 sin6(const char *ip, int port) {
	struct sockaddr_in6 a = {.sin6_family = AF_INET6, .sin6_port = htons(port)};
	inet_pton(AF_INET6, ip, &a.sin6_addr); return a;
}
static int fixedPort; /* argv[1]: ports below fixedPort+10 are printed as they are */
static const char *ss(const void *p) {
	static char buf[4][80]; static int k; char *b = buf[k++ & 3], ip[64];
	const struct sockaddr *sa = p; int port = 0;
	if (sa->sa_family == AF_INET) { const struct sockaddr_in *a = p; inet_ntop(AF_INET, &a->sin_addr, ip, sizeof ip); port = ntohs(a->sin_port); }
	else if (sa->sa_family == AF_INET6) { const struct sockaddr_in6 *a = p; inet_ntop(AF_INET6, &a->sin6_addr, ip, sizeof ip); port = ntohs(a->sin6_port);
		if (a->sin6_flowinfo || a->sin6_scope_id) strcat(ip, "(flow/scope!)"); }
	else { snprintf(b, 80, "family %d", sa->sa_family); return b; }
	if (port == 0 || (port >= fixedPort && port < fixedPort + 10)) snprintf(b, 80, "%s/%d", ip, port);
	else snprintf(b, 80, "%s/%s", ip, port >= 32768 && port <= 60999 ? "ephemeral" : "odd-port");
	return b;
}
static void names(const char *what, int fd) {
	struct sockaddr_storage a; socklen_t n = sizeof a; memset(&a, 0, sizeof a);
	if (getsockname(fd, (void *)&a, &n) < 0) printf("%s getsockname: %s\n", what, strerrorname_np(errno));
	else printf("%s sock %s len %d\n", what, ss(&a), (int)n);
	n = sizeof a; memset(&a, 0, sizeof a);
	if (getpeername(fd, (void *)&a, &n) < 0) printf("%s getpeername: %s\n", what, strerrorname_np(errno));
	else printf("%s peer %s len %d\n", what, ss(&a), (int)n);
}
static int geti(int fd, int level, int name) { int v = -7; socklen_t n = sizeof v; if (getsockopt(fd, level, name, &v, &n) < 0) return -errno; return v; }
`

// inetPort returns a port from 40000 + a hash of the test's name whose
// next ten ports are free for TCP and UDP on the host's loopback.
func inetPort(t *testing.T) int {
	h := fnv.New32a()
	h.Write([]byte(t.Name()))
	base := 40000 + int(h.Sum32()%2000)*10
	for p := base; p < base+2000; p += 10 {
		if portsFree(p, 10) {
			return p
		}
	}
	t.Skip("no free ports on the host's loopback")
	return 0
}

func portsFree(p, n int) bool {
	for i := range n {
		l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(p+i))
		if err != nil {
			return false
		}
		l.Close()
		u, err := net.ListenPacket("udp", "127.0.0.1:"+strconv.Itoa(p+i))
		if err != nil {
			return false
		}
		u.Close()
	}
	return true
}

// inetDiff compares native and glassbox runs of src, given a fixed port.
func inetDiff(t *testing.T, name, src string, wants ...string) {
	t.Parallel()
	bin := compileC(t, name, inetPrelude+src, "-dynamic", "-Wno-unused-function", "-Wno-unused-variable")
	native, _ := diffWith(t, diffOpts{freshNet: true}, []string{bin, strconv.Itoa(inetPort(t))})
	for _, w := range wants {
		if native.Code != 0 || !strings.Contains(native.Stdout, w) {
			t.Errorf("native run looks wrong (no %q): %s", w, native)
		}
	}
}

func TestInetTCPEcho(t *testing.T) {
	inetDiff(t, "inet_tcp_echo", `
int main(int argc, char **argv) {
	int port = fixedPort = atoi(argv[1]), one = 1;
	int l = socket(AF_INET, SOCK_STREAM, 0);
	names("fresh", l);
	printf("types %d %d %d acceptconn %d\n", geti(l, SOL_SOCKET, SO_TYPE), geti(l, SOL_SOCKET, SO_DOMAIN), geti(l, SOL_SOCKET, SO_PROTOCOL), geti(l, SOL_SOCKET, SO_ACCEPTCONN));
	SHOW("reuseaddr", setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one));
	struct sockaddr_in a = sin4("127.0.0.1", port);
	SHOW("bind", bind(l, (void *)&a, sizeof a));
	SHOW("bind again", bind(l, (void *)&a, sizeof a));
	SHOW("listen", listen(l, 5));
	printf("acceptconn %d\n", geti(l, SOL_SOCKET, SO_ACCEPTCONN));
	names("listener", l);
	int l2 = socket(AF_INET, SOCK_STREAM, 0);
	SHOW("bind busy", bind(l2, (void *)&a, sizeof a));
	struct sockaddr_in other = sin4("127.0.0.2", port);
	SHOW("connect 127.0.0.2", connect(l2, (void *)&other, sizeof other));
	close(l2);
	fflush(stdout); /* the child's lines come out when it exits, before the server's */
	pid_t pid = fork();
	if (pid == 0) {
		close(l);
		int c = socket(AF_INET, SOCK_STREAM, 0);
		SHOW("connect", connect(c, (void *)&a, sizeof a));
		SHOW("connect again", connect(c, (void *)&a, sizeof a));
		names("client", c);
		const char *msg = "hello, world";
		SHOW("write", write(c, msg, strlen(msg)));
		char buf[256]; int n, got = 0;
		while (got < (int)strlen(msg) && (n = read(c, buf + got, sizeof buf - got)) > 0) got += n;
		printf("echo %.*s\n", got, buf);
		SHOW("shutdown", shutdown(c, SHUT_WR));
		SHOW("write after shutdown", send(c, "x", 1, MSG_NOSIGNAL));
		n = read(c, buf, sizeof buf);
		printf("client read after server close: %d\n", n);
		exit(0);
	}
	struct sockaddr_storage pa; socklen_t pn = sizeof pa;
	int s = accept(l, (void *)&pa, &pn);
	printf("accepted %s len %d\n", ss(&pa), (int)pn);
	names("server", s);
	char buf[256]; int n;
	SHOW("peek", recv(s, buf, 5, MSG_PEEK | MSG_WAITALL));
	printf("peeked %.5s\n", buf);
	while ((n = read(s, buf, sizeof buf)) > 0) {
		for (int i = 0; i < n; i++) buf[i] = toupper(buf[i]);
		write(s, buf, n);
	}
	printf("server read EOF %d\n", n);
	close(s);
	int st; waitpid(pid, &st, 0);
	printf("child status %d\n", st);
	close(l);
	int l3 = socket(AF_INET, SOCK_STREAM, 0);
	SHOW("setsockopt reuse", setsockopt(l3, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one));
	SHOW("rebind after close", bind(l3, (void *)&a, sizeof a));
	return 0;
}`, "echo HELLO, WORLD", "server read EOF 0")
}

func TestInetNonblockConnect(t *testing.T) {
	inetDiff(t, "inet_nonblock", `
static void try(const char *what, int port, int listening) {
	struct sockaddr_in a = sin4("127.0.0.1", port);
	int c = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	SHOW(what, connect(c, (void *)&a, sizeof a));
	struct pollfd p = {c, POLLIN | POLLOUT};
	SHOW("poll", poll(&p, 1, 2000));
	printf("revents %#x\n", p.revents & (POLLIN | POLLOUT | POLLERR | POLLHUP));
	printf("so_error %s\n", strerrorname_np(geti(c, SOL_SOCKET, SO_ERROR)) ?: "0");
	printf("so_error again %d\n", geti(c, SOL_SOCKET, SO_ERROR));
	SHOW("connect 2", connect(c, (void *)&a, sizeof a));
	SHOW("connect 3", connect(c, (void *)&a, sizeof a));
	if (listening) SHOW("send", send(c, "ping", 4, 0));
	close(c);
}
int main(int argc, char **argv) {
	int port = fixedPort = atoi(argv[1]);
	int l = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = sin4("127.0.0.1", port);
	SHOW("bind", bind(l, (void *)&a, sizeof a));
	SHOW("listen", listen(l, 5));
	struct pollfd lp = {l, POLLIN};
	SHOW("listener poll", poll(&lp, 1, 0));
	int ep = epoll_create1(0);
	struct epoll_event ev = {.events = EPOLLIN, .data.fd = l}, out;
	epoll_ctl(ep, EPOLL_CTL_ADD, l, &ev);
	SHOW("epoll empty", epoll_wait(ep, &out, 1, 0));
	try("connect listening", port, 1);
	SHOW("epoll ready", epoll_wait(ep, &out, 1, 1000));
	printf("epoll events %#x fd ok %d\n", out.events, out.data.fd == l);
	SHOW("listener poll", poll(&lp, 1, 1000));
	printf("listener revents %#x\n", lp.revents);
	int s = accept4(l, NULL, NULL, SOCK_NONBLOCK);
	char buf[16];
	struct pollfd sp = {s, POLLIN};
	poll(&sp, 1, 1000);
	SHOW("recv", recv(s, buf, sizeof buf, 0));
	SHOW("recv EOF", recv(s, buf, sizeof buf, 0));
	SHOW("accept nonblock", accept(s, NULL, NULL));
	fcntl(l, F_SETFL, O_NONBLOCK);
	SHOW("accept empty", accept(l, NULL, NULL));
	int b = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in none = sin4("127.0.0.1", port + 1);
	SHOW("blocking connect refused", connect(b, (void *)&none, sizeof none));
	struct sockaddr_in far = sin4("10.255.255.1", port);
	try("connect refused", port + 1, 0);
	return 0;
}`, "revents 0x4", "ECONNREFUSED")
}

func TestInetUDP(t *testing.T) {
	inetDiff(t, "inet_udp", `
int main(int argc, char **argv) {
	int port = fixedPort = atoi(argv[1]);
	int r = socket(AF_INET, SOCK_DGRAM, 0), s = socket(AF_INET, SOCK_DGRAM, 0);
	printf("types %d %d sndbuf %d rcvbuf %d\n", geti(r, SOL_SOCKET, SO_TYPE), geti(r, SOL_SOCKET, SO_PROTOCOL), geti(r, SOL_SOCKET, SO_SNDBUF), geti(r, SOL_SOCKET, SO_RCVBUF));
	struct sockaddr_in ra = sin4("127.0.0.1", port), sa = sin4("0.0.0.0", port + 1);
	SHOW("bind r", bind(r, (void *)&ra, sizeof ra));
	SHOW("bind s", bind(s, (void *)&sa, sizeof sa));
	names("s", s);
	SHOW("send unconnected", send(s, "x", 1, 0));
	char buf[4096];
	for (int i = 0; i < 100; i++) {
		int n = snprintf(buf, sizeof buf, "%d:", i);
		memset(buf + n, 'a' + i % 26, i * 7);
		if (sendto(s, buf, n + i * 7, 0, (void *)&ra, sizeof ra) != n + i * 7) printf("short send %d\n", i);
	}
	int ok = 1;
	for (int i = 0; i < 100; i++) {
		struct sockaddr_storage from; socklen_t fl = sizeof from;
		int n = recvfrom(r, buf, sizeof buf, 0, (void *)&from, &fl);
		int want = snprintf(NULL, 0, "%d:", i) + i * 7;
		if (n != want || atoi(buf) != i) { printf("msg %d: got %d bytes '%.10s'\n", i, n, buf); ok = 0; }
		if (i == 99) printf("last from %s len %d\n", ss(&from), (int)fl);
	}
	printf("ordered %d\n", ok);
	sendto(s, "0123456789", 10, 0, (void *)&ra, sizeof ra);
	SHOW("peek", recv(r, buf, 4, MSG_PEEK));
	SHOW("peek trunc", recv(r, buf, 4, MSG_PEEK | MSG_TRUNC));
	SHOW("ioctl inq", ioctl(r, FIONREAD, &ok) < 0 ? -1 : ok);
	struct iovec io = {buf, 4}; struct msghdr mh = {.msg_iov = &io, .msg_iovlen = 1};
	SHOW("recvmsg", recvmsg(r, &mh, 0));
	printf("msg_flags trunc %d %.4s\n", !!(mh.msg_flags & MSG_TRUNC), buf);
	SHOW("empty", recv(r, buf, sizeof buf, MSG_DONTWAIT));
	SHOW("connect", connect(s, (void *)&ra, sizeof ra));
	names("s connected", s);
	SHOW("send", send(s, "hi", 2, 0));
	SHOW("recv", recv(r, buf, sizeof buf, 0));
	SHOW("zero", send(s, "", 0, 0));
	SHOW("recv zero", recv(r, buf, sizeof buf, 0));
	struct sockaddr_in un = {.sin_family = AF_UNSPEC};
	SHOW("disconnect", connect(s, (void *)&un, sizeof un));
	names("s disconnected", s);
	int c = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in nobody = sin4("127.0.0.1", port + 2);
	struct timeval tv = {1, 0};
	setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	SHOW("connect nobody", connect(c, (void *)&nobody, sizeof nobody));
	names("c", c);
	SHOW("send nobody", send(c, "x", 1, 0));
	SHOW("recv refused", recv(c, buf, sizeof buf, 0));
	SHOW("big", sendto(r, calloc(1, 70000), 70000, 0, (void *)&ra, sizeof ra));
	return 0;
}`, "ordered 1", "recv refused: -1 ECONNREFUSED")
}

func TestInetIPv6(t *testing.T) {
	inetDiff(t, "inet_ipv6", `
int main(int argc, char **argv) {
	int port = fixedPort = atoi(argv[1]), one = 1, zero = 0;
	int l = socket(AF_INET6, SOCK_STREAM, 0);
	names("fresh6", l);
	printf("v6only %d domain %d\n", geti(l, IPPROTO_IPV6, IPV6_V6ONLY), geti(l, SOL_SOCKET, SO_DOMAIN));
	struct sockaddr_in6 a = sin6("::", port);
	SHOW("bind ::", bind(l, (void *)&a, sizeof a));
	SHOW("v6only after bind", setsockopt(l, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one));
	SHOW("listen", listen(l, 5));
	int l4 = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a4 = sin4("127.0.0.1", port);
	SHOW("bind v4 on dual-stack port", bind(l4, (void *)&a4, sizeof a4));
	int c4 = socket(AF_INET, SOCK_STREAM, 0);
	SHOW("connect v4", connect(c4, (void *)&a4, sizeof a4));
	names("c4", c4);
	int s4 = accept(l, NULL, NULL);
	names("s4", s4);
	int c6 = socket(AF_INET6, SOCK_STREAM, 0);
	struct sockaddr_in6 lo = sin6("::1", port), mapped = sin6("::ffff:127.0.0.1", port);
	SHOW("connect ::1", connect(c6, (void *)&lo, sizeof lo));
	names("c6", c6);
	int s6 = accept(l, NULL, NULL);
	names("s6", s6);
	int m = socket(AF_INET6, SOCK_STREAM, 0);
	SHOW("connect mapped", connect(m, (void *)&mapped, sizeof mapped));
	names("m", m);
	int o = socket(AF_INET6, SOCK_STREAM, 0);
	SHOW("set v6only", setsockopt(o, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one));
	printf("v6only %d\n", geti(o, IPPROTO_IPV6, IPV6_V6ONLY));
	SHOW("v6only connect mapped", connect(o, (void *)&mapped, sizeof mapped));
	int p = socket(AF_INET6, SOCK_STREAM, 0);
	struct sockaddr_in6 b = sin6("::1", port + 1);
	SHOW("v6only bind ::1", (setsockopt(p, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one), bind(p, (void *)&b, sizeof b)));
	int q = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in b4 = sin4("0.0.0.0", port + 1);
	SHOW("v4 any next to v6only ::1", bind(q, (void *)&b4, sizeof b4));
	SHOW("v4 connect to v6 addr", connect(q, (void *)&lo, sizeof lo));
	int u = socket(AF_INET6, SOCK_DGRAM, 0);
	struct sockaddr_in6 ua = sin6("::", port + 2);
	SHOW("udp6 bind", bind(u, (void *)&ua, sizeof ua));
	int u4 = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in ua4 = sin4("127.0.0.1", port + 2), from4 = sin4("127.0.0.1", port + 3);
	bind(u4, (void *)&from4, sizeof from4);
	SHOW("udp4 to dual", sendto(u4, "v4", 2, 0, (void *)&ua4, sizeof ua4));
	struct sockaddr_storage f; socklen_t fl = sizeof f; char buf[16];
	SHOW("udp6 recv", recvfrom(u, buf, sizeof buf, 0, (void *)&f, &fl));
	printf("from %s len %d\n", ss(&f), (int)fl);
	printf("tos %d\n", geti(c4, IPPROTO_IP, IP_TOS));
	int tos = 0x10; SHOW("set tos", setsockopt(c4, IPPROTO_IP, IP_TOS, &tos, sizeof tos));
	printf("tos %d nodelay %d\n", geti(c4, IPPROTO_IP, IP_TOS), geti(c4, IPPROTO_TCP, TCP_NODELAY));
	SHOW("nodelay", setsockopt(c4, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one));
	int idle = 30;
	SHOW("keepidle", setsockopt(c4, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof idle));
	printf("nodelay %d idle %d intvl %d cnt %d\n", geti(c4, IPPROTO_TCP, TCP_NODELAY), geti(c4, IPPROTO_TCP, TCP_KEEPIDLE), geti(c4, IPPROTO_TCP, TCP_KEEPINTVL), geti(c4, IPPROTO_TCP, TCP_KEEPCNT));
	SHOW("keepalive", setsockopt(c4, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one));
	printf("keepalive %d reuseport %d\n", geti(c4, SOL_SOCKET, SO_KEEPALIVE), geti(c4, SOL_SOCKET, SO_REUSEPORT));
	idle = 0;
	SHOW("bad keepidle", setsockopt(c4, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof idle));
	SHOW("tcp opt on udp", setsockopt(u4, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one));
	SHOW("v6 opt on v4", setsockopt(u4, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one));
	struct linger lg = {1, 5}; socklen_t ll = sizeof lg;
	SHOW("linger", setsockopt(c4, SOL_SOCKET, SO_LINGER, &lg, sizeof lg));
	memset(&lg, 0, sizeof lg); getsockopt(c4, SOL_SOCKET, SO_LINGER, &lg, &ll);
	printf("linger %d %d\n", lg.l_onoff, lg.l_linger);
	return 0;
}`, "connect mapped: 0")
}

func TestInetClose(t *testing.T) {
	inetDiff(t, "inet_close", `
static int pair(int l, struct sockaddr_in *a, int *s) {
	int c = socket(AF_INET, SOCK_STREAM, 0);
	if (connect(c, (void *)a, sizeof *a) < 0) printf("connect: %s\n", strerrorname_np(errno));
	*s = accept(l, NULL, NULL);
	return c;
}
static void waitin(int fd) { struct pollfd p = {fd, POLLIN}; poll(&p, 1, 2000); printf("revents %#x\n", p.revents); }
int main(int argc, char **argv) {
	int port = fixedPort = atoi(argv[1]), s;
	int l = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = sin4("127.0.0.1", port);
	bind(l, (void *)&a, sizeof a); listen(l, 5);
	char buf[64];
	/* peer closed: EOF, then the first write still goes, the next is EPIPE */
	int c = pair(l, &a, &s);
	close(s);
	waitin(c);
	SHOW("read EOF", read(c, buf, sizeof buf));
	SHOW("write 1", send(c, "a", 1, MSG_NOSIGNAL));
	usleep(100000);
	SHOW("write 2", send(c, "b", 1, MSG_NOSIGNAL));
	close(c);
	/* closed with unread data: a reset */
	c = pair(l, &a, &s);
	SHOW("send", send(c, "unread", 6, 0));
	usleep(100000);
	close(s);
	waitin(c);
	SHOW("read reset", read(c, buf, sizeof buf));
	SHOW("read after reset", read(c, buf, sizeof buf));
	close(c);
	/* closed with unread data: the next write reports the reset, then EPIPE */
	c = pair(l, &a, &s);
	SHOW("send", send(c, "unread", 6, 0));
	usleep(100000);
	close(s);
	usleep(100000);
	SHOW("write after reset", send(c, "x", 1, MSG_NOSIGNAL));
	SHOW("write after reset 2", send(c, "x", 1, MSG_NOSIGNAL));
	SHOW("read after write reset", read(c, buf, sizeof buf));
	close(c);
	/* SO_LINGER 0: a reset */
	c = pair(l, &a, &s);
	struct linger lg = {1, 0};
	setsockopt(s, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
	close(s);
	waitin(c);
	SHOW("read linger reset", read(c, buf, sizeof buf));
	close(c);
	/* SIGPIPE */
	c = pair(l, &a, &s);
	shutdown(c, SHUT_WR);
	fflush(stdout);
	if (fork() == 0) { write(c, "x", 1); _exit(0); }
	int st; wait(&st);
	printf("writer killed by %d\n", WIFSIGNALED(st) ? WTERMSIG(st) : 0);
	return 0;
}`, "read reset: -1 ECONNRESET")
}

// The sandbox's loopback is its own: a server inside on 127.0.0.1 serves
// a client inside, with python's http.server and urllib.
func TestInetPythonHTTP(t *testing.T) {
	t.Parallel()
	port := inetPort(t)
	dir := t.TempDir()
	writeFile(t, dir+"/index.html", "hello from inside the sandbox\n", 0o644)
	script := `
import http.server, threading, urllib.request, functools, sys
h = functools.partial(http.server.SimpleHTTPRequestHandler, directory=sys.argv[2])
h.log_message = lambda *a: None
srv = http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), functools.partial(http.server.SimpleHTTPRequestHandler, directory=sys.argv[2]))
threading.Thread(target=srv.serve_forever, daemon=True).start()
with urllib.request.urlopen("http://localhost:%s/index.html" % sys.argv[1]) as r:
    print(r.status, r.read().decode(), end="")
srv.shutdown()
`
	argv := []string{"/usr/bin/python3", "-c", script, strconv.Itoa(port), dir}
	native := runNative(t, argv)
	gb := runGlassbox(t, nil, argv)
	want := "200 hello from inside the sandbox\n"
	if native.Stdout != want {
		t.Errorf("native run looks wrong: %s", native)
	}
	if gb.Stdout != want || gb.Code != 0 {
		t.Errorf("glassbox: want %q, got %s", want, gb)
	}
}

// The same with real tools from a shell: python3 -m http.server in the
// background and curl.
func TestInetCurl(t *testing.T) {
	t.Parallel()
	port := strconv.Itoa(inetPort(t))
	dir := t.TempDir()
	writeFile(t, dir+"/page.txt", "served inside\n", 0o644)
	script := "cd " + dir + " && /usr/bin/python3 -m http.server " + port + " --bind 127.0.0.1 >/dev/null 2>&1 & " +
		"for i in $(seq 100); do curl -sS http://127.0.0.1:" + port + "/page.txt 2>/dev/null && break; sleep 0.1; done; kill $!; wait"
	gb := runGlassbox(t, nil, []string{"/bin/sh", "-c", script})
	if gb.Stdout != "served inside\n" {
		t.Errorf("glassbox: %s", gb)
	}
	// From outside the sandbox, nothing listens there.
	if c, err := net.DialTimeout("tcp", "127.0.0.1:"+port, time.Second); err == nil {
		c.Close()
		t.Errorf("the host reached the sandbox's server on port %s", port)
	}
}

// Nothing inside reaches the host: a listener on the host's loopback is
// not there for the sandbox (ECONNREFUSED) and sees no connection.
func TestInetContainment(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	port := l.Addr().(*net.TCPAddr).Port
	got := make(chan net.Conn, 1)
	go func() {
		if c, err := l.Accept(); err == nil {
			got <- c
		}
	}()
	bin := compileC(t, "inet_contain", inetPrelude+`#include <net/if.h>
#include <ifaddrs.h>
int main(int argc, char **argv) {
	struct sockaddr_in a = sin4("127.0.0.1", atoi(argv[1]));
	int c = socket(AF_INET, SOCK_STREAM, 0);
	SHOW("connect", connect(c, (void *)&a, sizeof a));
	struct sockaddr_in far = sin4("192.0.2.1", 80);
	c = socket(AF_INET, SOCK_STREAM, 0);
	SHOW("connect far", connect(c, (void *)&far, sizeof far));
	int u = socket(AF_INET, SOCK_DGRAM, 0);
	SHOW("udp far", sendto(u, "x", 1, 0, (void *)&far, sizeof far));
	SHOW("udp host port", sendto(u, "x", 1, 0, (void *)&a, sizeof a));
	SHOW("netlink", socket(AF_NETLINK, SOCK_RAW, 0));
	struct ifreq r[8]; struct ifconf ic = {.ifc_len = sizeof r, .ifc_req = r};
	SHOW("SIOCGIFCONF", ioctl(c, SIOCGIFCONF, &ic));
	for (int i = 0; i < ic.ifc_len / (int)sizeof r[0]; i++)
		printf("if %s %s\n", r[i].ifr_name, inet_ntoa(((struct sockaddr_in *)&r[i].ifr_addr)->sin_addr));
	struct ifaddrs *ifa;
	printf("getifaddrs %d\n", getifaddrs(&ifa) < 0 ? -1 : 0);
	return 0;
}`, "-dynamic")
	gb := runGlassbox(t, nil, []string{bin, strconv.Itoa(port)})
	want := "connect: -1 ECONNREFUSED\nconnect far: -1 ENETUNREACH\nudp far: -1 ENETUNREACH\nudp host port: 1\n" +
		"netlink: 6\nSIOCGIFCONF: 0\nif lo 127.0.0.1\ngetifaddrs 0\n" // netlink knows only lo
	if gb.Stdout != want || gb.Code != 0 {
		t.Errorf("glassbox: want\n%s\ngot %s", want, gb)
	}
	select {
	case c := <-got:
		c.Close()
		t.Errorf("the host's listener got a connection from %v", c.RemoteAddr())
	case <-time.After(200 * time.Millisecond):
	}
}

// The guest's resolver reads the guest's /etc/hosts.
func TestInetGetentLocalhost(t *testing.T) {
	t.Parallel()
	gb := runGlassbox(t, nil, []string{"/usr/bin/getent", "hosts", "localhost"})
	if gb.Code != 0 || !strings.Contains(gb.Stdout, "localhost") {
		t.Errorf("getent hosts localhost: %s", gb)
	}
}

// TestHostnameResolves: the sandbox's own hostname resolves, as the
// host's does on the host (container engines give a container's name an
// /etc/hosts line too): getent, Python's gethostbyname(gethostname())
// and getfqdn agree with native, as root and as another user. The host's
// /etc/hosts is not changed.
func TestHostnameResolves(t *testing.T) {
	t.Parallel()
	before, err := os.ReadFile("/etc/hosts")
	if err != nil {
		t.Skip("no /etc/hosts on this host")
	}
	if !strings.Contains(" "+strings.Join(strings.Fields(string(before)), " ")+" ", " "+mustHostname(t)+" ") {
		t.Skip("the host's own name is not in its /etc/hosts: nothing to compare with")
	}
	script := `getent hosts "$(hostname)" >/dev/null && echo getent resolves; ` +
		`python3 -c 'import socket; print(socket.gethostbyname(socket.gethostname()), socket.getfqdn())'`
	diff(t, []string{"/bin/sh", "-c", script})
	diffShellAsUser(t, script)
	if after, _ := os.ReadFile("/etc/hosts"); string(after) != string(before) {
		t.Errorf("the host's /etc/hosts changed:\n%s", after)
	}
}

func mustHostname(t *testing.T) string {
	h, err := os.Hostname()
	if err != nil {
		t.Fatal(err)
	}
	return h
}
