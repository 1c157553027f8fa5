package tests

import (
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// Processes, signals and threads: dynamically linked programs (the host's
// ld.so and libc run inside glassbox) compared with native runs.

const forkC = `#include <stdio.h>
#include <unistd.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <string.h>
int g = 5;
int main(){
  char *big = malloc(1<<20); memset(big, 1, 1<<20);
  pid_t p = fork();
  if (p == 0) { g = 7; big[0] = 9; printf("child g=%d big=%d ppid_ok=%d\n", g, big[0], getppid()>0); fflush(stdout); _exit(42); }
  int st; pid_t w = waitpid(p, &st, 0);
  printf("parent g=%d big=%d waited=%d exited=%d code=%d\n", g, big[0], w==p, WIFEXITED(st), WEXITSTATUS(st));
  p = fork();
  if (p == 0) { *(volatile int*)0 = 1; }
  wait(&st); printf("signaled=%d sig=%d\n", WIFSIGNALED(st), WTERMSIG(st));
  if (vfork() == 0) { execl("/bin/echo", "echo", "from exec", NULL); _exit(1); }
  wait(&st); printf("exec child code=%d\n", WEXITSTATUS(st));
  printf("wait none: %d\n", wait(&st));
  return 0;
}
`

// TestForkWaitExec: fork gives the child a private copy (writes don't
// cross), waitpid reports exit codes and signals, vfork+exec runs a host
// binary, and wait with no children is ECHILD.
func TestForkWaitExec(t *testing.T) {
	t.Parallel()
	prog := compileC(t, "fork", forkC, "-dynamic")
	native, _ := diff(t, []string{prog})
	expect(t, "native", native, "child g=7 big=9 ppid_ok=1\nfrom exec\nparent g=5 big=1 waited=1 exited=1 code=42\n"+
		"signaled=1 sig=11\nexec child code=0\nwait none: -1\n", 0)
}

const signalsC = `#include <stdio.h>
#include <signal.h>
#include <unistd.h>
#include <string.h>
#include <sys/wait.h>
#include <math.h>
volatile int got, chld; volatile double hsum;
void h(int s, siginfo_t *si, void *uc) { got = s; double x = 1.5; for (int i=0;i<1000;i++) x = x*1.0001 + 0.5; hsum = x; }
void hc(int s, siginfo_t *si, void *uc) { chld = si->si_pid > 0 && si->si_code == CLD_EXITED && si->si_status == 5; }
int main() {
  struct sigaction sa; memset(&sa, 0, sizeof sa); sa.sa_sigaction = h; sa.sa_flags = SA_SIGINFO;
  sigaction(SIGUSR1, &sa, 0);
  double acc = 0; for (int i = 0; i < 2000000; i++) { acc += i * 0.5; if (i == 1000000) kill(getpid(), SIGUSR1); }
  printf("got=%d acc=%.1f hsum>0=%d\n", got, acc, hsum > 0);
  sa.sa_sigaction = hc; sigaction(SIGCHLD, &sa, 0);
  if (fork() == 0) _exit(5);
  int st; while (wait(&st) < 0) ;
  printf("chld=%d\n", chld);
  sigset_t m, o; sigemptyset(&m); sigaddset(&m, SIGUSR1); sigprocmask(SIG_BLOCK, &m, &o);
  kill(getpid(), SIGUSR1); got = 0; printf("blocked got=%d\n", got);
  sigsuspend(&o); printf("after suspend got=%d\n", got);
  sigprocmask(SIG_SETMASK, 0, &o); printf("usr1 still blocked=%d\n", sigismember(&o, SIGUSR1));
  signal(SIGALRM, (void(*)(int))h); alarm(1); pause(); printf("alarm got=%d\n", got);
  return 0;
}
`

// TestSignalHandlers: an SA_SIGINFO handler doing floating-point work in the
// middle of the main program's floating-point loop leaves its result
// bit-identical; SIGCHLD carries the child's pid and status; a blocked
// signal waits for sigsuspend, which restores the mask; alarm interrupts
// pause.
func TestSignalHandlers(t *testing.T) {
	t.Parallel()
	prog := compileC(t, "signals", signalsC, "-dynamic", "-lm")
	native, _ := diff(t, []string{prog})
	expect(t, "native", native, "got=10 acc=999999500000.0 hsum>0=1\nchld=1\nblocked got=0\n"+
		"after suspend got=10\nusr1 still blocked=1\nalarm got=14\n", 0)
}

const threadsC = `#include <stdio.h>
#include <pthread.h>
#include <stdatomic.h>
#include <unistd.h>
#include <sys/syscall.h>
atomic_long total; pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER; long locked;
void *work(void *arg) { long id = (long)arg; for (int i = 0; i < 100000; i++) { atomic_fetch_add(&total, 1); pthread_mutex_lock(&mu); locked++; pthread_mutex_unlock(&mu);} return (void*)(id*2); }
int main() {
  pthread_t th[4]; long sum = 0;
  for (long i = 0; i < 4; i++) pthread_create(&th[i], 0, work, (void*)i);
  for (int i = 0; i < 4; i++) { void *r; pthread_join(th[i], &r); sum += (long)r; }
  printf("total=%ld locked=%ld sum=%ld pid_is_tid=%d\n", (long)total, locked, sum, getpid() == syscall(SYS_gettid));
  return 0;
}
`

// TestThreads: four pthreads contend on an atomic counter and a mutex
// (futex), and are joined (CLONE_CHILD_CLEARTID wakes the joiner).
func TestThreads(t *testing.T) {
	t.Parallel()
	prog := compileC(t, "threads", threadsC, "-dynamic", "-pthread")
	native, _ := diff(t, []string{prog})
	expect(t, "native", native, "total=400000 locked=400000 sum=12 pid_is_tid=1\n", 0)
}

const cow50C = `
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/wait.h>
#define SIZE (64UL << 20)
#define KIDS 50
#define PAGES 16
int main(void) {
	unsigned char *m = mmap(0, SIZE, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0);
	for (size_t i = 0; i < SIZE; i++) m[i] = (unsigned char)(i * 7);
	int go[2]; if (pipe(go)) return 2;
	for (int k = 0; k < KIDS; k++) {
		if (fork() == 0) {
			char c; close(go[1]);
			size_t base = (size_t)k * PAGES * 4096 * 3;
			for (int p = 0; p < PAGES; p++) memset(m + base + p * 4096, 100 + k, 4096);
			read(go[0], &c, 1); /* wait until every child has written */
			for (int p = 0; p < PAGES; p++)
				for (int i = 0; i < 4096; i++)
					if (m[base + p * 4096 + i] != 100 + k) _exit(10);
			for (size_t i = 0; i < SIZE; i += 4096) {
				size_t off = i - base;
				if (i >= base && off < PAGES * 4096UL) continue;
				if (m[i] != (unsigned char)(i * 7)) _exit(11);
			}
			_exit(0);
		}
	}
	close(go[0]); close(go[1]);
	int bad = 0, st;
	for (int k = 0; k < KIDS; k++) { wait(&st); if (!WIFEXITED(st) || WEXITSTATUS(st)) bad++; }
	for (size_t i = 0; i < SIZE; i++) if (m[i] != (unsigned char)(i * 7)) { bad += 1000; break; }
	printf("children=%d bad=%d\n", KIDS, bad);
	return bad != 0;
}
`

// TestForkCOW50: 50 children of a parent with 64 MiB touched memory each
// write their own pages; everyone sees only their own data, and glassbox'
// memory file grows by about the pages written, not 50 x 64 MiB.
func TestForkCOW50(t *testing.T) {
	t.Parallel()
	prog := compileC(t, "cow50", cow50C, "-dynamic")
	native := runNative(t, []string{prog})
	expect(t, "native", native, "children=50 bad=0\n", 0)
	gb := runGlassbox(t, []string{"--stats"}, []string{prog})
	expect(t, "glassbox", gb, "children=50 bad=0\n", 0)
	m := regexp.MustCompile(`cow_copies=(\d+) processes=(\d+) threads=\d+ mem_peak_kib=(\d+)`).FindStringSubmatch(gb.Stderr)
	if m == nil {
		t.Fatalf("no stats line in stderr: %s", gb.Stderr)
	}
	cow, _ := strconv.Atoi(m[1])
	procs, _ := strconv.Atoi(m[2])
	peak, _ := strconv.Atoi(m[3])
	if procs != 51 {
		t.Errorf("processes = %d, want 51", procs)
	}
	// Each child copies at least its 16 pages.
	if cow < 50*16 {
		t.Errorf("cow_copies = %d, want >= %d", cow, 50*16)
	}
	// 64 MiB shared + 50 x 16 pages copied + stacks, libc data and page
	// tables: far below 50 x 64 MiB. Allow 64 MiB of slack.
	if peak > 128<<10 {
		t.Errorf("mem_peak_kib = %d, want < %d (copy-on-write is not sharing)", peak, 128<<10)
	}
}

// TestLdd: the host's ldd (a shell script running ld.so --list) inside
// glassbox lists the same libraries as natively, modulo addresses. The
// vDSO line needs the kernel to read strings out of the vDSO.
func TestLdd(t *testing.T) {
	t.Parallel()
	argv := []string{"/usr/bin/ldd", "/usr/bin/ls"}
	addr := regexp.MustCompile(`\(0x[0-9a-f]+\)`)
	native := runNative(t, argv)
	gb := runGlassbox(t, nil, argv)
	n, g := addr.ReplaceAllString(native.Stdout, "(ADDR)"), addr.ReplaceAllString(gb.Stdout, "(ADDR)")
	if n != g || native.Code != gb.Code || !strings.Contains(n, "linux-vdso.so.1") {
		t.Errorf("ldd differs\n===== native: %s\n===== glassbox: %s", native, gb)
	}
}
