package tests

import (
	"strings"
	"testing"
)

// AF_UNIX sockets against the host's. Abstract names carry the pid (no clashes between
// native runs); outputs show no pids, inode numbers or autobind names.

// sockDiff compares native and glassbox runs of src; the native output
// must contain wants (a guard against a test that proves nothing).
func sockDiff(t *testing.T, name, src string, wants ...string) {
	t.Parallel()
	native, _ := diff(t, []string{compileC(t, name, src, "-dynamic", "-Wno-unused-function", "-Wno-unused-variable")})
	for _, w := range wants {
		if native.Code != 0 || !strings.Contains(native.Stdout, w) {
			t.Errorf("native run looks wrong (no %q): %s", w, native)
		}
	}
}

const sockPrelude = `#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ctype.h>
#include <errno.h>
#include <unistd.h>
#include <fcntl.h>
#include <signal.h>
#include <poll.h>
#include <time.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/epoll.h>
#include <sys/time.h>
#include <linux/sockios.h>
#define SHOW(what, call) do { errno = 0; long r_ = (long)(call); \
	if (r_ < 0) printf("%s: -1 %s\n", what, strerrorname_np(errno)); else printf("%s: %ld\n", what, r_); } while (0)
static socklen_t abstract(struct sockaddr_un *a, const char *tag) {
	memset(a, 0, sizeof *a); a->sun_family = AF_UNIX;
	int n = snprintf(a->sun_path + 1, sizeof a->sun_path - 1, "gbtest-%s-%d", tag, (int)getpid());
	return offsetof(struct sockaddr_un, sun_path) + 1 + n;
}
static const char *tn(int t) { return t == SOCK_STREAM ? "stream" : t == SOCK_DGRAM ? "dgram" : "seqpacket"; } static int types[] = {1, 2, 5};
static double now(void) { struct timespec ts; clock_gettime(CLOCK_MONOTONIC, &ts); return ts.tv_sec + ts.tv_nsec / 1e9; }
static int sendfds(int s, int *fds, int n, const char *data) {
	union { char b[CMSG_SPACE(sizeof(int) * 256)]; struct cmsghdr a; } ctl; memset(&ctl, 0, sizeof ctl);
	struct iovec io = {(void *)data, strlen(data)};
	struct msghdr mh = {.msg_iov = &io, .msg_iovlen = 1, .msg_control = ctl.b, .msg_controllen = CMSG_SPACE(sizeof(int) * n)};
	struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
	c->cmsg_level = SOL_SOCKET; c->cmsg_type = SCM_RIGHTS; c->cmsg_len = CMSG_LEN(sizeof(int) * n);
	memcpy(CMSG_DATA(c), fds, sizeof(int) * n);
	return sendmsg(s, &mh, 0);
}
// recvfds receives with ctlroom bytes of control space and prints what came (not fd numbers).
static int recvfds(const char *what, int s, int *fds, int ctlroom, int flags) {
	union { char b[2048]; struct cmsghdr a; } ctl; char data[64];
	struct iovec io = {data, sizeof data};
	struct msghdr mh = {.msg_iov = &io, .msg_iovlen = 1, .msg_control = ctlroom ? ctl.b : NULL, .msg_controllen = ctlroom};
	ssize_t r = recvmsg(s, &mh, flags); int n = 0;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); r >= 0 && c; c = CMSG_NXTHDR(&mh, c))
		if (c->cmsg_type == SCM_RIGHTS) { int k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int); memcpy(fds + n, CMSG_DATA(c), k * sizeof(int)); n += k; }
	printf("%s: %zd bytes %.*s, %d fds, ctrunc %d, controllen %zu\n", what, r, r > 0 ? (int)r : 0, data, n,
		!!(mh.msg_flags & MSG_CTRUNC), (size_t)mh.msg_controllen);
	return n;
}
static int hup(int fd) { struct pollfd p = {fd, POLLIN, 0}; poll(&p, 1, 0); return p.revents; }
`

