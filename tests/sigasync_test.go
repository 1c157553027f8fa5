package tests

import (
	"strings"
	"testing"
)

// sigasyncSrc sets O_ASYNC (F_SETFL and FIOASYNC) on pipes and sockets
// and prints the signals their owners get: plain SIGIO, F_SETSIG's
// signal with si_code, si_band and si_fd, none without an owner or after
// O_ASYNC is cleared, POLL_OUT for a writer when its full pipe is drained,
// and the owner forms F_SETOWN (process) and F_SETOWN_EX (thread).
const sigasyncSrc = `#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
static sigset_t set;
/* wait_sig waits for the signal an event sends (5 s: a loaded machine),
   or a second for one that should not come. */
static void wait_sig(const char *what) {
	siginfo_t si;
	struct timespec ts = { strstr(what, "no owner") || strstr(what, "cleared") ? 1 : 5, 0 };
	int s = sigtimedwait(&set, &si, &ts);
	if (s < 0) { printf("%s: no signal (%s)\n", what, strerrorname_np(errno)); return; }
	if (si.si_code == SI_KERNEL) printf("%s: %s SI_KERNEL\n", what, sigabbrev_np(s));
	else printf("%s: %s code %d band %#lx fd %d\n", what, s == SIGRTMIN ? "SIGRTMIN" : sigabbrev_np(s), si.si_code, si.si_band, si.si_fd);
	fflush(stdout);
}
/* drain takes the signals an event may have sent more than once (Linux
   signals a writer for each buffer the reader frees). */
static void drain(void) {
	siginfo_t si;
	struct timespec ts = { 0, 100000000 };
	while (sigtimedwait(&set, &si, &ts) > 0) {}
}
static int last_fd;
static void later_write(int fd) {
	fflush(stdout);
	if (fork() == 0) { usleep(50000); write(fd, "x", 1); _exit(0); }
}
int main(void) {
	sigemptyset(&set);
	sigaddset(&set, SIGIO);
	sigaddset(&set, SIGRTMIN);
	sigprocmask(SIG_BLOCK, &set, 0);
	int p[2];
	pipe(p);
	last_fd = p[0];
	fcntl(p[0], F_SETOWN, getpid());
	printf("getown is me: %d\n", fcntl(p[0], F_GETOWN) == getpid());
	fcntl(p[0], F_SETFL, fcntl(p[0], F_GETFL) | O_ASYNC);
	later_write(p[1]);
	wait_sig("pipe, plain SIGIO");
	char c;
	read(p[0], &c, 1);
	fcntl(p[0], F_SETSIG, SIGRTMIN);
	later_write(p[1]);
	wait_sig("pipe, F_SETSIG");
	read(p[0], &c, 1);
	fcntl(p[0], F_SETFL, fcntl(p[0], F_GETFL) & ~O_ASYNC);
	later_write(p[1]);
	wait_sig("O_ASYNC cleared");
	read(p[0], &c, 1);
	/* no owner */
	int q[2];
	pipe(q);
	fcntl(q[0], F_SETFL, O_ASYNC);
	later_write(q[1]);
	wait_sig("no owner");
	/* a writer hears when its full pipe is drained */
	int w[2];
	pipe(w);
	fcntl(w[1], F_SETFL, O_NONBLOCK);
	char buf[4096] = {0};
	while (write(w[1], buf, sizeof buf) > 0) {}
	fcntl(w[1], F_SETOWN, getpid());
	fcntl(w[1], F_SETSIG, SIGIO);
	fcntl(w[1], F_SETFL, O_NONBLOCK | O_ASYNC);
	fflush(stdout);
	if (fork() == 0) {
		usleep(50000);
		fcntl(w[0], F_SETFL, O_NONBLOCK);
		while (read(w[0], buf, sizeof buf) > 0) {}
		_exit(0);
	}
	close(w[0]);
	wait_sig("writer, drained");
	drain();
	/* a socket, FIOASYNC, a thread owner */
	int s[2];
	socketpair(AF_UNIX, SOCK_STREAM, 0, s);
	struct f_owner_ex ox = { F_OWNER_TID, gettid() };
	fcntl(s[0], F_SETOWN_EX, &ox);
	fcntl(s[0], F_SETSIG, 0);
	int on = 1;
	ioctl(s[0], FIOASYNC, &on);
	printf("FIOASYNC sets O_ASYNC: %d\n", (fcntl(s[0], F_GETFL) & O_ASYNC) != 0);
	later_write(s[1]);
	wait_sig("socket, thread owner");
	while (wait(0) > 0) {}
	return 0;
}
`

// TestSigAsync: O_ASYNC signals a file's F_SETOWN owner when data comes
// (and a writer when room comes), as Linux does.
func TestSigAsync(t *testing.T) {
	t.Parallel()
	bin := compileC(t, "sigasync", sigasyncSrc)
	native, _ := diff(t, []string{bin})
	for _, want := range []string{"pipe, plain SIGIO: POLL SI_KERNEL", "pipe, F_SETSIG: SIGRTMIN code 1 band 0x41",
		"O_ASYNC cleared: no signal", "no owner: no signal", "writer, drained: POLL code 2 band 0x304", "socket, thread owner: POLL SI_KERNEL"} {
		if !strings.Contains(native.Stdout, want) {
			t.Errorf("native run lacks %q:\n%s", want, native.Stdout)
		}
	}
}
