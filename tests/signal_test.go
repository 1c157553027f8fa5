package tests

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

const jobC = `#include <stdio.h>
#include <signal.h>
#include <unistd.h>
#include <string.h>
#include <sys/wait.h>
static int order[16], n;
static void rt(int s, siginfo_t *si, void *u) { order[n++] = si->si_value.sival_int; }
int main(void) {
	int go[2]; char c;
	pipe(go);
	pid_t p = fork();
	/* the child exits only after the parent saw it continue: were it
	 * already a zombie, waitpid(WCONTINUED) would report the exit */
	if (p == 0) { raise(SIGSTOP); printf("child resumed\n"); fflush(stdout); read(go[0], &c, 1); _exit(3); }
	int st;
	waitpid(p, &st, WUNTRACED);
	printf("stopped=%d sig=%d\n", WIFSTOPPED(st), WSTOPSIG(st));
	kill(p, SIGCONT);
	waitpid(p, &st, WCONTINUED);
	printf("continued=%d\n", WIFCONTINUED(st));
	write(go[1], "x", 1);
	waitpid(p, &st, 0);
	printf("exited=%d code=%d\n", WIFEXITED(st), WEXITSTATUS(st));
	/* waitid with WSTOPPED */
	p = fork();
	if (p == 0) { for (;;) pause(); }
	kill(p, SIGTSTP);
	siginfo_t si; memset(&si, 0, sizeof si);
	waitid(P_PID, p, &si, WSTOPPED);
	printf("waitid code=%s status=%d\n", si.si_code == CLD_STOPPED ? "CLD_STOPPED" : "?", si.si_status);
	kill(p, SIGKILL);
	waitpid(p, &st, 0);
	printf("killed=%d sig=%d\n", WIFSIGNALED(st), WTERMSIG(st));
	/* real-time signals queue in order with their values */
	struct sigaction sa; memset(&sa, 0, sizeof sa); sa.sa_sigaction = rt; sa.sa_flags = SA_SIGINFO;
	sigaction(SIGRTMIN + 1, &sa, 0);
	sigset_t m; sigemptyset(&m); sigaddset(&m, SIGRTMIN + 1); sigprocmask(SIG_BLOCK, &m, 0);
	for (int i = 1; i <= 5; i++) { union sigval v = {.sival_int = i * 10}; sigqueue(getpid(), SIGRTMIN + 1, v); }
	sigprocmask(SIG_UNBLOCK, &m, 0);
	printf("rt order:"); for (int i = 0; i < n; i++) printf(" %d", order[i]); printf("\n");
	return 0;
}
`

// TestJobControl: a child that stops itself is seen by waitpid(WUNTRACED),
// SIGCONT is seen with WCONTINUED, waitid(WSTOPPED) gives CLD_STOPPED and
// the stop signal, SIGKILL ends a stopped process, and real-time signals
// queue in order with their values.
func TestJobControl(t *testing.T) {
	t.Parallel()
	prog := compileC(t, "jobctl", jobC, "-dynamic")
	native, _ := diff(t, []string{prog})
	expect(t, "native", native, "child resumed\nstopped=1 sig=19\ncontinued=1\nexited=1 code=3\n"+
		"waitid code=CLD_STOPPED status=20\nkilled=1 sig=9\nrt order: 10 20 30 40 50\n", 0)
}

