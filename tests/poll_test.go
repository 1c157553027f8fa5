package tests

import "testing"

const pollC = `
#include <stdio.h>
#include <poll.h>
#include <unistd.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/select.h>
#include <sys/wait.h>
#include <time.h>
#include <fcntl.h>
static double now(void) { struct timespec ts; clock_gettime(CLOCK_MONOTONIC, &ts); return ts.tv_sec + ts.tv_nsec / 1e9; }
int main(void) {
	int p[2]; pipe(p);
	struct pollfd pf[2] = {{p[0], POLLIN, 0}, {p[1], POLLOUT, 0}};
	int n = poll(pf, 2, 0);
	printf("poll empty: n=%d r=%#x w=%#x\n", n, pf[0].revents, pf[1].revents);
	double t0 = now();
	n = poll(pf, 1, 50);
	printf("poll timeout: n=%d waited=%d\n", n, now() - t0 >= 0.045);
	write(p[1], "x", 1);
	n = poll(pf, 2, -1);
	printf("poll data: n=%d r=%#x\n", n, pf[0].revents);
	struct pollfd bad = {999, POLLIN, 0};
	n = poll(&bad, 1, 0);
	printf("poll bad fd: n=%d rev=%#x\n", n, bad.revents);

	int ep = epoll_create1(EPOLL_CLOEXEC);
	struct epoll_event ev = {.events = EPOLLIN, .data.u64 = 77}, out[4];
	printf("ctl add: %d\n", epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev));
	n = epoll_wait(ep, out, 4, 0);
	printf("epoll ready: n=%d data=%lu ev=%#x\n", n, (unsigned long)out[0].data.u64, out[0].events);
	char c; read(p[0], &c, 1);
	printf("epoll drained: n=%d\n", epoll_wait(ep, out, 4, 0));
	if (fork() == 0) { usleep(20000); write(p[1], "y", 1); _exit(0); }
	n = epoll_wait(ep, out, 4, 2000);
	printf("epoll woken by child: n=%d\n", n);
	wait(NULL);
	read(p[0], &c, 1);
	ev.events = EPOLLIN | EPOLLET;
	epoll_ctl(ep, EPOLL_CTL_MOD, p[0], &ev);
	write(p[1], "ab", 2);
	printf("et first: %d\n", epoll_wait(ep, out, 4, 0));
	printf("et again: %d\n", epoll_wait(ep, out, 4, 0));
	int reg = open("/proc/self/exe", O_RDONLY);
	printf("ctl regular file: %d\n", epoll_ctl(ep, EPOLL_CTL_ADD, reg, &ev));

	int efd = eventfd(3, EFD_NONBLOCK);
	uint64_t v = 0;
	ssize_t got = read(efd, &v, 8);
	printf("eventfd read: %zd v=%lu\n", got, (unsigned long)v);
	printf("eventfd empty: %zd\n", read(efd, &v, 8));
	v = 5; write(efd, &v, 8);
	fd_set rs; FD_ZERO(&rs); FD_SET(efd, &rs); FD_SET(p[0], &rs);
	struct timeval tv = {0, 0};
	n = select(efd + 1, &rs, NULL, NULL, &tv);
	printf("select: n=%d efd=%d pipe=%d\n", n, FD_ISSET(efd, &rs), FD_ISSET(p[0], &rs));
	close(p[1]);
	pf[0].events = POLLIN;
	poll(pf, 1, 0);
	printf("hup: %#x\n", pf[0].revents);
	return 0;
}
`

// TestPollEpollEventfd: readiness of pipes and eventfds through poll,
// select and epoll (level and edge triggered), timeouts, a wake-up from
// another process, POLLNVAL and POLLHUP, EPERM for regular files.
func TestPollEpollEventfd(t *testing.T) {
	t.Parallel()
	prog := compileC(t, "poll", pollC, "-dynamic")
	native, _ := diff(t, []string{prog})
	if native.Code != 0 || len(native.Stdout) < 100 {
		t.Errorf("native run looks wrong: %s", native)
	}
}
