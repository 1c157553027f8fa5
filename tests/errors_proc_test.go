package tests

import "testing"

// The ERRORS sections of the process, signal and time calls' man pages,
// one line per case, compared with the host's answers as root and as uid
// 1000. Each program only provokes errors (and a few harmless successes):
// nothing it does may change the host when run natively as root.

// errorsHdr is the common head of the programs: R prints a call's result
// and strerror(errno) when it failed.
const errorsHdr = `#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/wait.h>

#define R(what, expr) do { errno = 0; long _r = (long)(expr); \
	printf("%-44s = %ld %s\n", what, _r, _r < 0 ? strerror(errno) : ""); fflush(stdout); } while (0)
/* BAD is a mapped address that is never readable or writable. */
static void *BAD;
static void initbad(void) { BAD = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0); }
`

// errorsSignalC: kill, tkill, tgkill, rt_sigaction, rt_sigprocmask,
// rt_sigpending, rt_sigsuspend, rt_sigtimedwait, rt_sigqueueinfo,
// rt_tgsigqueueinfo, sigaltstack, signalfd and signalfd4.
// Linux: kernel/signal.c, fs/signalfd.c
const errorsSignalC = errorsHdr + `
static volatile int altperm = 99;
static void onalt(int s) {
	(void)s;
	stack_t ss = {.ss_size = 65536};
	ss.ss_sp = malloc(65536);
	errno = 0;
	altperm = syscall(SYS_sigaltstack, &ss, NULL) < 0 ? errno : 0;
}
static void nop(int s) { (void)s; }

int main(void) {
	initbad();
	int root = geteuid() == 0;
	pid_t me = getpid();
	sigset_t set, old;
	sigemptyset(&set);
	/* kill: the target is looked up before the signal is checked */
	R("kill sig 65", kill(me, 65));
	R("kill sig -1", kill(me, -1));
	R("kill no such pid", kill(999999, 0));
	R("kill no such pid sig 65", kill(999999, 65));
	R("kill no such pgrp", kill(-999999, 0));
	R("kill INT_MIN", kill(INT_MIN, 0));
	R("kill own pgrp sig 0", kill(0, 0));
	R("kill self sig 0", kill(me, 0));
	/* tkill and tgkill */
	R("tkill tid 0", syscall(SYS_tkill, 0, 0));
	R("tkill no such tid", syscall(SYS_tkill, 999999, 0));
	R("tkill sig 65", syscall(SYS_tkill, gettid(), 65));
	R("tkill no such tid sig 65", syscall(SYS_tkill, 999999, 65));
	R("tgkill sig 65", syscall(SYS_tgkill, me, gettid(), 65));
	R("tgkill no such tid sig 65", syscall(SYS_tgkill, me, 999999, 65));
	R("tgkill tgid -5 tid -5", syscall(SYS_tgkill, -5, -5, 0));
	/* EPERM: a process of another user (only root can make one here) */
	if (root) {
		int p[2];
		pipe(p);
		pid_t c = fork();
		if (c == 0) {
			close(p[0]);
			setgid(1000); setuid(1000);
			char r[6];
			r[0] = kill(getppid(), 0) < 0 ? errno : 0;
			r[1] = syscall(SYS_tgkill, getppid(), getppid(), 0) < 0 ? errno : 0;
			r[2] = syscall(SYS_tkill, getppid(), 0) < 0 ? errno : 0;
			siginfo_t si = {.si_signo = SIGUSR1, .si_code = SI_QUEUE};
			r[3] = syscall(SYS_rt_sigqueueinfo, getppid(), SIGUSR1, &si) < 0 ? errno : 0;
			r[4] = syscall(SYS_rt_tgsigqueueinfo, getppid(), getppid(), SIGUSR1, &si) < 0 ? errno : 0;
			r[5] = kill(getppid(), 65) < 0 ? errno : 0;
			write(p[1], r, 6);
			_exit(0);
		}
		close(p[1]);
		char r[6] = {0};
		read(p[0], r, 6);
		waitpid(c, NULL, 0);
		printf("as uid 1000 to root: kill %s, tgkill %s, tkill %s\n", strerror(r[0]), strerror(r[1]), strerror(r[2]));
		printf("  rt_sigqueueinfo %s, rt_tgsigqueueinfo %s, kill sig 65 %s\n", strerror(r[3]), strerror(r[4]), strerror(r[5]));
	}
	/* rt_sigaction */
	struct sigaction sa = {0}, osa;
	sa.sa_handler = nop;
	R("rt_sigaction sig 0", syscall(SYS_rt_sigaction, 0, &sa, NULL, 8));
	R("rt_sigaction sig 65", syscall(SYS_rt_sigaction, 65, &sa, NULL, 8));
	R("rt_sigaction SIGKILL", syscall(SYS_rt_sigaction, SIGKILL, &sa, NULL, 8));
	R("rt_sigaction SIGSTOP", syscall(SYS_rt_sigaction, SIGSTOP, &sa, NULL, 8));
	R("rt_sigaction SIGKILL query", syscall(SYS_rt_sigaction, SIGKILL, NULL, &osa, 8));
	R("rt_sigaction sigsetsize 4", syscall(SYS_rt_sigaction, SIGUSR1, &sa, NULL, 4));
	R("rt_sigaction sigsetsize 16 bad act", syscall(SYS_rt_sigaction, SIGUSR1, BAD, NULL, 16));
	R("rt_sigaction bad act sig 0", syscall(SYS_rt_sigaction, 0, BAD, NULL, 8));
	R("rt_sigaction bad oldact sig 0", syscall(SYS_rt_sigaction, 0, NULL, BAD, 8));
	R("rt_sigaction bad oldact", syscall(SYS_rt_sigaction, SIGUSR1, NULL, BAD, 8));
	R("rt_sigaction query", syscall(SYS_rt_sigaction, SIGUSR1, NULL, &osa, 8));
	/* unknown flag bits are dropped (SA_UNSUPPORTED, the old SA_INTERRUPT, high bits) */
	struct { void *h; unsigned long flags; void *restorer; unsigned long mask; } ka = {nop, 0x400 | 0x20000000 | 0x20 | (1UL << 40) | SA_RESTART | 0x04000000, NULL, 0}, ko;
	ka.restorer = osa.sa_restorer;
	R("rt_sigaction unknown flags", syscall(SYS_rt_sigaction, SIGUSR2, &ka, NULL, 8));
	syscall(SYS_rt_sigaction, SIGUSR2, NULL, &ko, 8);
	printf("  flags read back %#lx\n", ko.flags);
	ka.flags = 0;
	ka.h = SIG_DFL;
	syscall(SYS_rt_sigaction, SIGUSR2, &ka, NULL, 8);
	/* rt_sigprocmask: how is checked only with a new set */
	R("rt_sigprocmask bad how", syscall(SYS_rt_sigprocmask, 99, &set, NULL, 8));
	R("rt_sigprocmask bad how no set", syscall(SYS_rt_sigprocmask, 99, NULL, &old, 8));
	R("rt_sigprocmask sigsetsize 4", syscall(SYS_rt_sigprocmask, SIG_BLOCK, &set, NULL, 4));
	R("rt_sigprocmask bad set", syscall(SYS_rt_sigprocmask, SIG_BLOCK, BAD, NULL, 8));
	R("rt_sigprocmask bad set bad how", syscall(SYS_rt_sigprocmask, 99, BAD, NULL, 8));
	R("rt_sigprocmask bad oldset", syscall(SYS_rt_sigprocmask, SIG_BLOCK, &set, BAD, 8));
	/* rt_sigpending: a smaller set is fine */
	R("rt_sigpending sigsetsize 16", syscall(SYS_rt_sigpending, &old, 16));
	R("rt_sigpending sigsetsize 4", syscall(SYS_rt_sigpending, &old, 4));
	R("rt_sigpending bad set", syscall(SYS_rt_sigpending, BAD, 8));
	/* rt_sigsuspend */
	R("rt_sigsuspend sigsetsize 4", syscall(SYS_rt_sigsuspend, &set, 4));
	R("rt_sigsuspend bad set", syscall(SYS_rt_sigsuspend, BAD, 8));
	/* rt_sigtimedwait */
	struct timespec ts0 = {0, 0}, tsbad = {0, 1000000000}, tsneg = {-1, 0};
	sigaddset(&set, SIGUSR2);
	R("rt_sigtimedwait sigsetsize 4", syscall(SYS_rt_sigtimedwait, &set, NULL, &ts0, 4));
	R("rt_sigtimedwait bad set", syscall(SYS_rt_sigtimedwait, BAD, NULL, &ts0, 8));
	R("rt_sigtimedwait bad timeout", syscall(SYS_rt_sigtimedwait, &set, NULL, BAD, 8));
	R("rt_sigtimedwait nsec 1e9", syscall(SYS_rt_sigtimedwait, &set, NULL, &tsbad, 8));
	R("rt_sigtimedwait sec -1", syscall(SYS_rt_sigtimedwait, &set, NULL, &tsneg, 8));
	R("rt_sigtimedwait zero timeout", syscall(SYS_rt_sigtimedwait, &set, NULL, &ts0, 8));
	sigprocmask(SIG_BLOCK, &set, NULL);
	raise(SIGUSR2);
	R("rt_sigtimedwait bad info", syscall(SYS_rt_sigtimedwait, &set, BAD, &ts0, 8));
	R("rt_sigtimedwait after EFAULT", syscall(SYS_rt_sigtimedwait, &set, NULL, &ts0, 8));
	/* rt_sigqueueinfo and rt_tgsigqueueinfo */
	siginfo_t si = {.si_signo = SIGUSR2, .si_code = SI_QUEUE};
	R("rt_sigqueueinfo bad info", syscall(SYS_rt_sigqueueinfo, me, SIGUSR2, BAD));
	R("rt_sigqueueinfo sig 65", syscall(SYS_rt_sigqueueinfo, me, 65, &si));
	R("rt_sigqueueinfo no such pid", syscall(SYS_rt_sigqueueinfo, 999999, SIGUSR2, &si));
	R("rt_sigqueueinfo no such pid sig 65", syscall(SYS_rt_sigqueueinfo, 999999, 65, &si));
	R("rt_sigqueueinfo self", syscall(SYS_rt_sigqueueinfo, me, SIGUSR2, &si));
	R("rt_sigtimedwait takes it", syscall(SYS_rt_sigtimedwait, &set, NULL, &ts0, 8));
	si.si_code = SI_USER;
	R("rt_sigqueueinfo SI_USER to self", syscall(SYS_rt_sigqueueinfo, me, SIGUSR2, &si));
	R("rt_sigtimedwait takes it", syscall(SYS_rt_sigtimedwait, &set, NULL, &ts0, 8));
	si.si_code = SI_TKILL;
	R("rt_sigqueueinfo SI_TKILL other", syscall(SYS_rt_sigqueueinfo, getppid(), SIGUSR2, &si));
	si.si_code = 0;
	R("rt_sigqueueinfo SI_USER other", syscall(SYS_rt_sigqueueinfo, getppid(), 0, &si));
	si.si_code = SI_QUEUE;
	R("rt_tgsigqueueinfo tgid 0", syscall(SYS_rt_tgsigqueueinfo, 0, me, SIGUSR2, &si));
	R("rt_tgsigqueueinfo tid 0", syscall(SYS_rt_tgsigqueueinfo, me, 0, SIGUSR2, &si));
	R("rt_tgsigqueueinfo bad info", syscall(SYS_rt_tgsigqueueinfo, me, gettid(), SIGUSR2, BAD));
	R("rt_tgsigqueueinfo wrong tgid", syscall(SYS_rt_tgsigqueueinfo, 999999, gettid(), SIGUSR2, &si));
	R("rt_tgsigqueueinfo sig 65", syscall(SYS_rt_tgsigqueueinfo, me, gettid(), 65, &si));
	si.si_code = SI_TKILL;
	R("rt_tgsigqueueinfo SI_TKILL other tid", syscall(SYS_rt_tgsigqueueinfo, me, 999999, SIGUSR2, &si));
	si.si_code = SI_QUEUE;
	R("rt_tgsigqueueinfo self", syscall(SYS_rt_tgsigqueueinfo, me, gettid(), SIGUSR2, &si));
	R("rt_sigtimedwait takes it", syscall(SYS_rt_sigtimedwait, &set, NULL, &ts0, 8));
	/* RLIMIT_SIGPENDING, counted per user: as a uid of its own (root only) */
	if (root) {
		pid_t c = fork();
		if (c == 0) {
			setgid(54321);
			setuid(54321);
			struct rlimit rl = {3, 3};
			setrlimit(RLIMIT_SIGPENDING, &rl);
			sigset_t rt;
			sigemptyset(&rt);
			for (int s = SIGRTMIN; s <= SIGRTMIN + 2; s++) sigaddset(&rt, s);
			sigaddset(&rt, SIGUSR1);
			sigprocmask(SIG_BLOCK, &rt, NULL);
			siginfo_t q = {.si_signo = SIGRTMIN, .si_code = SI_QUEUE};
			int n = 0;
			while (n < 10 && syscall(SYS_rt_sigqueueinfo, getpid(), SIGRTMIN, &q) == 0) n++;
			printf("sigpending limit 3: queued %d, then %s\n", n, strerror(errno));
			R("kill RT past the limit", kill(getpid(), SIGRTMIN + 1));
			R("kill RT past the limit again", kill(getpid(), SIGRTMIN + 1));
			R("tgkill RT past the limit", syscall(SYS_tgkill, getpid(), gettid(), SIGRTMIN + 2));
			q.si_signo = SIGUSR1;
			q.si_value.sival_int = 7;
			R("sigqueue standard past the limit", syscall(SYS_rt_sigqueueinfo, getpid(), SIGUSR1, &q));
			siginfo_t got;
			struct timespec z = {0, 0};
			R("take SIGUSR1", sigtimedwait(&rt, &got, &z));
			printf("  code %d value %d\n", got.si_code, got.si_value.sival_int);
			sigset_t one;
			sigemptyset(&one);
			sigaddset(&one, SIGRTMIN + 1);
			R("take RT+1 (no siginfo)", sigtimedwait(&one, &got, &z) == SIGRTMIN + 1);
			printf("  code %d pid %d\n", got.si_code, got.si_pid);
			R("take RT+1 again", sigtimedwait(&one, &got, &z));
			n = 0;
			while (sigtimedwait(&rt, &got, &z) > 0) n++;
			printf("took %d more\n", n);
			pid_t k = fork();
			if (k == 0) {
				sigprocmask(SIG_BLOCK, &rt, NULL);
				q.si_signo = SIGRTMIN;
				int m = 0;
				while (m < 10 && syscall(SYS_rt_sigqueueinfo, getpid(), SIGRTMIN, &q) == 0) m++;
				_exit(m); /* its queue goes with it */
			}
			int st;
			waitpid(k, &st, 0);
			q.si_signo = SIGRTMIN;
			n = 0;
			while (n < 10 && syscall(SYS_rt_sigqueueinfo, getpid(), SIGRTMIN, &q) == 0) n++;
			printf("a child queued %d and exited; then queued %d\n", WEXITSTATUS(st), n);
			fflush(stdout);
			_exit(0);
		}
		waitpid(c, NULL, 0);
	}
	/* sigaltstack */
	stack_t ss = {0}, oss;
	ss.ss_sp = malloc(65536);
	ss.ss_size = 65536;
	ss.ss_flags = 0x1234;
	R("sigaltstack bad flags", syscall(SYS_sigaltstack, &ss, NULL));
	ss.ss_flags = SS_ONSTACK;
	R("sigaltstack SS_ONSTACK", syscall(SYS_sigaltstack, &ss, NULL));
	ss.ss_flags = 0;
	ss.ss_size = 1024;
	R("sigaltstack small", syscall(SYS_sigaltstack, &ss, NULL));
	ss.ss_flags = SS_DISABLE;
	R("sigaltstack small SS_DISABLE", syscall(SYS_sigaltstack, &ss, NULL));
	R("sigaltstack bad ss", syscall(SYS_sigaltstack, BAD, NULL));
	R("sigaltstack bad oss", syscall(SYS_sigaltstack, NULL, BAD));
	ss.ss_flags = 1U << 31; /* SS_AUTODISARM */
	ss.ss_size = 65536;
	R("sigaltstack SS_AUTODISARM", syscall(SYS_sigaltstack, &ss, NULL));
	ss.ss_flags = 0;
	R("sigaltstack", syscall(SYS_sigaltstack, &ss, &oss));
	printf("  old flags %d\n", oss.ss_flags);
	sa.sa_handler = onalt;
	sa.sa_flags = SA_ONSTACK;
	sigaction(SIGUSR1, &sa, NULL);
	raise(SIGUSR1);
	printf("sigaltstack on the alternate stack: %s\n", strerror(altperm));
	R("sigaltstack query", syscall(SYS_sigaltstack, NULL, &oss));
	printf("  flags %d\n", oss.ss_flags);
	/* EINTR: a repeating timer's handler interrupts the waits */
	struct sigaction al = {.sa_handler = nop};
	sigaction(SIGALRM, &al, NULL);
	struct itimerval iv = {{0, 20000}, {0, 20000}}, off = {{0, 0}, {0, 0}};
	setitimer(ITIMER_REAL, &iv, NULL);
	R("pause", pause());
	sigset_t none;
	sigemptyset(&none);
	R("rt_sigsuspend", syscall(SYS_rt_sigsuspend, &none, 8));
	struct timespec five = {5, 0}, left = {0, 0};
	R("rt_sigtimedwait interrupted", syscall(SYS_rt_sigtimedwait, &set, NULL, &five, 8));
	R("nanosleep interrupted", syscall(SYS_nanosleep, &five, &left));
	printf("  time left written %d\n", left.tv_sec > 0);
	R("clock_nanosleep interrupted", syscall(SYS_clock_nanosleep, CLOCK_MONOTONIC, 0, &five, NULL));
	setitimer(ITIMER_REAL, &off, NULL);
	/* signalfd and signalfd4 */
	R("signalfd4 sizemask 4", syscall(SYS_signalfd4, -1, &set, 4, 0));
	R("signalfd4 bad mask", syscall(SYS_signalfd4, -1, BAD, 8, 0));
	R("signalfd4 bad flags", syscall(SYS_signalfd4, -1, &set, 8, 0x1234));
	R("signalfd4 bad fd", syscall(SYS_signalfd4, 999, &set, 8, 0));
	R("signalfd4 bad fd bad flags", syscall(SYS_signalfd4, 999, &set, 8, 0x1234));
	R("signalfd4 fd -2", syscall(SYS_signalfd4, -2, &set, 8, 0));
	R("signalfd4 not a signalfd", syscall(SYS_signalfd4, 1, &set, 8, 0));
	R("signalfd sizemask 4", syscall(SYS_signalfd, -1, &set, 4));
	R("signalfd bad mask", syscall(SYS_signalfd, -1, BAD, 8));
	R("signalfd bad fd", syscall(SYS_signalfd, 999, &set, 8));
	int sfd = syscall(SYS_signalfd4, -1, &set, 8, O_CLOEXEC);
	R("signalfd4 update", syscall(SYS_signalfd4, sfd, &set, 8, 0) == sfd);
	R("signalfd update", syscall(SYS_signalfd, sfd, &set, 8) == sfd);
	char small[8];
	R("read signalfd small buffer", read(sfd, small, sizeof small));
	fcntl(sfd, F_SETFL, O_NONBLOCK);
	char big[128];
	R("read signalfd empty nonblock", read(sfd, big, sizeof big));
	raise(SIGUSR2);
	R("read signalfd bad buffer", read(sfd, BAD, 128));
	return 0;
}
`