const sockPairC = sockPrelude + `
static volatile int pipes;
static void onpipe(int s) { pipes++; }
static void echo(int type) {
	int sv[2]; socketpair(AF_UNIX, type, 0, sv);
	pid_t p = fork();
	if (p == 0) {
		close(sv[0]); char b[64]; ssize_t n;
		while ((n = read(sv[1], b, sizeof b)) > 0 && b[0] != '.') { for (int i = 0; i < n; i++) b[i] ^= 0x20; write(sv[1], b, n); }
		_exit(0);
	}
	close(sv[1]);
	const char *m[] = {"hello", "socket", "pair"};
	for (int i = 0; i < 3; i++) { char b[64]; write(sv[0], m[i], strlen(m[i])); ssize_t n = read(sv[0], b, sizeof b); printf("%s echo %.*s\n", tn(type), (int)n, b); }
	write(sv[0], ".", 1); int st; waitpid(p, &st, 0); printf("%s child status %d\n", tn(type), st);
	char c; SHOW("  recv after peer exit", recv(sv[0], &c, 1, MSG_DONTWAIT));
	close(sv[0]);
}
static void bounds(int type) {
	int sv[2], n; char b[16]; ssize_t r; socketpair(AF_UNIX, type, 0, sv);
	send(sv[0], "abc", 3, 0); send(sv[0], "defgh", 5, 0); send(sv[0], "ij", 2, 0);
	ioctl(sv[1], FIONREAD, &n); printf("%s FIONREAD %d", tn(type), n);
	ioctl(sv[0], SIOCOUTQ, &n); printf(" SIOCOUTQ %d\n", n);
	r = recv(sv[1], b, 4, MSG_PEEK); printf("  peek %zd %.*s\n", r, (int)r, b);
	struct iovec io = {b, 2}; struct msghdr mh = {.msg_iov = &io, .msg_iovlen = 1};
	r = recvmsg(sv[1], &mh, 0); printf("  recvmsg %zd %.*s trunc %d\n", r, (int)r, b, !!(mh.msg_flags & MSG_TRUNC));
	r = recv(sv[1], b, 1, MSG_TRUNC); printf("  recv MSG_TRUNC %zd %c\n", r, b[0]);
	r = recv(sv[1], b, sizeof b, MSG_DONTWAIT); printf("  rest %zd %.*s\n", r, r > 0 ? (int)r : 0, b);
	SHOW("  empty", recv(sv[1], b, sizeof b, MSG_DONTWAIT));
	close(sv[0]); close(sv[1]);
}
static void epipes(int type) {
	int sv[2]; char c; socketpair(AF_UNIX, type, 0, sv); pipes = 0;
	printf("%s:\n", tn(type));
	SHOW("  shutdown SHUT_WR", shutdown(sv[0], SHUT_WR));
	SHOW("  send", send(sv[0], "x", 1, 0));
	SHOW("  send MSG_NOSIGNAL", send(sv[0], "x", 1, MSG_NOSIGNAL));
	SHOW("  write", write(sv[0], "x", 1));
	printf("  sigpipes %d\n", pipes);
	SHOW("  peer recv", recv(sv[1], &c, 1, MSG_DONTWAIT));
	struct pollfd pf[2] = {{sv[0], POLLIN | POLLOUT | POLLRDHUP, 0}, {sv[1], POLLIN | POLLOUT | POLLRDHUP, 0}};
	poll(pf, 2, 0); printf("  poll %#x %#x\n", pf[0].revents, pf[1].revents);
	SHOW("  peer send", send(sv[1], "y", 1, 0)); SHOW("  recv", recv(sv[0], &c, 1, MSG_DONTWAIT));
	close(sv[0]); close(sv[1]);
	socketpair(AF_UNIX, type, 0, sv); send(sv[0], "abc", 3, 0); close(sv[1]); pipes = 0;
	SHOW("  send to closed peer", send(sv[0], "x", 1, 0));
	SHOW("  recv", recv(sv[0], &c, 1, MSG_DONTWAIT));
	SHOW("  recv again", recv(sv[0], &c, 1, MSG_DONTWAIT));
	int e = -1; socklen_t l = sizeof e; getsockopt(sv[0], SOL_SOCKET, SO_ERROR, &e, &l);
	pf[0].fd = sv[0]; poll(pf, 1, 0); printf("  SO_ERROR %d sigpipes %d poll %#x\n", e, pipes, pf[0].revents);
	close(sv[0]);
}
int main(void) {
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (int i = 0; i < 3; i++) echo(types[i]);
	for (int i = 0; i < 3; i++) bounds(types[i]);
	int sv[2]; char b[8]; socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	pid_t p = fork();
	if (p == 0) { for (int i = 0; i < 5; i++) { usleep(10000); write(sv[1], "12345" + i, 1); } _exit(0); }
	ssize_t r = recv(sv[0], b, 5, MSG_WAITALL); printf("MSG_WAITALL %zd %.5s\n", r, b); waitpid(p, NULL, 0);
	signal(SIGPIPE, onpipe);
	for (int i = 0; i < 3; i++) epipes(types[i]);
	signal(SIGPIPE, SIG_DFL);
	struct sigaction sa = {.sa_handler = onpipe}; struct itimerval it = {{0, 0}, {0, 50000}};
	for (int restart = 0; restart < 3; restart++) {
		sa.sa_flags = restart ? SA_RESTART : 0; sigaction(SIGALRM, &sa, 0); setitimer(ITIMER_REAL, &it, 0);
		if (restart == 1 && (p = fork()) == 0) { usleep(200000); write(sv[1], "z", 1); _exit(0); }
		if (restart == 2) { struct timeval tv = {5, 0}; setsockopt(sv[0], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv); }
		SHOW(restart == 0 ? "recv interrupted" : restart == 1 ? "  with SA_RESTART" : "  with SA_RESTART and SO_RCVTIMEO", recv(sv[0], b, 1, 0));
	}
	if ((p = fork()) == 0) { socketpair(AF_UNIX, SOCK_STREAM, 0, sv); close(sv[1]); write(sv[0], "x", 1); _exit(0); }
	int st; waitpid(p, &st, 0); printf("writer to a closed stream: signaled %d sig %d\n", WIFSIGNALED(st), WTERMSIG(st));
	return 0;
}
`

// TestSocketPair: socketpair echo across fork for the three types,
// message boundaries (stream bytes join, datagrams don't), MSG_PEEK,
// MSG_TRUNC in both senses, MSG_WAITALL, FIONREAD and SIOCOUTQ (Linux's
// skb accounting), shutdown, EOF, EPIPE with and without SIGPIPE
// (MSG_NOSIGNAL; none for datagram sockets), ECONNRESET for unread data,
// ECONNREFUSED, poll bits, EINTR vs restart (SA_RESTART, SO_RCVTIMEO),
// and death by SIGPIPE.
func TestSocketPair(t *testing.T) {
	sockDiff(t, "sockpair", sockPairC, "stream echo SOCKET", "sig 13", "interrupted: -1 EINTR", "RESTART: 1")
}