const faultsC = `#include <stdio.h>
#include <signal.h>
#include <setjmp.h>
#include <unistd.h>
#include <string.h>
#include <stdlib.h>
#include <errno.h>
#include <stdint.h>
static sigjmp_buf jb;
static volatile int depth; static volatile uintptr_t altlo, althi; static volatile int on_alt;
static void segv(int s, siginfo_t *si, void *u) {
	int x; on_alt = (uintptr_t)&x >= altlo && (uintptr_t)&x < althi;
	printf("SIGSEGV code=%d addr_is_%s on_alt=%d\n", si->si_code, si->si_addr == (void *)0x10 ? "0x10" : "other", on_alt);
	siglongjmp(jb, 1);
}
static void fpe(int s, siginfo_t *si, void *u) { printf("SIGFPE code=%d\n", si->si_code); siglongjmp(jb, 2); }
static void ill(int s, siginfo_t *si, void *u) { printf("SIGILL code=%d\n", si->si_code); siglongjmp(jb, 3); }
static void usr(int s, siginfo_t *si, void *u) { printf("SIGUSR1 from pid_ok=%d uid_ok=%d code=%d\n", si->si_pid == getpid(), si->si_uid == getuid(), si->si_code); }
static void nop(int s) {}
static int recurse(int n) { volatile char buf[1024]; buf[0] = n; return recurse(n + 1) + buf[0]; }
int main(void) {
	struct sigaction sa; memset(&sa, 0, sizeof sa); sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
	stack_t ss; ss.ss_sp = malloc(1 << 16); ss.ss_size = 1 << 16; ss.ss_flags = 0; sigaltstack(&ss, 0);
	altlo = (uintptr_t)ss.ss_sp; althi = altlo + ss.ss_size;
	sa.sa_sigaction = segv; sigaction(SIGSEGV, &sa, 0);
	sa.sa_sigaction = fpe; sigaction(SIGFPE, &sa, 0);
	sa.sa_sigaction = ill; sigaction(SIGILL, &sa, 0);
	sa.sa_sigaction = usr; sigaction(SIGUSR1, &sa, 0);
	if (!sigsetjmp(jb, 1)) *(volatile int *)0x10 = 1;
	if (!sigsetjmp(jb, 1)) { volatile int z = 0; volatile int r = 5 / z; (void)r; }
	if (!sigsetjmp(jb, 1)) __asm__ volatile("ud2");
	if (!sigsetjmp(jb, 1)) recurse(0);
	kill(getpid(), SIGUSR1);
	/* SA_RESTART vs EINTR on a pipe read */
	int p[2]; pipe(p);
	struct sigaction s2; memset(&s2, 0, sizeof s2); s2.sa_handler = nop; sigaction(SIGALRM, &s2, 0);
	char c; ualarm(20000, 0);
	ssize_t r = read(p[0], &c, 1);
	printf("no SA_RESTART: r=%zd errno=%s\n", r, errno == EINTR ? "EINTR" : "?");
	s2.sa_flags = SA_RESTART; sigaction(SIGALRM, &s2, 0);
	if (fork() == 0) { usleep(100000); write(p[1], "z", 1); _exit(0); }
	ualarm(20000, 0);
	r = read(p[0], &c, 1);
	printf("SA_RESTART: r=%zd c=%c\n", r, c);
	sigset_t set; sigemptyset(&set); sigaddset(&set, SIGUSR2);
	struct timespec ts = {0, 30000000};
	int sg = sigtimedwait(&set, 0, &ts);
	printf("sigtimedwait timeout: %d %s\n", sg, errno == EAGAIN ? "EAGAIN" : "?");
	sigprocmask(SIG_BLOCK, &set, 0); kill(getpid(), SIGUSR2);
	sigpending(&set); printf("pending usr2=%d\n", sigismember(&set, SIGUSR2));
	sigemptyset(&set); sigaddset(&set, SIGUSR2);
	printf("sigtimedwait got=%d\n", sigtimedwait(&set, 0, &ts));
	return 0;
}
`

// TestFaultSignals: SIGSEGV (with si_addr), SIGFPE, SIGILL handlers that
// siglongjmp out; a stack overflow caught on the alternate stack; kill's
// siginfo; SA_RESTART vs EINTR on a pipe read; sigtimedwait timeout and
// pending delivery.
func TestFaultSignals(t *testing.T) {
	t.Parallel()
	prog := compileC(t, "faults", faultsC, "-dynamic", "-O0")
	native, _ := diff(t, []string{prog})
	expect(t, "native", native, "SIGSEGV code=1 addr_is_0x10 on_alt=1\nSIGFPE code=1\nSIGILL code=2\n"+
		"SIGSEGV code=1 addr_is_other on_alt=1\nSIGUSR1 from pid_ok=1 uid_ok=1 code=0\n"+
		"no SA_RESTART: r=-1 errno=EINTR\nSA_RESTART: r=1 c=z\nsigtimedwait timeout: -1 EAGAIN\n"+
		"pending usr2=1\nsigtimedwait got=12\n", 0)
}

