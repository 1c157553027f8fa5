package tests

import (
	"strings"
	"testing"
)

// copyEdgesC checks what sendfile, splice, tee and copy_file_range answer
// at their edges: which sources and destinations each takes, offsets and
// positions, how much a file splices into a pipe, non-blocking flags on
// either side, TCP's splice ignoring SPLICE_F_NONBLOCK, signals.
const copyEdgesC = `
#define _GNU_SOURCE
#include <stdio.h>
#include <fcntl.h>
#include <unistd.h>
#include <errno.h>
#include <string.h>
#include <signal.h>
#include <sys/time.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#define R(x) do { errno = 0; long r_ = (long)(x); printf("%-58s = %ld %s\n", #x, r_, r_ < 0 ? strerror(errno) : ""); } while (0)
static void tcppair(int sv[2]) {
	int l = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t al = sizeof a;
	bind(l, (void *)&a, sizeof a); listen(l, 1); getsockname(l, (void *)&a, &al);
	sv[0] = socket(AF_INET, SOCK_STREAM, 0); connect(sv[0], (void *)&a, sizeof a);
	sv[1] = accept(l, 0, 0); close(l);
}
static void onalrm(int s) { (void)s; }
static void soon(void) { struct itimerval it = { .it_value = { 0, 50000 } }; setitimer(ITIMER_REAL, &it, 0); }
static char buf[1 << 20];
int main(void) {
	setvbuf(stdout, 0, _IONBF, 0);
	struct sigaction sa = { .sa_handler = onalrm };
	sigaction(SIGALRM, &sa, 0);
	int p[2], q[2], s[2], t[2];
	memset(buf, 'x', sizeof buf);
	pipe(p); pipe(q); socketpair(AF_UNIX, SOCK_STREAM, 0, s); tcppair(t);
	char tmpl[] = "/tmp/gbedgeXXXXXX";
	int f = mkstemp(tmpl); unlink(tmpl);
	write(f, buf, 300000); lseek(f, 0, SEEK_SET);
	R(sendfile(q[1], p[0], 0, 10));             /* a pipe is no source */
	R(write(s[1], "abc", 3));
	R(sendfile(q[1], s[0], 0, 10));             /* a socket is, into a pipe */
	R(read(q[0], buf, 100));
	R(write(s[1], "abc", 3));
	R(sendfile(f, s[0], 0, 10));                /* but not into a file */
	R(lseek(f, 100, SEEK_SET));
	R(splice(f, 0, q[1], 0, 1 << 20, 0));       /* one pipe's worth, page-aligned */
	R(lseek(f, 0, SEEK_CUR));
	R(read(q[0], buf, sizeof buf));
	soon(); R(splice(t[0], 0, q[1], 0, 100, SPLICE_F_NONBLOCK)); /* TCP waits anyway */
	R(splice(s[0], 0, q[1], 0, 100, SPLICE_F_NONBLOCK));
	fcntl(q[1], F_SETFL, O_NONBLOCK);
	R(splice(s[0], 0, q[1], 0, 100, 0));        /* unix: the pipe's O_NONBLOCK counts */
	soon(); R(splice(t[0], 0, q[1], 0, 100, 0));/* TCP: only its own */
	fcntl(q[1], F_SETFL, 0);
	R(write(p[1], "hello", 5)); fcntl(p[0], F_SETFL, O_NONBLOCK);
	R(splice(p[0], 0, q[1], 0, 100, 0));
	R(splice(p[0], 0, q[1], 0, 100, 0));
	R(read(q[0], buf, 100));
	R(write(p[1], "hello", 5));
	R(tee(p[0], q[1], 3, 0));
	R(tee(p[0], p[1], 3, 0));
	R(tee(p[0], q[1], 0, 0));
	R(tee(p[0], q[1], 3, 64));
	R(tee(p[0], f, 3, 0));
	R(splice(p[0], 0, p[1], 0, 3, 0));
	R(read(q[0], buf, 100));
	R(read(p[0], buf, 100));
	loff_t o1 = 0, o2 = 5;
	R(copy_file_range(f, &o1, f, &o2, 10, 0));  /* overlapping */
	o1 = 0; o2 = 100000;
	R(copy_file_range(f, &o1, f, &o2, 10, 0));
	printf("offsets %lld %lld\n", (long long)o1, (long long)o2);
	R(lseek(f, 0, SEEK_END));
	R(copy_file_range(f, 0, f, 0, 10, 0));      /* at EOF: nothing, no overlap */
	R(copy_file_range(p[0], 0, f, 0, 10, 0));
	R(copy_file_range(f, 0, f, 0, 10, 1));
	R(splice(f, 0, q[1], &o1, 10, 0));
	R(splice(p[0], &o1, f, 0, 10, 0));
	R(splice(f, 0, f, 0, 10, 0));
	R(splice(p[0], 0, q[1], 0, 0, 0));
	R(splice(p[0], 0, q[1], 0, 10, 64));
	R(sendfile(s[1], f, 0, 0));
	o1 = -1;
	R(sendfile(s[1], f, &o1, 10));
	R(sendfile(s[1], p[0], &o1, 10));
	close(q[0]);
	signal(SIGPIPE, SIG_IGN);
	R(write(p[1], "hello", 5));
	R(splice(p[0], 0, q[1], 0, 5, 0));           /* no reader: EPIPE */
	R(splice(f, 0, q[1], 0, 5, 0));
	return 0;
}
`