const sockRightsC = sockPrelude + `
int main(int argc, char **argv) {
	setvbuf(stdout, NULL, _IOLBF, 0);
	int sv[2], p[2], fds[256], n; char b[32]; socketpair(AF_UNIX, SOCK_STREAM, 0, sv); pipe(p);
	int file = open(argv[0], O_RDONLY); lseek(file, 1, SEEK_SET);
	struct sockaddr_un a; socklen_t al = abstract(&a, "rights");
	int lst = socket(AF_UNIX, SOCK_STREAM, 0); bind(lst, (struct sockaddr *)&a, al); listen(lst, 4);
	pid_t pid = fork();
	if (pid == 0) {
		close(sv[0]); close(file); close(p[0]); close(p[1]); close(lst);
		n = recvfds("child recvmsg", sv[1], fds, 512, MSG_CMSG_CLOEXEC);
		for (int i = 0; i < n; i++) { struct stat st; fstat(fds[i], &st);
			printf("  fd %d: reg %d fifo %d sock %d cloexec %d\n", i, S_ISREG(st.st_mode), S_ISFIFO(st.st_mode), S_ISSOCK(st.st_mode), fcntl(fds[i], F_GETFD)); }
		memset(b, 0, sizeof b); read(fds[0], b, 3); printf("  the file at its shared offset: %s\n", b);
		int c = accept(fds[2], NULL, NULL); write(c, "accepted", 8); close(c);
		write(fds[1], "via pipe", 8);
		_exit(0);
	}
	close(sv[1]);
	int three[3] = {file, p[1], lst}, rs = sendfds(sv[0], three, 3, "F");
	close(file); close(p[1]); close(lst);
	int c = socket(AF_UNIX, SOCK_STREAM, 0), rc = connect(c, (struct sockaddr *)&a, al);
	char b1[16] = {0}, b2[16] = {0}; read(c, b1, 15); read(p[0], b2, 15);
	int st; waitpid(pid, &st, 0);
	printf("parent: sendmsg %d, connect to the passed listener %d, read %s, pipe %s, then %zd, child %d\n", rs, rc, b1, b2, read(p[0], b, 1), st);
	SHOW("connect once its last holder exited", connect(socket(AF_UNIX, SOCK_STREAM, 0), (struct sockaddr *)&a, al));
	int q[2]; socketpair(AF_UNIX, SOCK_DGRAM, 0, q);
	pipe(p); int w3[3] = {p[1], p[1], p[1]}; sendfds(q[0], w3, 3, "T"); close(p[1]);
	n = recvfds("room for one fd", q[1], fds, CMSG_LEN(sizeof(int)), 0); close(fds[0]);
	printf("  the pipe: %#x\n", hup(p[0])); close(p[0]);
	pipe(p); sendfds(q[0], &p[1], 1, "N"); close(p[1]);
	recvfds("no control buffer", q[1], fds, 0, 0); printf("  the pipe: %#x\n", hup(p[0])); close(p[0]);
	pipe(p); sendfds(q[0], &p[1], 1, "R"); close(p[1]);
	SHOW("read(2)", read(q[1], b, sizeof b)); printf("  the pipe: %#x\n", hup(p[0])); close(p[0]);
	pipe(p); sendfds(q[0], &p[1], 1, "P"); close(p[1]);
	int f1[4], f2[4]; recvfds("MSG_PEEK", q[1], f1, 64, MSG_PEEK); recvfds("then recvmsg", q[1], f2, 64, 0);
	struct stat s1, s2; fstat(f1[0], &s1); fstat(f2[0], &s2);
	printf("  two descriptors %d, one pipe %d\n", f1[0] != f2[0], s1.st_ino == s2.st_ino);
	close(f1[0]); printf("  after closing one: %#x\n", hup(p[0]) & POLLHUP); close(f2[0]); printf("  after both: %#x\n", hup(p[0])); close(p[0]);
	int q2[2]; socketpair(AF_UNIX, SOCK_STREAM, 0, q2); pipe(p); sendfds(q2[0], &p[1], 1, "U"); close(p[1]);
	close(q2[0]); close(q2[1]); printf("unread when the socket closed: %#x\n", hup(p[0])); close(p[0]);
	int bad = 9999; SHOW("sendmsg bad fd", sendfds(q[0], &bad, 1, "B"));
	for (int i = 0; i < 254; i++) fds[i] = q[0];
	SHOW("sendmsg 254 fds", sendfds(q[0], fds, 254, "M"));
	SHOW("sendmsg 253 fds", sendfds(q[0], fds, 253, "M"));
	n = recvfds("253", q[1], fds, 2048, 0); for (int i = 0; i < n; i++) close(fds[i]);
	socketpair(AF_UNIX, SOCK_STREAM, 0, q2); pipe(p);
	send(q2[0], "ab", 2, 0); sendfds(q2[0], &p[0], 1, "cd"); send(q2[0], "ef", 2, 0); sendfds(q2[0], &p[0], 1, "gh");
	n = recvfds("stream", q2[1], fds, 64, 0); close(fds[0]);
	n = recvfds("stream", q2[1], fds, 64, 0); close(fds[0]);
	SHOW("stream sendmsg of 0 bytes with a fd", sendfds(q2[0], &p[0], 1, ""));
	SHOW("stream empty", recv(q2[1], b, 1, MSG_DONTWAIT));
	return 0;
}
`

// TestSocketRights: SCM_RIGHTS passes an open file (sharing its offset),
// a pipe's write end and a listening socket to a forked child, which
// reads, writes and accepts; MSG_CMSG_CLOEXEC; files that don't fit
// (MSG_CTRUNC), that have no control buffer, that read(2) skips or that
// sit unread in a closing socket are closed; MSG_PEEK duplicates; EBADF,
// the 253-file limit; stream reads stop at a message with files.
func TestSocketRights(t *testing.T) {
	sockDiff(t, "sockrights", sockRightsC, "read accepted, pipe via pipe, then 0")
}

