package tests

import "testing"

const sigSharedC = `#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
static pid_t tid(void) { return syscall(SYS_gettid); }
static void block(int sig, int how) {
	sigset_t s;
	sigemptyset(&s);
	sigaddset(&s, sig);
	pthread_sigmask(how, &s, 0);
}
static volatile pid_t handled_in;
static void handler(int sig) { handled_in = tid(); }
static int wait_handled(void) {
	for (int i = 0; i < 300 && !handled_in; i++) usleep(10000);
	return handled_in != 0;
}

/* 1: every thread blocks SIGUSR1; a non-main thread waits for it. */
static void *sigwaiter(void *a) {
	sigset_t s;
	sigemptyset(&s);
	sigaddset(&s, SIGUSR1);
	struct timespec ts = {3, 0};
	siginfo_t si;
	int r = sigtimedwait(&s, &si, &ts);
	printf("sigtimedwait in a thread: %s, si_pid is ours %d\n", r == SIGUSR1 ? "SIGUSR1" : "nothing", si.si_pid == getpid());
	return 0;
}

/* 2: sent while every thread blocks it; a non-main thread unblocks it. */
static void *unblocker(void *a) {
	sigset_t p;
	sigpending(&p);
	printf("sigpending in another thread sees it: %d\n", sigismember(&p, SIGUSR2));
	pid_t me = tid();
	block(SIGUSR2, SIG_UNBLOCK);
	printf("handled after the unblock: %d, in the unblocking thread: %d\n", wait_handled(), handled_in == me);
	return 0;
}

/* 3: a signalfd read in a non-main thread gets the SIGCHLD of a child. */
static void *sfdreader(void *a) {
	int fd = *(int *)a;
	struct signalfd_siginfo si;
	int n = read(fd, &si, sizeof si);
	printf("signalfd in a thread: %d bytes, SIGCHLD %d, exit status %d\n", n, si.ssi_signo == SIGCHLD, si.ssi_status);
	return 0;
}

/* 4: pending for the process when the main thread leaves; another thread takes it. */
static void *survivor(void *a) {
	usleep(100000); /* main has left with pthread_exit */
	pid_t me = tid();
	block(SIGTERM, SIG_UNBLOCK);
	printf("handled after the main thread left: %d, in the survivor: %d\n", wait_handled(), handled_in == me);
	fflush(stdout);
	_exit(0);
}

static void status_line(const char *key) {
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	while (fgets(line, sizeof line, f))
		if (strncmp(line, key, strlen(key)) == 0) printf("%s", line);
	fclose(f);
}

int main(void) {
	setvbuf(stdout, 0, _IONBF, 0);
	pthread_t t;
	block(SIGUSR1, SIG_BLOCK);
	pthread_create(&t, 0, sigwaiter, 0);
	usleep(100000);
	kill(getpid(), SIGUSR1);
	pthread_join(t, 0);

	signal(SIGUSR2, handler);
	block(SIGUSR2, SIG_BLOCK);
	kill(getpid(), SIGUSR2);
	status_line("ShdPnd");
	pthread_create(&t, 0, unblocker, 0);
	pthread_join(t, 0);
	block(SIGUSR2, SIG_UNBLOCK);

	block(SIGCHLD, SIG_BLOCK);
	sigset_t s;
	sigemptyset(&s);
	sigaddset(&s, SIGCHLD);
	int fd = signalfd(-1, &s, 0);
	pthread_create(&t, 0, sfdreader, &fd);
	if (fork() == 0) _exit(7);
	pthread_join(t, 0);
	wait(0);

	handled_in = 0;
	signal(SIGTERM, handler);
	block(SIGTERM, SIG_BLOCK);
	pthread_create(&t, 0, survivor, 0);
	kill(getpid(), SIGTERM);
	pthread_exit(0);
}
`

// TestProcessSignalsAreShared: a signal sent to a process while every
// thread blocks it stays pending for the whole process (Linux's shared
// pending set): a non-main thread's sigtimedwait or signalfd gets it,
// sigpending in any thread and /proc's ShdPnd show it, the thread that
// unblocks it first runs the handler, and it outlives the exit of the main
// thread. glassbox used to queue it on the first thread, where only that
// thread could ever see it.
func TestProcessSignalsAreShared(t *testing.T) {
	t.Parallel()
	prog := compileC(t, "sigshared", sigSharedC, "-dynamic", "-pthread")
	native, _ := diff(t, []string{prog})
	expect(t, "native", native, "sigtimedwait in a thread: SIGUSR1, si_pid is ours 1\n"+
		"ShdPnd:\t0000000000000800\n"+
		"sigpending in another thread sees it: 1\n"+
		"handled after the unblock: 1, in the unblocking thread: 1\n"+
		"signalfd in a thread: 128 bytes, SIGCHLD 1, exit status 7\n"+
		"handled after the main thread left: 1, in the survivor: 1\n", 0)
}