const timersC = `#include <stdio.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>
#include <string.h>
#include <stdint.h>
#include <poll.h>
#include <sys/timerfd.h>
#include <sys/signalfd.h>
static volatile int ticks; static volatile int lastval;
static void h(int s, siginfo_t *si, void *u) { ticks++; lastval = si->si_value.sival_int; }
int main(void) {
	struct sigaction sa; memset(&sa, 0, sizeof sa); sa.sa_sigaction = h; sa.sa_flags = SA_SIGINFO | SA_RESTART;
	sigaction(SIGRTMIN, &sa, 0);
	struct sigevent ev; memset(&ev, 0, sizeof ev); ev.sigev_notify = SIGEV_SIGNAL; ev.sigev_signo = SIGRTMIN; ev.sigev_value.sival_int = 42;
	timer_t tid; printf("create=%d\n", timer_create(CLOCK_MONOTONIC, &ev, &tid));
	struct itimerspec its = {{0, 10000000}, {0, 10000000}};
	timer_settime(tid, 0, &its, 0);
	while (ticks < 20) pause();
	timer_delete(tid);
	printf("ticks>=20=%d value=%d\n", ticks >= 20, lastval);
	int tfd = timerfd_create(CLOCK_MONOTONIC, 0);
	struct itimerspec t2 = {{0, 5000000}, {0, 5000000}};
	timerfd_settime(tfd, 0, &t2, 0);
	uint64_t n, total = 0;
	while (total < 10) { read(tfd, &n, 8); total += n; }
	printf("timerfd total>=10=%d\n", total >= 10);
	struct itimerspec cur; timerfd_gettime(tfd, &cur);
	printf("interval=%ld\n", cur.it_interval.tv_nsec);
	sigset_t m; sigemptyset(&m); sigaddset(&m, SIGUSR1); sigprocmask(SIG_BLOCK, &m, 0);
	int sfd = signalfd(-1, &m, SFD_NONBLOCK);
	struct signalfd_siginfo si;
	printf("signalfd empty=%zd\n", read(sfd, &si, sizeof si));
	kill(getpid(), SIGUSR1);
	struct pollfd pf = {sfd, POLLIN, 0};
	printf("poll=%d\n", poll(&pf, 1, 1000));
	ssize_t r = read(sfd, &si, sizeof si);
	printf("signalfd read=%zd signo=%u pid_ok=%d\n", r, si.ssi_signo, si.ssi_pid == (uint32_t)getpid());
	return 0;
}
`

// TestTimers: a periodic POSIX timer (10 ms x 20) delivering a real-time
// signal with its value, a periodic timerfd, and a signalfd that is empty,
// becomes readable in poll, and reads the sender's pid.
func TestTimers(t *testing.T) {
	t.Parallel()
	prog := compileC(t, "timers", timersC, "-dynamic")
	native, _ := diff(t, []string{prog})
	expect(t, "native", native, "create=0\nticks>=20=1 value=42\ntimerfd total>=10=1\ninterval=5000000\n"+
		"signalfd empty=-1\npoll=1\nsignalfd read=128 signo=10 pid_ok=1\n", 0)
}

const stopSleepC = `#include <stdio.h>
#include <time.h>
#include <signal.h>
#include <unistd.h>
#include <sys/wait.h>
static double now(void){struct timespec t;clock_gettime(CLOCK_MONOTONIC,&t);return t.tv_sec+t.tv_nsec/1e9;}
int main(void) {
	signal(SIGCHLD, SIG_DFL);
	pid_t p = fork();
	if (p == 0) { double t0 = now(); struct timespec ts = {0, 300000000}; int r = nanosleep(&ts, 0); printf("child slept r=%d full=%d\n", r, now() - t0 >= 0.29); return 0; }
	usleep(50000); kill(p, SIGSTOP); usleep(50000); kill(p, SIGCONT); kill(p, SIGWINCH);
	int st; waitpid(p, &st, 0);
	printf("parent done\n");
	return 0;
}
`

// TestStopContSleep: a nanosleep stopped by SIGSTOP and continued (plus an
// ignored SIGWINCH) resumes through restart_syscall and sleeps its full
// time, returning 0.
func TestStopContSleep(t *testing.T) {
	t.Parallel()
	prog := compileC(t, "stopsleep", stopSleepC, "-dynamic")
	native, _ := diff(t, []string{prog})
	expect(t, "native", native, "child slept r=0 full=1\nparent done\n", 0)
}