const sockCredsC = sockPrelude + `
static char logb[4096]; static int logn;
#define LOG(...) (logn += snprintf(logb + logn, sizeof logb - logn, __VA_ARGS__))
static int sendcred(int s, pid_t pid, uid_t uid, gid_t gid) {
	union { char b[CMSG_SPACE(sizeof(struct ucred))]; struct cmsghdr a; } ctl;
	struct iovec io = {"c", 1}; struct msghdr mh = {.msg_iov = &io, .msg_iovlen = 1, .msg_control = ctl.b, .msg_controllen = sizeof ctl.b};
	struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c->cmsg_level = SOL_SOCKET; c->cmsg_type = SCM_CREDENTIALS; c->cmsg_len = CMSG_LEN(sizeof(struct ucred));
	struct ucred u = {pid, uid, gid}; memcpy(CMSG_DATA(c), &u, sizeof u);
	return sendmsg(s, &mh, 0);
}
static struct ucred peer(int s, socklen_t *l) { struct ucred u = {0}; *l = sizeof u; getsockopt(s, SOL_SOCKET, SO_PEERCRED, &u, l); return u; }
int main(void) {
	setvbuf(stdout, NULL, _IOLBF, 0);
	int sv[2], one = 1; socklen_t l; socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	struct ucred u = peer(sv[0], &l);
	printf("socketpair: len %d pid==self %d uid==euid %d gid==egid %d\n", l, u.pid == getpid(), u.uid == geteuid(), u.gid == getegid());
	u = peer(socket(AF_UNIX, SOCK_STREAM, 0), &l); printf("unconnected: %d %d %d\n", u.pid, (int)u.uid, (int)u.gid);
	struct sockaddr_un a; socklen_t al = abstract(&a, "creds");
	int lst = socket(AF_UNIX, SOCK_STREAM, 0); bind(lst, (struct sockaddr *)&a, al); listen(lst, 4);
	u = peer(lst, &l); printf("listener: pid==self %d\n", u.pid == getpid());
	setsockopt(lst, SOL_SOCKET, SO_PASSCRED, &one, sizeof one);
	pid_t pid = fork();
	if (pid == 0) {
		u = peer(sv[1], &l); printf("child: socketpair peer pid==parent %d\n", u.pid == getppid());
		int c = socket(AF_UNIX, SOCK_STREAM, 0); SHOW("child: connect", connect(c, (struct sockaddr *)&a, al));
		u = peer(c, &l); printf("child: connected peer pid==parent %d uid==euid %d\n", u.pid == getppid(), u.uid == geteuid());
		SHOW("child: send", send(c, "a", 1, 0));
		SHOW("child: SCM_CREDENTIALS of its own", sendcred(c, getpid(), getuid(), getgid()));
		SHOW("child: claiming its parent (root may)", sendcred(c, getppid(), getuid(), getgid()));
		SHOW("child: claiming no process", sendcred(c, 0x3fffffff, getuid(), getgid()));
		SHOW("child: claiming uid -1", sendcred(c, getpid(), -1, getgid()));
		_exit(0);
	}
	int c = accept(lst, NULL, NULL), v = 0; l = sizeof v;
	getsockopt(c, SOL_SOCKET, SO_PASSCRED, &v, &l); LOG("accepted: SO_PASSCRED %d", v);
	u = peer(c, &l); LOG(" peer pid==child %d uid==euid %d\n", u.pid == pid, u.uid == geteuid());
	int st; waitpid(pid, &st, 0);
	for (int i = 0; i < 3; i++) {
		union { char b[256]; struct cmsghdr a; } ctl; char d[8];
		struct iovec io = {d, sizeof d}; struct msghdr mh = {.msg_iov = &io, .msg_iovlen = 1, .msg_control = ctl.b, .msg_controllen = sizeof ctl.b};
		ssize_t r = recvmsg(c, &mh, MSG_DONTWAIT); struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
		if (r < 0 || !cm) { LOG("recvmsg %zd no creds\n", r); continue; }
		memcpy(&u, CMSG_DATA(cm), sizeof u);
		LOG("recvmsg %zd %.*s: type %d len %zu pid==child %d pid==self %d uid==uid %d gid==gid %d\n", r, (int)r, d, cm->cmsg_type,
			(size_t)cm->cmsg_len, u.pid == pid, u.pid == getpid(), u.uid == getuid(), u.gid == getgid());
	}
	printf("%s", logb);
	int d = socket(AF_UNIX, SOCK_DGRAM, 0); struct sockaddr_un b = {AF_UNIX}; l = sizeof b;
	SHOW("autobind", bind(d, (struct sockaddr *)&b, sizeof(sa_family_t)));
	getsockname(d, (struct sockaddr *)&b, &l);
	int hex = 1; for (int i = 1; i <= 5; i++) hex &= !!isxdigit(b.sun_path[i]);
	printf("autobind name: len %d abstract %d hex %d\n", l, b.sun_path[0] == 0, hex);
	SHOW("autobind again", bind(d, (struct sockaddr *)&b, sizeof(sa_family_t)));
	SHOW("bind when bound", bind(d, (struct sockaddr *)&a, al));
	int srv = socket(AF_UNIX, SOCK_DGRAM, 0); bind(srv, (struct sockaddr *)&a, al);
	int cl = socket(AF_UNIX, SOCK_DGRAM, 0); sendto(cl, "u", 1, 0, (struct sockaddr *)&a, al);
	l = sizeof b; recvfrom(srv, &v, 1, 0, (struct sockaddr *)&b, &l); printf("from an unbound sender: addrlen %d\n", l);
	setsockopt(cl, SOL_SOCKET, SO_PASSCRED, &one, sizeof one); connect(cl, (struct sockaddr *)&a, al);
	l = sizeof b; getsockname(cl, (struct sockaddr *)&b, &l); printf("SO_PASSCRED connect autobinds: len %d\n", l);
	send(cl, "p", 1, 0); l = sizeof b; recvfrom(srv, &v, 1, 0, (struct sockaddr *)&b, &l); printf("  recvfrom addrlen %d\n", l);
	return 0;
}
`

