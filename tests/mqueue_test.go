package tests

import (
	"strings"
	"testing"
)

// mqueueSrc exercises POSIX message queues: create and open with their
// errors, priorities and FIFO order, attributes and O_NONBLOCK through
// mq_setattr, sizes (EMSGSIZE), full and empty queues (EAGAIN,
// ETIMEDOUT), the status line read() shows, mq_notify with a signal and
// its EBUSY for a second process, poll, and unlink.
const mqueueSrc = `#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <mqueue.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
static void show(const char *what, long r) {
	if (r < 0) printf("%s: -1 %s\n", what, strerrorname_np(errno));
	else printf("%s: %ld\n", what, r);
	fflush(stdout);
}
int main(int argc, char **argv) {
	char name[64];
	snprintf(name, sizeof name, "/gbtest-%s", argv[1]);
	mq_unlink(name);
	struct mq_attr at = { .mq_maxmsg = 3, .mq_msgsize = 16 };
	show("open missing", mq_open(name, O_RDWR));
	show("bad attr", mq_open(name, O_RDWR | O_CREAT, 0600, &(struct mq_attr){ .mq_maxmsg = 0, .mq_msgsize = 16 }));
	mqd_t q = mq_open(name, O_RDWR | O_CREAT | O_EXCL, 0600, &at);
	show("create", q >= 0);
	show("create excl again", mq_open(name, O_RDWR | O_CREAT | O_EXCL, 0600, &at));
	show("slash in name", mq_open("/a/b", O_RDWR | O_CREAT, 0600, &at));
	show("no leading slash", mq_open("abc", O_RDWR | O_CREAT, 0600, &at));
	show("send prio 1", mq_send(q, "one", 3, 1));
	show("send prio 5", mq_send(q, "five", 4, 5));
	show("send prio 1 again", mq_send(q, "uno", 3, 1));
	struct mq_attr got;
	mq_getattr(q, &got);
	printf("attr flags %ld maxmsg %ld msgsize %ld curmsgs %ld\n", got.mq_flags, got.mq_maxmsg, got.mq_msgsize, got.mq_curmsgs);
	char st[128] = {0};
	lseek(q, 0, SEEK_SET);
	show("read status", read(q, st, sizeof st - 1));
	printf("status %s", st);
	struct pollfd p = { q, POLLIN | POLLOUT, 0 };
	poll(&p, 1, 0);
	printf("poll full: revents %#x\n", p.revents);
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_nsec += 50000000;
	if (ts.tv_nsec >= 1000000000) { ts.tv_sec++; ts.tv_nsec -= 1000000000; }
	show("send to a full queue, timeout", mq_timedsend(q, "x", 1, 0, &ts));
	struct mq_attr nb = { .mq_flags = O_NONBLOCK };
	show("setattr nonblock", mq_setattr(q, &nb, 0));
	show("send to a full queue, nonblock", mq_send(q, "x", 1, 0));
	show("send too big", mq_send(q, "0123456789abcdefg", 17, 0));
	show("send bad prio", mq_send(q, "x", 1, 40000));
	char buf[64];
	unsigned prio;
	show("receive small buffer", mq_receive(q, buf, 8, &prio));
	for (int i = 0; i < 3; i++) {
		memset(buf, 0, sizeof buf);
		long n = mq_receive(q, buf, sizeof buf, &prio);
		printf("received %ld %s prio %u\n", n, buf, prio);
	}
	show("receive empty, nonblock", mq_receive(q, buf, sizeof buf, &prio));
	nb.mq_flags = 0;
	mq_setattr(q, &nb, 0);
	show("receive empty, timeout", mq_timedreceive(q, buf, sizeof buf, &prio, &ts));
	ts.tv_nsec = 2000000000;
	show("receive bad timeout", mq_timedreceive(q, buf, sizeof buf, &prio, &ts));
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigprocmask(SIG_BLOCK, &set, 0);
	struct sigevent sev = { .sigev_notify = SIGEV_SIGNAL, .sigev_signo = SIGUSR1, .sigev_value.sival_int = 77 };
	show("notify", mq_notify(q, &sev));
	pid_t c = fork();
	if (c == 0) {
		show("child notify", mq_notify(q, &sev));
		show("child send", mq_send(q, "hey", 3, 2));
		_exit(0);
	}
	waitpid(c, 0, 0);
	siginfo_t si;
	struct timespec wait = { 2, 0 };
	int s = sigtimedwait(&set, &si, &wait);
	printf("signal %d code %d value %d from child %d\n", s, si.si_code, si.si_value.sival_int, si.si_pid == c);
	show("notify again (the first fired)", mq_notify(q, &sev));
	show("unregister", mq_notify(q, 0));
	show("close", mq_close(q));
	show("reopen read-only", (q = mq_open(name, O_RDONLY)) >= 0);
	show("send on read-only", mq_send(q, "x", 1, 0));
	memset(buf, 0, sizeof buf);
	show("receive", mq_receive(q, buf, sizeof buf, &prio));
	show("unlink", mq_unlink(name));
	show("unlink again", mq_unlink(name));
	show("open after unlink", mq_open(name, O_RDONLY));
	show("notify on a pipe", mq_notify(0, &sev));
	return 0;
}
`

// TestMQueue: POSIX message queues answer as on Linux.
func TestMQueue(t *testing.T) {
	t.Parallel()
	bin := compileC(t, "mqueue", mqueueSrc)
	native, _ := diff(t, []string{bin, "1"})
	if !strings.Contains(native.Stdout, "received 4 five prio 5") {
		t.Errorf("native run looks wrong:\n%s", native.Stdout)
	}
}
