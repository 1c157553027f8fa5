package tests

import (
	"strings"
	"testing"
)

// sigIOC interrupts blocked reads and writes with a signal, with and
// without SA_RESTART: a call that moved bytes returns their count (never
// restarted, never EINTR); one that moved none is EINTR without
// SA_RESTART and goes on with it.
const sigIOC = `
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <unistd.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <time.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <sys/socket.h>
#include <sys/sendfile.h>
static int hits;
static void onalrm(int s) { (void)s; hits++; }
static void handler(int restart) {
	struct sigaction sa = { .sa_handler = onalrm, .sa_flags = restart ? SA_RESTART : 0 };
	sigaction(SIGALRM, &sa, 0);
}
static void soon(void) { struct itimerval it = { .it_value = { 0, 50000 } }; setitimer(ITIMER_REAL, &it, 0); }
static void report(const char *what, long r) {
	printf("%-44s %ld %s (signals %d)\n", what, r, r < 0 ? strerror(errno) : "", hits);
	hits = 0;
}
/* a thread that writes one byte to fd after 150 ms (after the signal) */
static void *late(void *a) {
	struct timespec ts = { 0, 150000000 };
	nanosleep(&ts, 0);
	write(*(int *)a, "z", 1);
	return 0;
}
/* a thread that reads up to 64 KiB from fd after 150 ms (after the signal) */
static void *lateread(void *a) {
	static char sink[65536];
	struct timespec ts = { 0, 150000000 };
	nanosleep(&ts, 0);
	read(*(int *)a, sink, sizeof sink);
	return 0;
}
static char big[1 << 20];
int main(void) {
	setvbuf(stdout, 0, _IONBF, 0);
	for (int restart = 0; restart < 2; restart++) {
		handler(restart);
		printf("-- SA_RESTART %s\n", restart ? "on" : "off");
		int p[2], s[2];
		pthread_t th;
		char b[100];

		pipe(p); soon();
		report("write 1 MiB into an empty pipe", write(p[1], big, sizeof big));
		close(p[0]); close(p[1]);

		pipe(p); soon();
		struct iovec iov[3] = { { big, 40000 }, { big, 40000 }, { big, 40000 } };
		report("writev 3x40000 into an empty pipe", writev(p[1], iov, 3));
		close(p[0]); close(p[1]);

		pipe(p); soon();
		if (restart) pthread_create(&th, 0, late, &p[1]);
		report("read an empty pipe", read(p[0], b, sizeof b));
		if (restart) pthread_join(th, 0);
		close(p[0]); close(p[1]);

		socketpair(AF_UNIX, SOCK_STREAM, 0, s); soon();
		report("write 1 MiB into a unix stream", write(s[0], big, sizeof big));
		close(s[0]); close(s[1]);

		socketpair(AF_UNIX, SOCK_STREAM, 0, s); soon();
		write(s[1], "0123456789", 10);
		if (restart) pthread_create(&th, 0, late, &s[1]);
		report("recv MSG_WAITALL 100 with 10 there", recv(s[0], b, 100, MSG_WAITALL));
		if (restart) pthread_join(th, 0);
		close(s[0]); close(s[1]);

		socketpair(AF_UNIX, SOCK_STREAM, 0, s); soon();
		if (restart) pthread_create(&th, 0, late, &s[1]);
		report("recvmsg on an empty unix stream", recv(s[0], b, sizeof b, 0));
		if (restart) pthread_join(th, 0);
		close(s[0]); close(s[1]);

		char tmpl[] = "/tmp/gbsigioXXXXXX";
		int f = mkstemp(tmpl); unlink(tmpl);
		write(f, big, sizeof big);
		socketpair(AF_UNIX, SOCK_STREAM, 0, s); soon();
		off_t o = 0;
		/* how far it got depends on how the socket charges spliced pages */
		long sf = sendfile(s[0], f, &o, sizeof big);
		printf("%-44s %s, offset %s (signals %d)\n", "sendfile 1 MiB into a unix stream",
			sf > 0 && sf < (long)sizeof big ? "partial" : "WRONG", o == sf ? "moved as much" : "WRONG", hits);
		hits = 0;
		close(s[0]); close(s[1]);

		int q[2];
		pipe(p); pipe(q);
		write(q[1], big, 65536); /* q is full */
		write(p[1], "abc", 3); soon();
		if (restart) pthread_create(&th, 0, lateread, &q[0]);
		report("splice into a full pipe", splice(p[0], 0, q[1], 0, 3, 0));
		if (restart) pthread_join(th, 0);
		close(p[0]); close(p[1]); close(q[0]); close(q[1]);

		pipe(p); soon();
		if (restart) pthread_create(&th, 0, late, &p[1]);
		report("splice from an empty pipe to a file", splice(p[0], 0, f, 0, 3, 0));
		if (restart) pthread_join(th, 0);
		close(p[0]); close(p[1]); close(f);

		if (!restart) {
			/* (with SA_RESTART Linux would wait on: reading one datagram
			   does not wake a sender until its buffer is a quarter full) */
			socketpair(AF_UNIX, SOCK_DGRAM, 0, s);
			fcntl(s[0], F_SETFL, O_NONBLOCK);
			while (send(s[0], big, 1000, 0) == 1000) {}
			fcntl(s[0], F_SETFL, 0);
			soon();
			report("send a datagram to a full receiver", send(s[0], big, 1000, 0));
			close(s[0]); close(s[1]);
		}
	}
	return 0;
}
`

// TestSignalPartialIO: signals interrupting blocked reads and writes
// leave Linux's counts: partial when bytes moved, EINTR or a restart when
// none did.
func TestSignalPartialIO(t *testing.T) {
	t.Parallel()
	native, _ := diff(t, []string{compileC(t, "sigio", sigIOC, "-pthread")})
	if !strings.Contains(native.Stdout, "write 1 MiB into an empty pipe               65536") {
		t.Errorf("native run looks wrong: %s", native)
	}
}