// TestSocketCreds: SO_PEERCRED of socketpair, listener, connected and
// accepted sockets (the creator's, the listener's and the connector's
// pid), SCM_CREDENTIALS with SO_PASSCRED inherited from the listener,
// explicit credentials (EPERM/ESRCH/EINVAL), stream data of different
// senders not joined, autobind (5 hex digits, length 8) by bind and by
// connect with SO_PASSCRED.
func TestSocketCreds(t *testing.T) {
	sockDiff(t, "sockcreds", sockCredsC, "pid==child 1 pid==self 0 uid==uid 1")
}

const sockDgramC = sockPrelude + `
static void stream_of(int type, int count) {
	int sv[2]; static unsigned char b[4096]; socketpair(AF_UNIX, type, 0, sv);
	pid_t p = fork();
	if (p == 0) {
		close(sv[0]);
		for (int i = 0; i < count; i++) {
			int len = 4 + i % 300; memcpy(b, &i, 4); for (int k = 4; k < len; k++) b[k] = i + k;
			if (send(sv[1], b, len, 0) != len) _exit(1);
		}
		_exit(0);
	}
	close(sv[1]); int bad = 0;
	for (int i = 0; i < count; i++) {
		ssize_t r = recv(sv[0], b, sizeof b, 0); int j; memcpy(&j, b, 4);
		bad += r != 4 + i % 300 || j != i;
		for (int k = 4; k < r; k++) bad += b[k] != (unsigned char)(i + k);
	}
	int st; waitpid(p, &st, 0);
	printf("%s: %d messages, %d out of order or damaged, sender status %d\n", tn(type), count, bad, st);
	close(sv[0]);
}
int main(void) {
	setvbuf(stdout, NULL, _IOLBF, 0);
	stream_of(SOCK_DGRAM, 10000);
	stream_of(SOCK_SEQPACKET, 3000);
	struct sockaddr_un a; socklen_t al = abstract(&a, "dgram");
	int srv = socket(AF_UNIX, SOCK_DGRAM, 0); bind(srv, (struct sockaddr *)&a, al);
	int cl = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK, 0); SHOW("connect", connect(cl, (struct sockaddr *)&a, al));
	int n = 0; while (send(cl, "q", 1, 0) == 1) n++;
	printf("queued to a receiver not connected back: %d, then %s\n", n, strerrorname_np(errno));
	struct pollfd pf = {cl, POLLOUT, 0}; poll(&pf, 1, 0); printf("  poll while full %#x\n", pf.revents);
	char c; recv(srv, &c, 1, 0); poll(&pf, 1, 0); printf("  poll after one read %#x\n", pf.revents);
	int ep = epoll_create1(0); struct epoll_event ev = {.events = EPOLLOUT}, out;
	send(cl, "q", 1, 0); epoll_ctl(ep, EPOLL_CTL_ADD, cl, &ev); SHOW("  epoll_wait full", epoll_wait(ep, &out, 1, 0));
	pid_t p = fork();
	if (p == 0) { usleep(30000); recv(srv, &c, 1, 0); _exit(0); }
	SHOW("  epoll_wait until the child reads", epoll_wait(ep, &out, 1, 5000)); waitpid(p, NULL, 0);
	if ((p = fork()) == 0) { int b = socket(AF_UNIX, SOCK_DGRAM, 0); for (int i = 0; i < 5; i++) sendto(b, "b", 1, 0, (struct sockaddr *)&a, al); _exit(0); }
	usleep(30000); n = 0; while (recv(srv, &c, 1, MSG_DONTWAIT) == 1) n++;
	int st; waitpid(p, &st, 0); while (recv(srv, &c, 1, MSG_DONTWAIT) == 1) n++;
	printf("a blocked sender went on: %d read in all, status %d\n", n, st);
	int third = socket(AF_UNIX, SOCK_DGRAM, 0); struct sockaddr_un cb = {AF_UNIX}; socklen_t cl2 = sizeof cb;
	bind(cl, (struct sockaddr *)&cb, sizeof(sa_family_t)); getsockname(cl, (struct sockaddr *)&cb, &cl2);
	SHOW("connect to a socket connected elsewhere", connect(third, (struct sockaddr *)&cb, cl2));
	SHOW("sendto it", sendto(third, "x", 1, 0, (struct sockaddr *)&cb, cl2));
	struct sockaddr un = {AF_UNSPEC}; SHOW("disconnect", connect(cl, &un, sizeof un)); SHOW("  send", send(cl, "x", 1, 0));
	SHOW("connect", connect(cl, (struct sockaddr *)&a, al)); close(srv);
	SHOW("  send after the receiver closed", send(cl, "x", 1, 0)); SHOW("  send again", send(cl, "x", 1, 0));
	SHOW("  sendto a vanished name", sendto(cl, "x", 1, 0, (struct sockaddr *)&a, al));
	int sv[2]; socketpair(AF_UNIX, SOCK_DGRAM, 0, sv);
	static char big[300000]; SHOW("datagram over SO_SNDBUF", send(sv[0], big, sizeof big, 0));
	struct mmsghdr mm[8]; struct iovec io[8]; char bufs[8][16];
	const char *w[] = {"one", "two", "three", "four", "five"};
	memset(mm, 0, sizeof mm);
	for (int i = 0; i < 5; i++) { io[i].iov_base = (void *)w[i]; io[i].iov_len = strlen(w[i]); mm[i].msg_hdr.msg_iov = &io[i]; mm[i].msg_hdr.msg_iovlen = 1; }
	SHOW("sendmmsg", sendmmsg(sv[0], mm, 5, 0));
	for (int i = 0; i < 5; i++) printf(" %u", mm[i].msg_len); printf("\n");
	memset(mm, 0, sizeof mm);
	for (int i = 0; i < 8; i++) { io[i].iov_base = bufs[i]; io[i].iov_len = 4; mm[i].msg_hdr.msg_iov = &io[i]; mm[i].msg_hdr.msg_iovlen = 1; }
	SHOW("recvmmsg", n = recvmmsg(sv[1], mm, 8, MSG_DONTWAIT, NULL));
	for (int i = 0; i < n; i++) printf(" %u:%.*s:%d", mm[i].msg_len, (int)mm[i].msg_len, bufs[i], !!(mm[i].msg_hdr.msg_flags & MSG_TRUNC)); printf("\n");
	SHOW("recvmmsg empty", recvmmsg(sv[1], mm, 8, MSG_DONTWAIT, NULL));
	send(sv[0], "a", 1, 0); send(sv[0], "b", 1, 0);
	SHOW("recvmmsg MSG_WAITFORONE", recvmmsg(sv[1], mm, 8, MSG_WAITFORONE, NULL));
	return 0;
}
`

