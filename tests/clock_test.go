package tests

import "testing"

// cpuClockC reads CPU clocks by id (a thread of the caller's process, any
// process; PROF, VIRT and SCHED; resolutions; the clock descriptor and
// invalid encodings), and checks that an unprivileged process cannot set
// or steer the clock but may read adjtimex's state.
const cpuClockC = `
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/timex.h>
#include <sys/time.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>
static void show(const char *what, long r) {
	if (r < 0) printf("%s: %s\n", what, strerrorname_np(errno));
	else printf("%s: %ld\n", what, r);
}
#define MK(pid, which, thread) ((~(clockid_t)(pid)) << 3 | (which) | ((thread) ? 4 : 0))
int main(void) {
	struct timespec ts, r;
	clockid_t c;
	pthread_getcpuclockid(pthread_self(), &c);
	printf("thread clock id == MK(tid,2,1): %d\n", c == MK(gettid(), 2, 1));
	clock_getcpuclockid(0, &c);
	printf("process clock id of pid 0 is MK(0,2,0): %d\n", c == MK(0, 2, 0));
	for (int which = 0; which < 8; which++) {
		char b[64];
		snprintf(b, sizeof b, "self thread which %d", which); show(b, syscall(SYS_clock_gettime, MK(0, which & 3, which & 4), &ts));
		snprintf(b, sizeof b, "getres which %d", which); long rr = syscall(SYS_clock_getres, MK(0, which & 3, which & 4), &r); show(b, rr); if (!rr) printf("  res %ld.%09ld\n", r.tv_sec, r.tv_nsec);
	}
	show("tid thread clock", syscall(SYS_clock_gettime, MK(gettid(), 2, 1), &ts));
	show("pid process clock", syscall(SYS_clock_gettime, MK(getpid(), 2, 0), &ts));
	int p[2];
	pipe(p);
	pid_t kid = fork();
	if (kid == 0) { char c; read(p[0], &c, 1); _exit(0); }
	show("child's process clock", syscall(SYS_clock_gettime, MK(kid, 2, 0), &ts));
	show("child's thread clock", syscall(SYS_clock_gettime, MK(kid, 2, 1), &ts));
	write(p[1], "x", 1);
	waitpid(kid, NULL, 0);
	struct timespec a1, a2, p1;
	syscall(SYS_clock_gettime, MK(0, 2, 1), &a1);
	for (volatile long i = 0; i < 20000000; i++) ;
	syscall(SYS_clock_gettime, MK(0, 2, 1), &a2);
	printf("thread clock advanced: %d\n", a2.tv_sec * 1000000000L + a2.tv_nsec > a1.tv_sec * 1000000000L + a1.tv_nsec);
	syscall(SYS_clock_gettime, CLOCK_PROCESS_CPUTIME_ID, &p1);
	printf("process clock >= thread clock: %d\n", p1.tv_sec * 1000000000L + p1.tv_nsec >= a2.tv_sec * 1000000000L + a2.tv_nsec);
	show("missing pid clock", syscall(SYS_clock_gettime, MK(99999, 2, 0), &ts));
	show("clockfd 3", syscall(SYS_clock_gettime, MK(3, 3, 0), &ts));
	show("clock 16", syscall(SYS_clock_gettime, 16, &ts));
	show("clock 100", syscall(SYS_clock_gettime, 100, &ts));
	show("clock_nanosleep thread cpu", syscall(SYS_clock_nanosleep, CLOCK_THREAD_CPUTIME_ID, 0, &(struct timespec){0, 1000}, NULL));
	show("clock_nanosleep MK thread", syscall(SYS_clock_nanosleep, MK(0,2,1), 0, &(struct timespec){0, 1000}, NULL));
	/* Setting, as an unprivileged user (glassbox never sets the host
	   clock, for root either). */
	fflush(stdout);
	if (fork() == 0) {
		setuid(65534);
		clock_gettime(CLOCK_REALTIME, &ts);
		show("settime realtime", syscall(SYS_clock_settime, CLOCK_REALTIME, &ts));
		show("settime monotonic", syscall(SYS_clock_settime, CLOCK_MONOTONIC, &ts));
		show("settime bad clock", syscall(SYS_clock_settime, 100, &ts));
		show("settime bad pointer", syscall(SYS_clock_settime, CLOCK_REALTIME, (void *)8));
		show("settime monotonic bad pointer", syscall(SYS_clock_settime, CLOCK_MONOTONIC, (void *)8));
		show("settime bad nsec", syscall(SYS_clock_settime, CLOCK_REALTIME, &(struct timespec){1, 2000000000}));
		show("settime cpu clock", syscall(SYS_clock_settime, CLOCK_PROCESS_CPUTIME_ID, &ts));
		show("settimeofday", syscall(SYS_settimeofday, &(struct timeval){ts.tv_sec, 0}, NULL));
		show("settimeofday null", syscall(SYS_settimeofday, NULL, NULL));
		show("settimeofday bad usec", syscall(SYS_settimeofday, &(struct timeval){1, 1000001}, NULL));
		show("settimeofday bad ptr", syscall(SYS_settimeofday, (void*)8, NULL));
		struct timex tx = {0};
		show("adjtimex read", syscall(SYS_adjtimex, &tx));
		struct timex host = {0};
		adjtimex(&host);
		printf("  status and tick are the host's: %d\n", tx.status == host.status && tx.tick == host.tick);
		tx.modes = ADJ_OFFSET_SS_READ;
		show("adjtimex ss read", syscall(SYS_adjtimex, &tx));
		tx.modes = ADJ_FREQUENCY;
		show("adjtimex set", syscall(SYS_adjtimex, &tx));
		tx.modes = ADJ_OFFSET_SINGLESHOT;
		show("adjtimex singleshot", syscall(SYS_adjtimex, &tx));
		tx.modes = 0x8000;
		show("adjtimex adjtime alone", syscall(SYS_adjtimex, &tx));
		show("adjtimex bad ptr", syscall(SYS_adjtimex, (void*)8));
		tx.modes = 0;
		show("clock_adjtime realtime", syscall(SYS_clock_adjtime, CLOCK_REALTIME, &tx));
		show("clock_adjtime monotonic", syscall(SYS_clock_adjtime, CLOCK_MONOTONIC, &tx));
		show("clock_adjtime bad", syscall(SYS_clock_adjtime, 100, &tx));
		show("clock_adjtime cpu", syscall(SYS_clock_adjtime, CLOCK_PROCESS_CPUTIME_ID, &tx));
		show("clock_adjtime tai", syscall(SYS_clock_adjtime, CLOCK_TAI, &tx));
		show("clock_adjtime boottime", syscall(SYS_clock_adjtime, CLOCK_BOOTTIME, &tx));
		show("clock_adjtime bad ptr", syscall(SYS_clock_adjtime, CLOCK_MONOTONIC, (void*)8));
		fflush(stdout); _exit(0);
	}
	wait(NULL);
	return 0;
}
`

func TestClocks(t *testing.T) {
	diff(t, []string{compileC(t, "clocks", cpuClockC, "-pthread")})
}