// TestCopyEdges: sendfile, splice, tee and copy_file_range at their edges.
func TestCopyEdges(t *testing.T) {
	t.Parallel()
	native, _ := diff(t, []string{compileC(t, "copyedges", copyEdgesC)})
	if !strings.Contains(native.Stdout, "= 65436") {
		t.Errorf("native run looks wrong: %s", native)
	}
}

// tcpAheadC writes 1 MiB into a loopback TCP connection before reading
// any of it, in one thread: Linux's send buffer grows to megabytes. With
// SO_SNDBUF fixed small the writer gets only about that far ahead.
const tcpAheadC = `
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
static void tcppair(int sv[2]) {
	int l = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t al = sizeof a;
	bind(l, (void *)&a, sizeof a); listen(l, 1); getsockname(l, (void *)&a, &al);
	sv[0] = socket(AF_INET, SOCK_STREAM, 0); connect(sv[0], (void *)&a, sizeof a);
	sv[1] = accept(l, 0, 0); close(l);
}
static char buf[1 << 20], got[1 << 20];
int main(void) {
	int t[2];
	for (int i = 0; i < (int)sizeof buf; i++) buf[i] = i * 7 + (i >> 12);
	tcppair(t);
	printf("write 1 MiB ahead: %ld\n", (long)write(t[0], buf, sizeof buf));
	long n = 0;
	while (n < (long)sizeof got) { long r = read(t[1], got + n, sizeof got - n); if (r <= 0) break; n += r; }
	printf("read back %ld, same: %d\n", n, !memcmp(buf, got, sizeof buf));
	int u[2], sz = 4096;
	tcppair(u);
	setsockopt(u[0], SOL_SOCKET, SO_SNDBUF, &sz, sizeof sz);
	fcntl(u[0], F_SETFL, O_NONBLOCK);
	long fill = 0, r;
	while ((r = write(u[0], buf, 65536)) > 0) fill += r;
	printf("SO_SNDBUF 4096: between 8 KiB and 256 KiB ahead: %d\n", fill >= 8192 && fill <= 262144);
	return 0;
}
`

// TestTCPWriteAhead: a loopback TCP writer gets megabytes ahead of its
// reader unless SO_SNDBUF fixes its buffer.
func TestTCPWriteAhead(t *testing.T) {
	t.Parallel()
	native, _ := diff(t, []string{compileC(t, "tcpahead", tcpAheadC)})
	expect(t, "native", native, "write 1 MiB ahead: 1048576\nread back 1048576, same: 1\nSO_SNDBUF 4096: between 8 KiB and 256 KiB ahead: 1\n", 0)
}
