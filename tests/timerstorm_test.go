package tests

import (
	"os/exec"
	"testing"
	"time"
)

// Periodic timers re-arm when their expiry is consumed (a timerfd read,
// a timer's signal taken), as in Linux, not from the expiry itself: the
// intervals that passed meanwhile are counted at once. So a guest's timer
// with a 1 ns interval costs glassbox nothing while nobody consumes it.
// (Re-arming from the expiry kept most of a host CPU busy per timer; the
// syscall fuzzer's hang reports showed POSIX timers firing under their
// lock.)

const timerStormSemanticsC = `#define _GNU_SOURCE
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/time.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>
static timer_t tmr;
static volatile int overrun = -1, getoverrun = -1, alarms;
// The first signal only: under load the timer may fire again before
// main looks.
static void onusr1(int s, siginfo_t *si, void *uc) {
	(void)s, (void)uc;
	if (overrun < 0) {
		overrun = si->si_overrun;
		getoverrun = timer_getoverrun(tmr);
	}
}
static void onalrm(int s) { (void)s; alarms++; }
static void nap(long ms) {
	struct timespec ts = {ms / 1000, ms % 1000 * 1000000};
	while (nanosleep(&ts, &ts) != 0)
		;
}
int main(void) {
	// A timerfd counts what passed while nobody read it.
	int fd = timerfd_create(CLOCK_MONOTONIC, 0);
	struct itimerspec ms1 = {{0, 1000000}, {0, 1000000}}, cur;
	timerfd_settime(fd, 0, &ms1, NULL);
	nap(100);
	uint64_t n = 0;
	read(fd, &n, 8);
	timerfd_gettime(fd, &cur);
	printf("timerfd: >= 90 expirations: %d, next within the interval: %d\n", n >= 90,
	       cur.it_value.tv_sec == 0 && cur.it_value.tv_nsec > 0 && cur.it_value.tv_nsec <= 1000000);

	// A POSIX timer whose signal waits (blocked) reports the
	// expirations missed meanwhile as its overrun.
	struct sigaction sa = {0};
	sa.sa_sigaction = onusr1;
	sa.sa_flags = SA_SIGINFO;
	sigaction(SIGUSR1, &sa, NULL);
	sigset_t usr1;
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	sigprocmask(SIG_BLOCK, &usr1, NULL);
	struct sigevent sev = {.sigev_notify = SIGEV_SIGNAL, .sigev_signo = SIGUSR1};
	timer_t t;
	timer_create(CLOCK_MONOTONIC, &sev, &tmr);
	timer_settime(tmr, 0, &ms1, NULL);
	nap(100);
	sigprocmask(SIG_UNBLOCK, &usr1, NULL);
	timer_delete(tmr);
	printf("signal timer: overrun >= 90: %d, timer_getoverrun agrees: %d\n", overrun >= 90, getoverrun == overrun);

	// SIGEV_NONE: the time to the next expiry, computed.
	sev.sigev_notify = SIGEV_NONE;
	timer_create(CLOCK_MONOTONIC, &sev, &t);
	timer_settime(t, 0, &ms1, NULL);
	nap(20);
	timer_gettime(t, &cur);
	printf("SIGEV_NONE: next within the interval: %d, overrun %d\n",
	       cur.it_value.tv_sec == 0 && cur.it_value.tv_nsec > 0 && cur.it_value.tv_nsec <= 1000000, timer_getoverrun(t));

	// ITIMER_REAL waits for its SIGALRM to be taken before it re-arms.
	signal(SIGALRM, onalrm);
	sigset_t alrm;
	sigemptyset(&alrm);
	sigaddset(&alrm, SIGALRM);
	sigprocmask(SIG_BLOCK, &alrm, NULL);
	struct itimerval iv = {{0, 200000}, {0, 1000}}, got;
	setitimer(ITIMER_REAL, &iv, NULL);
	nap(20);
	getitimer(ITIMER_REAL, &got);
	printf("itimer expired, SIGALRM pending: value %ld.%06ld interval %ld\n", (long)got.it_value.tv_sec,
	       (long)got.it_value.tv_usec, (long)got.it_interval.tv_usec);
	sigprocmask(SIG_UNBLOCK, &alrm, NULL);
	getitimer(ITIMER_REAL, &got);
	printf("itimer after the SIGALRM: %d alarm(s), re-armed within the interval: %d\n", alarms,
	       got.it_value.tv_sec == 0 && got.it_value.tv_usec > 0 && got.it_value.tv_usec <= 200000);
	iv.it_value.tv_usec = iv.it_interval.tv_usec = 0;
	setitimer(ITIMER_REAL, &iv, NULL);
	return 0;
}
`

func TestTimerTinyIntervalSemantics(t *testing.T) {
	t.Parallel()
	native, _ := diff(t, []string{compileC(t, "timer-tiny-sem", timerStormSemanticsC)})
	expect(t, "native", native, "timerfd: >= 90 expirations: 1, next within the interval: 1\n"+
		"signal timer: overrun >= 90: 1, timer_getoverrun agrees: 1\n"+
		"SIGEV_NONE: next within the interval: 1, overrun 0\n"+
		"itimer expired, SIGALRM pending: value 0.000000 interval 200000\n"+
		"itimer after the SIGALRM: 1 alarm(s), re-armed within the interval: 1\n", 0)
}

const timerStormIdleC = `#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>
int main(void) {
	struct itimerspec ns1 = {{0, 1}, {0, 1}};
	for (int i = 0; i < 4; i++)
		timerfd_settime(timerfd_create(CLOCK_MONOTONIC, 0), 0, &ns1, NULL);
	signal(SIGUSR2, SIG_IGN);
	sigset_t usr1;
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	sigprocmask(SIG_BLOCK, &usr1, NULL);
	int notify[] = {SIGEV_NONE, SIGEV_SIGNAL, SIGEV_SIGNAL};
	int signo[] = {0, SIGUSR1, SIGUSR2};
	for (int i = 0; i < 3; i++) {
		struct sigevent sev = {.sigev_notify = notify[i], .sigev_signo = signo[i]};
		timer_t t;
		timer_create(CLOCK_MONOTONIC, &sev, &t);
		timer_settime(t, 0, &ns1, NULL);
	}
	sleep(2);
	printf("slept\n");
	return 0;
}
`

// TestTimerTinyIntervalIdle: timers with a 1 ns interval that nobody
// consumes (timerfds not read, a blocked signal, an ignored one,
// SIGEV_NONE) while the guest sleeps 2 s: glassbox must stay idle too.
func TestTimerTinyIntervalIdle(t *testing.T) {
	t.Parallel()
	bin := compileC(t, "timer-tiny-idle", timerStormIdleC)
	if buildErr != nil {
		t.Fatalf("glassbox unavailable: %v", buildErr)
	}
	cmd := exec.Command(glassboxBin, "run", "--", bin)
	out, err := cmd.CombinedOutput()
	if err != nil || string(out) != "slept\n" {
		t.Fatalf("glassbox: %v\n%s", err, out)
	}
	cpu := cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	if cpu > time.Second {
		t.Errorf("glassbox used %v of CPU while the guest slept 2 s with idle timers", cpu)
	}
	t.Logf("glassbox CPU: %v", cpu)
}