// TestSocketDgram: 10,000 datagrams and 3,000 seqpacket messages of
// varying sizes arrive in order, whole and separate while the sender
// blocks on a full buffer; a receiver not connected back queues
// max_dgram_qlen+1 messages, poll and epoll report POLLOUT again once it
// reads; blocked senders resume; EPERM, AF_UNSPEC, ECONNREFUSED then
// ENOTCONN after the receiver closes, EMSGSIZE, sendmmsg/recvmmsg.
func TestSocketDgram(t *testing.T) {
	sockDiff(t, "sockdgram", sockDgramC, "10000 messages, 0 out of order")
}

const sockServerC = sockPrelude + `
static int opt(int s, int name) { int v = -1; socklen_t l = sizeof v; getsockopt(s, SOL_SOCKET, name, &v, &l); return v; }
#define SA(a) (struct sockaddr *)&(a)
int main(void) {
	setvbuf(stdout, NULL, _IOLBF, 0);
	struct sockaddr_un a, g; socklen_t al = abstract(&a, "server"), gl; char b[64];
	int s = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0), c = socket(AF_UNIX, SOCK_STREAM, 0), sv[2];
	SHOW("bind", bind(s, SA(a), al)); SHOW("bind again", bind(s, SA(a), al));
	SHOW("bind a taken name", bind(c, SA(a), al)); SHOW("bind it for a datagram socket", bind(socket(AF_UNIX, SOCK_DGRAM, 0), SA(a), al));
	SHOW("connect before listen", connect(c, SA(a), al)); SHOW("listen", listen(s, 5));
	SHOW("non-blocking accept", accept(s, NULL, NULL)); gl = sizeof g; getsockname(s, SA(g), &gl);
	printf("getsockname len==bound %d same %d; SO_ACCEPTCONN %d SO_TYPE %d SO_DOMAIN %d SO_PROTOCOL %d\n", gl == al, !memcmp(&a, &g, al),
		opt(s, SO_ACCEPTCONN), opt(s, SO_TYPE), opt(s, SO_DOMAIN), opt(s, SO_PROTOCOL));
	for (int i = 0; i < 3; i++) {
		pid_t p = fork();
		if (p == 0) {
			int k = socket(AF_UNIX, SOCK_STREAM, 0), bad = connect(k, SA(a), al) != 0;
			gl = sizeof g; getpeername(k, SA(g), &gl); bad |= (gl != al) << 1; gl = sizeof g; getsockname(k, SA(g), &gl); bad |= (gl != 2) << 2;
			sprintf(b, "client %d", i); write(k, b, strlen(b)); ssize_t n = read(k, b, sizeof b);
			_exit(bad | (n != 8 || b[0] != 'C') << 3);
		}
		struct pollfd pf = {s, POLLIN, 0}; poll(&pf, 1, 5000);
		gl = sizeof g; int k = accept4(s, SA(g), &gl, SOCK_CLOEXEC); ssize_t n = read(k, b, sizeof b);
		for (int j = 0; j < n; j++) b[j] = toupper(b[j]);
		write(k, b, n); int st; waitpid(p, &st, 0);
		socklen_t ml = sizeof g; getsockname(k, SA(g), &ml);
		printf("poll %#x, accepted %.*s addrlen %d, cloexec %d nonblock %d, getsockname len==bound %d, client status %d\n", pf.revents, (int)n, b, gl,
			fcntl(k, F_GETFD), !!(fcntl(k, F_GETFL) & O_NONBLOCK), ml == al, st);
		close(k);
	}
	close(s); SHOW("connect after close", connect(c, SA(a), al));
	s = socket(AF_UNIX, SOCK_STREAM, 0); bind(s, SA(a), al); listen(s, 0);
	int c1 = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0), c2 = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
	SHOW("backlog 0: first connect", connect(c1, SA(a), al)); SHOW("  second, non-blocking", connect(c2, SA(a), al));
	pid_t p = fork();
	if (p == 0) { int k = socket(AF_UNIX, SOCK_STREAM, 0); _exit(connect(k, SA(a), al) != 0); }
	usleep(50000); close(accept(s, NULL, NULL)); int st; waitpid(p, &st, 0);
	printf("  a blocking connect waited for accept: %d\n", st);
	listen(s, 5); SHOW("  after listen(5) again", connect(c2, SA(a), al));
	close(s); SHOW("  a queued client after its listener closed", recv(c2, b, 1, 0)); SHOW("  then", recv(c2, b, 1, 0));
	s = socket(AF_UNIX, SOCK_STREAM, 0); c = socket(AF_UNIX, SOCK_STREAM, 0); struct pollfd pf[2] = {{s, POLLIN | POLLOUT, 0}, {c, POLLIN | POLLOUT, 0}};
	bind(s, SA(a), al); listen(s, 1); poll(pf, 2, 0); printf("poll listener %#x, unconnected %#x\n", pf[0].revents, pf[1].revents);
	connect(c, SA(a), al); poll(pf, 2, 0); printf("  with a connection pending %#x, connected %#x\n", pf[0].revents, pf[1].revents);
	close(accept(s, NULL, NULL)); SHOW("  shutdown(SHUT_RD) then accept", (shutdown(s, SHUT_RD), accept(s, NULL, NULL)));
	socketpair(AF_UNIX, SOCK_STREAM, 0, sv); int v = 32768; setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &v, sizeof v); fcntl(sv[0], F_SETFL, O_NONBLOCK);
	int n = 0; ssize_t r; while ((r = write(sv[0], b, sizeof b)) > 0) n += r;
	pf[0].fd = sv[0]; poll(pf, 1, 0); printf("SO_SNDBUF %d: %d bytes until %s, poll %#x", opt(sv[0], SO_SNDBUF), n, strerrorname_np(errno), pf[0].revents);
	while (recv(sv[1], b, sizeof b, MSG_DONTWAIT) > 0) {}
	poll(pf, 1, 0); printf(", drained %#x\n", pf[0].revents);
	v = 1; setsockopt(sv[0], SOL_SOCKET, SO_RCVBUF, &v, sizeof v); printf("SO_RCVBUF 1 -> %d\n", opt(sv[0], SO_RCVBUF));
	struct timeval tv = {0, 200000}; setsockopt(sv[0], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv); socklen_t tl = sizeof tv; tv.tv_usec = 0;
	getsockopt(sv[0], SOL_SOCKET, SO_RCVTIMEO, &tv, &tl); double t0 = now(); fcntl(sv[0], F_SETFL, 0);
	SHOW("SO_RCVTIMEO recv", recv(sv[0], b, 1, 0)); printf("  timeout %ld.%06ld waited %d\n", (long)tv.tv_sec, (long)tv.tv_usec, now() - t0 > 0.15);
	tv.tv_usec = 1000000; SHOW("SO_SNDTIMEO bad usec", setsockopt(sv[0], SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv));
	struct linger lg = {1, 7}; setsockopt(sv[0], SOL_SOCKET, SO_LINGER, &lg, sizeof lg); lg.l_linger = 0; tl = sizeof lg;
	getsockopt(sv[0], SOL_SOCKET, SO_LINGER, &lg, &tl); printf("SO_LINGER %d %d len %d\n", lg.l_onoff, lg.l_linger, tl);
	v = 1; setsockopt(sv[0], SOL_SOCKET, SO_KEEPALIVE, &v, 4); setsockopt(sv[0], SOL_SOCKET, SO_REUSEADDR, &v, 4);
	printf("SO_KEEPALIVE %d SO_REUSEADDR %d SO_PASSCRED %d SO_ERROR %d\n", opt(sv[0], SO_KEEPALIVE), opt(sv[0], SO_REUSEADDR), opt(sv[0], SO_PASSCRED), opt(sv[0], SO_ERROR));
	tl = 4; SHOW("getsockopt unknown", getsockopt(sv[0], SOL_SOCKET, 1234, &v, &tl)); SHOW("getsockopt SOL_TCP", getsockopt(sv[0], 6, 1, &v, &tl));
	SHOW("setsockopt SO_TYPE", setsockopt(sv[0], SOL_SOCKET, SO_TYPE, &v, 4)); SHOW("setsockopt short", setsockopt(sv[0], SOL_SOCKET, SO_KEEPALIVE, &v, 2));
	struct stat st2; fstat(sv[0], &st2); sprintf(b, "/proc/self/fd/%d", sv[0]); char link[64] = {0}; readlink(b, link, sizeof link - 1);
	printf("fstat: sock %d mode %o size %ld link %.8s\n", S_ISSOCK(st2.st_mode), st2.st_mode & 07777, (long)st2.st_size, link);
	int pp[2]; pipe(pp); gl = sizeof g;
	SHOW("getsockname(pipe)", getsockname(pp[0], SA(g), &gl)); SHOW("getsockopt(pipe)", getsockopt(pp[0], SOL_SOCKET, SO_TYPE, &v, &tl));
	SHOW("send(pipe)", send(pp[1], "x", 1, 0)); SHOW("bind(closed)", bind(99, SA(a), al)); SHOW("listen(datagram)", listen(socket(AF_UNIX, SOCK_DGRAM, 0), 1));
	SHOW("socket type 99", socket(AF_UNIX, 99, 0)); SHOW("socket SOCK_RDM", socket(AF_UNIX, SOCK_RDM, 0)); SHOW("socket protocol 2", socket(AF_UNIX, SOCK_STREAM, 2));
	SHOW("socket family 200", socket(200, SOCK_STREAM, 0)); SHOW("socketpair bad flags", socketpair(AF_UNIX, SOCK_STREAM | 0x100, 0, sv));
	return 0;
}
`