const signals3C = `#include <stdio.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>
#include <errno.h>
#include <time.h>
#include <sys/wait.h>
#include <sys/time.h>
static volatile int reaped, vt, prof;
static void chld(int s) { int st; pid_t p; while ((p = waitpid(-1, &st, WNOHANG)) > 0) reaped += WEXITSTATUS(st); }
static void nop(int s) {}
static void cpu(int s) { if (s == SIGVTALRM) vt++; else prof++; }
static void clobber(int s) {
	/* Dirty every vector register the main loop relies on. */
	__asm__ volatile("vpcmpeqd %%ymm0, %%ymm0, %%ymm0\n\tvmovdqa %%ymm0, %%ymm1\n\tvmovdqa %%ymm0, %%ymm15" ::: "xmm0", "xmm1", "xmm15");
}
int main(void) {
	/* SIGCHLD handler that reaps with waitpid. */
	signal(SIGCHLD, chld);
	/* Wait with SIGCHLD blocked between the check and the sleep: a
	 * pause() loop hangs when the last SIGCHLD lands between the two
	 * (natively too, about once in a thousand runs). */
	sigset_t blk, old; sigemptyset(&blk); sigaddset(&blk, SIGCHLD);
	sigprocmask(SIG_BLOCK, &blk, &old);
	for (int i = 1; i <= 3; i++) if (fork() == 0) _exit(i);
	while (reaped < 6) sigsuspend(&old);
	sigprocmask(SIG_SETMASK, &old, 0);
	printf("reaped sum=%d\n", reaped);
	signal(SIGCHLD, SIG_DFL);
	/* alarm interrupting nanosleep: EINTR with time left. */
	struct sigaction sa; memset(&sa, 0, sizeof sa); sa.sa_handler = nop; sigaction(SIGALRM, &sa, 0);
	alarm(1);
	struct timespec ts = {5, 0}, rem = {0, 0};
	int r = nanosleep(&ts, &rem);
	printf("nanosleep r=%d errno=%s rem>=3s=%d\n", r, errno == EINTR ? "EINTR" : "?", rem.tv_sec >= 3);
	/* AVX registers survive a handler that clobbers them. */
	signal(SIGUSR1, clobber);
	double in[4] = {1.5, 2.5, 3.5, 4.5}, out[4];
	__asm__ volatile("vmovupd %0, %%ymm15" :: "m"(in[0]) : "xmm15");
	raise(SIGUSR1);
	__asm__ volatile("vmovupd %%ymm15, %0" : "=m"(out[0]) :: "memory");
	printf("ymm15 after handler: %.1f %.1f %.1f %.1f\n", out[0], out[1], out[2], out[3]);
	/* CPU-time timers. */
	signal(SIGVTALRM, cpu); signal(SIGPROF, cpu);
	struct itimerval v = {{0, 20000}, {0, 20000}};
	setitimer(ITIMER_VIRTUAL, &v, 0); setitimer(ITIMER_PROF, &v, 0);
	volatile unsigned long x = 0;
	while (vt < 3 || prof < 3) x++;
	printf("cpu timers fired\n");
	return 0;
}
`

// TestSignalsMore: a SIGCHLD handler that reaps with waitpid, alarm
// interrupting nanosleep (EINTR with the time left), AVX registers
// preserved across a handler that clobbers them (XSAVE in the frame), and
// ITIMER_VIRTUAL/ITIMER_PROF firing on CPU time.
func TestSignalsMore(t *testing.T) {
	t.Parallel()
	prog := compileC(t, "signals3", signals3C, "-dynamic", "-mavx")
	native, _ := diff(t, []string{prog})
	expect(t, "native", native, "reaped sum=6\nnanosleep r=-1 errno=EINTR rem>=3s=1\n"+
		"ymm15 after handler: 1.5 2.5 3.5 4.5\ncpu timers fired\n", 0)
}

// TestShellSignals: the shell cases of the signals issue.
func TestShellSignals(t *testing.T) {
	t.Parallel()
	for _, c := range []string{
		`kill -TERM $$; echo not reached`,
		`trap "echo got INT" INT; kill -INT $$; echo after`,
		`sleep 5 & kill $!; wait $!; echo status=$?`,
		// kill's permission rule: uid 1000 may not signal root's process.
		`sleep 2 & setpriv --reuid 1000 --regid 1000 --clear-groups kill -TERM $! 2>/dev/null; echo rc=$?; kill $!`,
	} {
		diff(t, []string{"/bin/bash", "-c", c})
	}
}

// TestSignalFromOutside: SIGTERM sent to glassbox reaches the guest (a
// shell trap runs), and glassbox exits with the guest's status.
func TestSignalFromOutside(t *testing.T) {
	t.Parallel()
	cmd := exec.Command(glassboxBin, "run", "--", "/bin/sh", "-c", `trap "echo got TERM; exit 7" TERM; echo ready; while :; do sleep 0.1; done`)
	out := &syncBuffer{}
	cmd.Stdout = out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(out.String(), "ready") && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	cmd.Process.Signal(syscall.SIGTERM)
	err := cmd.Wait()
	code := cmd.ProcessState.ExitCode()
	if out.String() != "ready\ngot TERM\n" || code != 7 {
		t.Errorf("stdout %q, exit %d (%v); want \"ready\\ngot TERM\\n\", 7", out.String(), code, err)
	}
}