func TestErrorsSignal(t *testing.T) {
	t.Parallel()
	prog := compileC(t, "errorssignal", errorsSignalC)
	diff(t, []string{prog})
	diffAsUser(t, prog)
}

// errorsTimeC: nanosleep, clock_nanosleep, clock_gettime, clock_getres,
// gettimeofday, time, getitimer, setitimer, the POSIX timers (timer_*)
// and timerfd. Linux: kernel/time/hrtimer.c, kernel/time/posix-timers.c,
// kernel/time/itimer.c, kernel/time/time.c, fs/timerfd.c
const errorsTimeC = errorsHdr + `#include <sys/timerfd.h>

#define CPUCLOCK(pid) ((~(clockid_t)(pid) << 3) | 2) /* CPUCLOCK_SCHED of a process */

int main(void) {
	initbad();
	struct timespec z = {0, 0}, big = {0, 1000000000}, negn = {0, -1}, negs = {-1, 0};
	/* nanosleep */
	R("nanosleep bad req", syscall(SYS_nanosleep, BAD, NULL));
	R("nanosleep nsec 1e9", syscall(SYS_nanosleep, &big, NULL));
	R("nanosleep nsec -1", syscall(SYS_nanosleep, &negn, NULL));
	R("nanosleep sec -1", syscall(SYS_nanosleep, &negs, NULL));
	R("nanosleep zero bad rem", syscall(SYS_nanosleep, &z, BAD));
	/* clock_nanosleep: the clock, then the request */
	R("clock_nanosleep bad clock", syscall(SYS_clock_nanosleep, 99, 0, &z, NULL));
	R("clock_nanosleep bad clock bad req", syscall(SYS_clock_nanosleep, 99, 0, BAD, NULL));
	R("clock_nanosleep THREAD_CPUTIME", syscall(SYS_clock_nanosleep, CLOCK_THREAD_CPUTIME_ID, 0, &z, NULL));
	R("clock_nanosleep MONOTONIC_RAW bad req", syscall(SYS_clock_nanosleep, CLOCK_MONOTONIC_RAW, 0, BAD, NULL));
	R("clock_nanosleep REALTIME_COARSE", syscall(SYS_clock_nanosleep, CLOCK_REALTIME_COARSE, 0, &z, NULL));
	R("clock_nanosleep bad req", syscall(SYS_clock_nanosleep, CLOCK_MONOTONIC, 0, BAD, NULL));
	R("clock_nanosleep nsec 1e9", syscall(SYS_clock_nanosleep, CLOCK_MONOTONIC, 0, &big, NULL));
	R("clock_nanosleep sec -1", syscall(SYS_clock_nanosleep, CLOCK_REALTIME, 0, &negs, NULL));
	R("clock_nanosleep ABSTIME past", syscall(SYS_clock_nanosleep, CLOCK_MONOTONIC, TIMER_ABSTIME, &z, NULL));
	R("clock_nanosleep unknown flags", syscall(SYS_clock_nanosleep, CLOCK_MONOTONIC, 0x100, &z, NULL));
	R("clock_nanosleep PROCESS_CPUTIME", syscall(SYS_clock_nanosleep, CLOCK_PROCESS_CPUTIME_ID, 0, &z, NULL));
	R("clock_nanosleep CPU clock no such pid", syscall(SYS_clock_nanosleep, CPUCLOCK(999999), 0, &z, NULL));
	R("clock_nanosleep BOOTTIME", syscall(SYS_clock_nanosleep, CLOCK_BOOTTIME, 0, &z, NULL));
	R("clock_nanosleep TAI", syscall(SYS_clock_nanosleep, CLOCK_TAI, 0, &z, NULL));
	/* clock_gettime and clock_getres */
	struct timespec ts;
	R("clock_gettime bad clock", syscall(SYS_clock_gettime, 99, &ts));
	R("clock_gettime clock -1", syscall(SYS_clock_gettime, -1, &ts));
	R("clock_gettime bad clock bad ptr", syscall(SYS_clock_gettime, 99, BAD));
	R("clock_gettime bad ptr", syscall(SYS_clock_gettime, CLOCK_MONOTONIC, BAD));
	R("clock_gettime CPU bad ptr", syscall(SYS_clock_gettime, CLOCK_PROCESS_CPUTIME_ID, BAD));
	R("clock_gettime CPU clock no such pid", syscall(SYS_clock_gettime, CPUCLOCK(999999), &ts));
	R("clock_gettime CPU clock of self", syscall(SYS_clock_gettime, CPUCLOCK(getpid()), &ts));
	R("clock_gettime CPU clock of pid 0", syscall(SYS_clock_gettime, CPUCLOCK(0), &ts));
	R("clock_gettime fd clock bad fd", syscall(SYS_clock_gettime, (~(clockid_t)999 << 3) | 3, &ts));
	R("clock_gettime fd clock not a clock", syscall(SYS_clock_gettime, (~(clockid_t)1 << 3) | 3, &ts));
	R("clock_getres bad clock", syscall(SYS_clock_getres, 99, &ts));
	R("clock_getres NULL", syscall(SYS_clock_getres, CLOCK_MONOTONIC, NULL));
	R("clock_getres bad ptr", syscall(SYS_clock_getres, CLOCK_MONOTONIC, BAD));
	R("clock_getres bad clock NULL", syscall(SYS_clock_getres, 99, NULL));
	R("clock_getres CPU clock no such pid", syscall(SYS_clock_getres, CPUCLOCK(999999), &ts));
	/* the alarm clocks need a real-time clock device (this host's answer) */
	R("clock_gettime REALTIME_ALARM", syscall(SYS_clock_gettime, CLOCK_REALTIME_ALARM, &ts));
	R("clock_getres BOOTTIME_ALARM", syscall(SYS_clock_getres, CLOCK_BOOTTIME_ALARM, &ts));
	R("clock_nanosleep BOOTTIME_ALARM bad req", syscall(SYS_clock_nanosleep, CLOCK_BOOTTIME_ALARM, 0, BAD, NULL));
	R("clock_nanosleep REALTIME_ALARM", syscall(SYS_clock_nanosleep, CLOCK_REALTIME_ALARM, 0, &z, NULL));
	/* gettimeofday and time */
	struct timeval tv;
	R("gettimeofday NULL NULL", syscall(SYS_gettimeofday, NULL, NULL));
	R("gettimeofday bad tv", syscall(SYS_gettimeofday, BAD, NULL));
	R("gettimeofday bad tz", syscall(SYS_gettimeofday, &tv, BAD));
	R("time bad ptr", syscall(SYS_time, BAD));
	R("time NULL ok", syscall(SYS_time, NULL) > 0);
	/* getitimer and setitimer: the value is read and checked before which */
	struct itimerval it = {{0, 0}, {0, 0}}, itbad = {{0, 0}, {0, 1000000}}, itneg = {{0, 0}, {-1, 0}};
	R("getitimer bad which", syscall(SYS_getitimer, 5, &it));
	R("getitimer bad which bad ptr", syscall(SYS_getitimer, 5, BAD));
	R("getitimer bad ptr", syscall(SYS_getitimer, ITIMER_REAL, BAD));
	R("setitimer bad which", syscall(SYS_setitimer, 5, &it, NULL));
	R("setitimer bad which bad value", syscall(SYS_setitimer, 5, BAD, NULL));
	R("setitimer bad which usec 1e6", syscall(SYS_setitimer, 5, &itbad, NULL));
	R("setitimer usec 1e6", syscall(SYS_setitimer, ITIMER_REAL, &itbad, NULL));
	R("setitimer sec -1", syscall(SYS_setitimer, ITIMER_REAL, &itneg, NULL));
	R("setitimer bad value", syscall(SYS_setitimer, ITIMER_VIRTUAL, BAD, NULL));
	R("setitimer bad old value", syscall(SYS_setitimer, ITIMER_PROF, &it, BAD));
	R("setitimer NULL value", syscall(SYS_setitimer, ITIMER_REAL, NULL, &it));
	/* POSIX timers */
	timer_t tid;
	int ktid = -1;
	struct sigevent ev = {.sigev_notify = SIGEV_NONE};
	R("timer_create bad clock", syscall(SYS_timer_create, 99, &ev, &ktid));
	R("timer_create bad clock bad sigevent", syscall(SYS_timer_create, 99, BAD, &ktid));
	R("timer_create bad sigevent", syscall(SYS_timer_create, CLOCK_MONOTONIC, BAD, &ktid));
	R("timer_create bad timerid", syscall(SYS_timer_create, CLOCK_MONOTONIC, &ev, BAD));
	R("timer_create MONOTONIC_RAW", syscall(SYS_timer_create, CLOCK_MONOTONIC_RAW, &ev, &ktid));
	R("timer_create REALTIME_COARSE", syscall(SYS_timer_create, CLOCK_REALTIME_COARSE, &ev, &ktid));
	R("timer_create CPU clock no such pid", syscall(SYS_timer_create, CPUCLOCK(999999), &ev, &ktid));
	ev.sigev_notify = 99;
	R("timer_create bad notify", syscall(SYS_timer_create, CLOCK_MONOTONIC, &ev, &ktid));
	ev.sigev_notify = SIGEV_SIGNAL;
	ev.sigev_signo = 0;
	R("timer_create signal 0", syscall(SYS_timer_create, CLOCK_MONOTONIC, &ev, &ktid));
	ev.sigev_signo = 65;
	R("timer_create signal 65", syscall(SYS_timer_create, CLOCK_MONOTONIC, &ev, &ktid));
	ev.sigev_notify = SIGEV_THREAD_ID;
	ev.sigev_signo = SIGUSR1;
	ev._sigev_un._tid = 999999;
	R("timer_create THREAD_ID no such tid", syscall(SYS_timer_create, CLOCK_MONOTONIC, &ev, &ktid));
	ev._sigev_un._tid = 0;
	R("timer_create THREAD_ID tid 0", syscall(SYS_timer_create, CLOCK_MONOTONIC, &ev, &ktid));
	ev.sigev_notify = SIGEV_THREAD_ID | SIGEV_SIGNAL;
	ev._sigev_un._tid = gettid();
	R("timer_create THREAD_ID|SIGNAL", syscall(SYS_timer_create, CLOCK_MONOTONIC, &ev, &ktid));
	ev.sigev_notify = SIGEV_NONE;
	R("timer_create REALTIME_ALARM", syscall(SYS_timer_create, CLOCK_REALTIME_ALARM, &ev, &ktid));
	ev.sigev_notify = SIGEV_THREAD;
	ev.sigev_signo = 0;
	R("timer_create SIGEV_THREAD signal 0", syscall(SYS_timer_create, CLOCK_MONOTONIC, &ev, &ktid));
	ev.sigev_signo = SIGUSR2;
	R("timer_create SIGEV_THREAD", syscall(SYS_timer_create, CLOCK_MONOTONIC, &ev, &ktid));
	ev.sigev_notify = SIGEV_NONE;
	R("timer_create SIGEV_NONE", syscall(SYS_timer_create, CLOCK_MONOTONIC, &ev, &ktid));
	struct itimerspec its = {{0, 0}, {100, 0}}, itsbad = {{0, 0}, {0, 1000000000}}, ocur;
	R("timer_settime bad timer", syscall(SYS_timer_settime, 12345, 0, &its, NULL));
	R("timer_settime bad timer bad value", syscall(SYS_timer_settime, 12345, 0, BAD, NULL));
	R("timer_settime bad timer nsec 1e9", syscall(SYS_timer_settime, 12345, 0, &itsbad, NULL));
	R("timer_settime NULL value", syscall(SYS_timer_settime, ktid, 0, NULL, NULL));
	R("timer_settime bad value", syscall(SYS_timer_settime, ktid, 0, BAD, NULL));
	R("timer_settime nsec 1e9", syscall(SYS_timer_settime, ktid, 0, &itsbad, NULL));
	R("timer_settime bad old", syscall(SYS_timer_settime, ktid, 0, &its, BAD));
	R("timer_gettime after bad old", syscall(SYS_timer_gettime, ktid, &ocur));
	printf("  armed %d\n", ocur.it_value.tv_sec > 0);
	R("timer_settime unknown flags", syscall(SYS_timer_settime, ktid, 0x10, &its, NULL));
	R("timer_gettime bad timer", syscall(SYS_timer_gettime, 12345, &ocur));
	R("timer_gettime bad timer bad ptr", syscall(SYS_timer_gettime, 12345, BAD));
	R("timer_gettime bad ptr", syscall(SYS_timer_gettime, ktid, BAD));
	R("timer_getoverrun bad timer", syscall(SYS_timer_getoverrun, 12345));
	R("timer_getoverrun", syscall(SYS_timer_getoverrun, ktid));
	R("timer_getoverrun timer -1", syscall(SYS_timer_getoverrun, -1));
	R("timer_delete bad timer", syscall(SYS_timer_delete, 12345));
	R("timer_delete", syscall(SYS_timer_delete, ktid));
	R("timer_delete again", syscall(SYS_timer_delete, ktid));
	R("timer_gettime deleted", syscall(SYS_timer_gettime, ktid, &ocur));
	(void)tid;
	/* timerfd */
	R("timerfd_create bad clock", timerfd_create(99, 0));
	R("timerfd_create bad flags", timerfd_create(CLOCK_MONOTONIC, 0x1234));
	R("timerfd_create PROCESS_CPUTIME", timerfd_create(CLOCK_PROCESS_CPUTIME_ID, 0));
	R("timerfd_create MONOTONIC_RAW", timerfd_create(CLOCK_MONOTONIC_RAW, 0));
	if (geteuid() != 0)
		R("timerfd_create REALTIME_ALARM", timerfd_create(CLOCK_REALTIME_ALARM, 0));
	int tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK);
	struct itimerspec tcur;
	R("timerfd_settime bad flags", timerfd_settime(tfd, 0x1234, &its, NULL));
	R("timerfd_settime bad fd bad flags", timerfd_settime(999, 0x1234, &its, NULL));
	R("timerfd_settime bad fd nsec 1e9", timerfd_settime(999, 0, &itsbad, NULL));
	R("timerfd_settime bad fd", timerfd_settime(999, 0, &its, NULL));
	R("timerfd_settime bad fd bad value", syscall(SYS_timerfd_settime, 999, 0, BAD, NULL));
	R("timerfd_settime not a timerfd", timerfd_settime(1, 0, &its, NULL));
	R("timerfd_settime nsec 1e9", timerfd_settime(tfd, 0, &itsbad, NULL));
	R("timerfd_settime bad old", syscall(SYS_timerfd_settime, tfd, 0, &its, BAD));
	R("timerfd_settime CANCEL_ON_SET relative", timerfd_settime(tfd, TFD_TIMER_CANCEL_ON_SET, &its, NULL));
	R("timerfd_gettime bad fd", timerfd_gettime(999, &tcur));
	R("timerfd_gettime not a timerfd", timerfd_gettime(1, &tcur));
	R("timerfd_gettime bad ptr", syscall(SYS_timerfd_gettime, tfd, BAD));
	R("timerfd_gettime bad fd bad ptr", syscall(SYS_timerfd_gettime, 999, BAD));
	uint64_t n;
	R("read timerfd small buffer", read(tfd, &n, 4));
	R("read timerfd not expired", read(tfd, &n, 8));
	return 0;
}
`

func TestErrorsTime(t *testing.T) {
	t.Parallel()
	prog := compileC(t, "errorstime", errorsTimeC)
	diff(t, []string{prog})
	diffAsUser(t, prog)
}