// TestSocketServer: a stream server on an abstract name with forked
// clients (accept4 flags, address lengths of getsockname, getpeername and
// accept), EADDRINUSE per type, EINVAL, ECONNREFUSED, non-blocking accept
// and connect (EAGAIN on a full backlog), a blocking connect released by
// accept, ECONNRESET for a queued connection whose listener closed, poll
// bits, SO_SNDBUF flow control, SO_RCVTIMEO, the other options, fstat and
// /proc/self/fd, ENOTSOCK and socket(2)'s argument errors.
func TestSocketServer(t *testing.T) {
	sockDiff(t, "sockserver", sockServerC, "CLIENT 2 addrlen 2, cloexec 1 nonblock 0, getsockname len==bound 1, client status 0")
}

const sockPathC = sockPrelude + `
#define SA(a) (struct sockaddr *)&(a)
static socklen_t path(struct sockaddr_un *a, const char *p) { memset(a, 0, sizeof *a); a->sun_family = AF_UNIX; strcpy(a->sun_path, p); return offsetof(struct sockaddr_un, sun_path) + strlen(p) + 1; }
int main(void) {
	setvbuf(stdout, NULL, _IOLBF, 0);
	char dir[] = "/tmp/gbsockXXXXXX", p[64], b[16]; if (!mkdtemp(dir)) { perror("mkdtemp"); return 1; }
	struct sockaddr_un a, g; snprintf(p, sizeof p, "%s/sock", dir); socklen_t al = path(&a, p), gl = sizeof g, rl;
	int s = socket(AF_UNIX, SOCK_STREAM, 0), st;
	SHOW("bind", bind(s, SA(a), al)); getsockname(s, SA(g), &gl); printf("getsockname len-dir %d same %d\n", (int)(gl - strlen(dir)), !strcmp(g.sun_path, p));
	SHOW("bind the same path", bind(socket(AF_UNIX, SOCK_STREAM, 0), SA(a), al)); SHOW("listen", listen(s, 4));
	pid_t pid = fork();
	if (pid == 0) { int c = socket(AF_UNIX, SOCK_STREAM, 0); if (connect(c, SA(a), al)) _exit(1); write(c, "hi", 2); _exit(read(c, b, 2) != 2); }
	int c = accept(s, NULL, NULL); read(c, b, 2); write(c, "HI", 2); waitpid(pid, &st, 0); printf("served a client: %.2s status %d\n", b, st);
	chdir(dir); c = socket(AF_UNIX, SOCK_STREAM, 0); rl = path(&g, "sock");
	SHOW("connect relative", connect(c, SA(g), rl)); gl = sizeof g; getpeername(c, SA(g), &gl); printf("  getpeername is the bound path %d\n", !strcmp(g.sun_path, p));
	int r = socket(AF_UNIX, SOCK_DGRAM, 0); rl = path(&g, "rel"); SHOW("bind relative datagram", bind(r, SA(g), rl));
	gl = sizeof g; getsockname(r, SA(g), &gl); printf("  getsockname %d %s\n", gl, g.sun_path);
	SHOW("  sendto it", sendto(socket(AF_UNIX, SOCK_DGRAM, 0), "d", 1, 0, SA(g), rl)); SHOW("  recv", recv(r, b, 1, 0));
	SHOW("connect a stream socket to it", connect(socket(AF_UNIX, SOCK_STREAM, 0), SA(g), rl));
	rl = path(&g, "missing"); SHOW("connect to a missing name", connect(socket(AF_UNIX, SOCK_STREAM, 0), SA(g), rl));
	close(open("file", O_CREAT | O_WRONLY, 0600)); rl = path(&g, "file");
	SHOW("connect to a regular file", connect(socket(AF_UNIX, SOCK_STREAM, 0), SA(g), rl));
	SHOW("bind over a regular file", bind(socket(AF_UNIX, SOCK_STREAM, 0), SA(g), rl));
	rl = path(&g, "nodir/x"); SHOW("bind in a missing directory", bind(socket(AF_UNIX, SOCK_STREAM, 0), SA(g), rl));
	unlink("file"); unlink("rel"); unlink(p); chdir("/"); SHOW("rmdir", rmdir(dir));
	return 0;
}
`