// TestSignalInterruptsHostRead: a Python SIGALRM handler runs while the
// main thread blocks reading stdin from a pipe that stays open.
func TestSignalInterruptsHostRead(t *testing.T) {
	t.Parallel()
	cmd := exec.Command(glassboxBin, "run", "--", "python3", "-c",
		`import signal,os; signal.signal(signal.SIGALRM, lambda *a: print("alarm", flush=True)); signal.alarm(1); os.read(0,1); print("read returned")`)
	w, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out := &syncBuffer{}
	cmd.Stdout = out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(out.String(), "alarm") && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	w.Write([]byte("x"))
	w.Close()
	cmd.Wait()
	if out.String() != "alarm\nread returned\n" {
		t.Errorf("stdout %q, want alarm then read returned", out.String())
	}
}

// syncBuffer is a strings.Builder safe to read while a process writes it.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

const crashC = `
#include <stdio.h>
void inner(int *p) { *p = 42; }
void outer(void) { inner((int *)0x18); }
int main(void) { printf("about to crash\n"); fflush(stdout); outer(); return 0; }
`

// TestCoreDump: with RLIMIT_CORE raised, a SIGSEGV writes core.PID in
// the working directory (the shell sees status 139 and prints it), and the
// host's gdb, given the program and that core, shows the faulting frames.
// The core is written inside the sandbox (in its /tmp) and copied out
// through stdout.
func TestCoreDump(t *testing.T) {
	t.Parallel()
	gdb, err := exec.LookPath("gdb")
	if err != nil {
		t.Fatal("gdb not found: apt-get install gdb")
	}
	prog := compileC(t, "crash", crashC, "-dynamic", "-g", "-O0")
	gb := runGlassbox(t, nil, []string{"/bin/sh", "-c",
		"cd $(mktemp -d) && ulimit -c unlimited && " + prog + " >&2; echo status=$? >&2; cat core.*"})
	if !strings.Contains(gb.Stderr, "about to crash") || !strings.Contains(gb.Stderr, "status=139") || len(gb.Stdout) < 4096 {
		t.Fatalf("no core: %s", gb)
	}
	core := filepath.Join(t.TempDir(), "core")
	if err := os.WriteFile(core, []byte(gb.Stdout), 0o600); err != nil {
		t.Fatal(err)
	}
	out, _ := exec.Command(gdb, "-batch", "-ex", "bt", prog, core).CombinedOutput()
	for _, want := range []string{"SIGSEGV", "inner (p=0x18)", "in outer ()", "in main ()"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("gdb output lacks %q:\n%s", want, out)
		}
	}
}

const orphanPgrpC = `
#include <stdio.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>
static int out;
static void note(int s) {
	const char *m = s == SIGHUP ? "G: SIGHUP\n" : s == SIGCONT ? "G: SIGCONT\n" : "G: ?\n";
	write(out, m, strlen(m));
}
int main(int argc, char **argv) {
	int keep_stopped = argc > 1; /* "running": G is not stopped, so nothing is sent */
	int p[2];
	pipe(p);
	pid_t c = fork();
	if (c == 0) {
		setsid();
		pid_t g = fork();
		if (g == 0) {
			out = p[1];
			close(p[0]);
			setpgid(0, 0);
			struct sigaction sa = {0};
			sa.sa_handler = note;
			sigaction(SIGHUP, &sa, 0);
			sigaction(SIGCONT, &sa, 0);
			if (!keep_stopped) raise(SIGSTOP);
			else write(out, "G: running\n", 11);
			sleep(1);
			write(out, "G: done\n", 8);
			_exit(0);
		}
		int st;
		if (!keep_stopped) {
			waitpid(g, &st, WUNTRACED);
			printf("C: G %s\n", WIFSTOPPED(st) ? "stopped" : "not stopped");
		} else usleep(200000);
		fflush(stdout);
		_exit(0); /* G's group is orphaned now */
	}
	close(p[1]);
	waitpid(c, 0, 0);
	char buf[256];
	ssize_t n, tot = 0;
	while ((n = read(p[0], buf + tot, sizeof buf - 1 - tot)) > 0) tot += n;
	buf[tot] = 0;
	printf("%s", buf);
	return 0;
}
`

// TestOrphanedPgrpHangup: when the last process that could continue a
// stopped job (its parent, in another group of the same session) exits,
// the orphaned group gets SIGHUP and SIGCONT; a group without stopped
// members gets nothing.
func TestOrphanedPgrpHangup(t *testing.T) {
	t.Parallel()
	bin := compileC(t, "orphanpgrp", orphanPgrpC)
	native, _ := diff(t, []string{bin})
	if !strings.Contains(native.Stdout, "G: SIGHUP") {
		t.Errorf("native run looks wrong: %s", native)
	}
	native, _ = diff(t, []string{bin, "running"})
	if strings.Contains(native.Stdout, "SIGHUP") {
		t.Errorf("native run looks wrong: %s", native)
	}
}