// TestSocketPathname: a pathname socket in a fresh directory under /tmp
// (which must be writable inside glassbox): bind, EADDRINUSE, a forked
// client, relative names, getsockname/getpeername, EPROTOTYPE, ENOENT,
// ECONNREFUSED for a regular file.
func TestSocketPathname(t *testing.T) {
	sockDiff(t, "sockpath", sockPathC, "served a client: hi status 0")
}

const zeroWriteC = `
#include <stdio.h>
#include <string.h>
#include <errno.h>
#include <signal.h>
#include <unistd.h>
#include <sys/socket.h>
#include <netinet/in.h>
static void show(const char *what, long r) { printf("%s: %ld %s\n", what, r, r < 0 ? strerror(errno) : ""); }
int main(void) {
	signal(SIGPIPE, SIG_IGN);
	char b[8];
	int sv[2];
	socketpair(AF_UNIX, SOCK_DGRAM, 0, sv);
	show("dgram write 0", write(sv[0], "", 0));
	show("dgram write 3", write(sv[0], "abc", 3));
	show("dgram recv (empty first)", recv(sv[1], b, sizeof b, MSG_DONTWAIT));
	show("dgram recv", recv(sv[1], b, sizeof b, MSG_DONTWAIT));
	socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv);
	show("seqpacket write 0", write(sv[0], "", 0));
	show("seqpacket recv", recv(sv[1], b, sizeof b, MSG_DONTWAIT));
	socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	show("stream write 0", write(sv[0], "", 0));
	show("stream recv", recv(sv[1], b, sizeof b, MSG_DONTWAIT));
	shutdown(sv[0], SHUT_WR);
	show("stream write 0 after shutdown", write(sv[0], "", 0));
	int u = socket(AF_UNIX, SOCK_STREAM, 0);
	show("unconnected unix stream write 0", write(u, "", 0));
	int tc = socket(AF_INET, SOCK_STREAM, 0);
	show("unconnected tcp write 0", write(tc, "", 0));
	int ud = socket(AF_INET, SOCK_DGRAM, 0);
	show("unconnected udp write 0", write(ud, "", 0));
	int p[2]; pipe(p);
	show("pipe write 0", write(p[1], "", 0));
	return 0;
}
`

// TestSocketZeroWrite: write(fd, "", 0) reaches a socket (an empty
// datagram or record, EPIPE after shutdown, ENOTCONN or EDESTADDRREQ
// unconnected) but stays a no-op on a pipe.
func TestSocketZeroWrite(t *testing.T) {
	t.Parallel()
	bin := compileC(t, "zerowrite", zeroWriteC)
	native, _ := diff(t, []string{bin})
	if !strings.Contains(native.Stdout, "dgram recv (empty first): 0") {
		t.Errorf("native run looks wrong: %s", native)
	}
}
