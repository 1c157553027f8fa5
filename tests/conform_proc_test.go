package tests

import (
	"os"
	"path/filepath"
	"testing"
)

// userCopy copies prog into a fresh directory uid 1000 may enter and
// returns the copy's path; the directory goes when the test ends.
func userCopy(t *testing.T, prog string) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "conform-user-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(prog)
	if err != nil {
		t.Fatal(err)
	}
	exe := filepath.Join(dir, filepath.Base(prog))
	writeFile(t, exe, string(b), 0o755)
	return exe
}

// asUser is the native argv prefix that runs a program as uid and gid
// 1000 without supplementary groups; glassbox gets userFlags.
var (
	asUser    = []string{"setpriv", "--reuid", "1000", "--regid", "1000", "--clear-groups"}
	userFlags = []string{"--uid", "1000", "--gid", "1000"}
)

// diffAsUser runs prog natively as uid 1000 (setpriv) and under glassbox
// --uid 1000 --gid 1000, and requires the same stdout and exit status.
func diffAsUser(t *testing.T, prog string, args ...string) {
	t.Helper()
	argv := append([]string{userCopy(t, prog)}, args...)
	native := runNative(t, append(append([]string{}, asUser...), argv...))
	gb := runGlassbox(t, userFlags, argv)
	if native.Stdout != gb.Stdout || native.Code != gb.Code {
		t.Errorf("%q as uid 1000: glassbox differs from native\n===== native: %s\n===== glassbox: %s", argv, native, gb)
	}
}

// conformProcC: prctl's read-back values (parent-death signal, subreaper,
// timer slack, THP), the parent-death signal and the subreaper at work,
// personality, setpgid after exec (EACCES), execve with an empty argv,
// tgkill's argument checks, SA_RESETHAND keeping the flags, futex keys
// in unmapped memory (EFAULT), and the scheduling, priority and I/O
// priority calls' checks. Linux: kernel/sys.c, kernel/sched/syscalls.c,
// block/ioprio.c, kernel/futex/core.c, fs/exec.c
const conformProcC = `#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/futex.h>
#include <linux/reboot.h>
#include <sys/mman.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#define R(what, expr) do { errno = 0; long _r = (long)(expr); \
	printf("%-36s = %ld %s\n", what, _r, _r < 0 ? strerror(errno) : ""); fflush(stdout); } while (0)

struct sched_attr { unsigned size, policy; unsigned long long flags; int nice; unsigned prio; unsigned long long rt[3]; unsigned umin, umax; };

static void onsig(int s, siginfo_t *si, void *u) { (void)u; printf("handler %d siginfo %d\n", s, si && si->si_signo == s); }

int main(int argc, char **argv) {
	if (getenv("CONFORM_ARGV")) {
		printf("argc %d argv0 \"%s\" argv1 null %d\n", argc, argv[0] ? argv[0] : "(null)", argc > 0 && argv[1] == NULL);
		return 0;
	}
	int root = geteuid() == 0;
	setpgid(0, 0);
	/* prctl values read back */
	int v = -1;
	R("PR_GET_PDEATHSIG", prctl(PR_GET_PDEATHSIG, &v)); printf("  pdeathsig %d\n", v);
	R("PR_SET_PDEATHSIG 65", prctl(PR_SET_PDEATHSIG, 65));
	R("PR_SET_PDEATHSIG USR1", prctl(PR_SET_PDEATHSIG, SIGUSR1));
	R("PR_GET_PDEATHSIG", prctl(PR_GET_PDEATHSIG, &v)); printf("  pdeathsig %d\n", v);
	R("PR_GET_PDEATHSIG bad ptr", prctl(PR_GET_PDEATHSIG, (int *)8));
	v = -1;
	R("PR_GET_CHILD_SUBREAPER", prctl(PR_GET_CHILD_SUBREAPER, &v)); printf("  subreaper %d\n", v);
	R("PR_SET_CHILD_SUBREAPER", prctl(PR_SET_CHILD_SUBREAPER, 1));
	R("PR_GET_CHILD_SUBREAPER", prctl(PR_GET_CHILD_SUBREAPER, &v)); printf("  subreaper %d\n", v);
	R("PR_GET_TIMERSLACK", prctl(PR_GET_TIMERSLACK));
	R("PR_SET_TIMERSLACK", prctl(PR_SET_TIMERSLACK, 100000));
	R("PR_GET_TIMERSLACK", prctl(PR_GET_TIMERSLACK));
	R("PR_SET_TIMERSLACK 0", prctl(PR_SET_TIMERSLACK, 0));
	R("PR_GET_TIMERSLACK", prctl(PR_GET_TIMERSLACK));
	R("PR_GET_THP_DISABLE", prctl(PR_GET_THP_DISABLE, 0, 0, 0, 0));
	R("PR_SET_THP_DISABLE", prctl(PR_SET_THP_DISABLE, 1, 0, 0, 0));
	R("PR_SET_THP_DISABLE extra", prctl(PR_SET_THP_DISABLE, 1, 1, 0, 0));
	R("PR_GET_THP_DISABLE", prctl(PR_GET_THP_DISABLE, 0, 0, 0, 0));
	/* the parent-death signal arrives; the fork child does not inherit it */
	pid_t mid = fork();
	if (mid == 0) {
		pid_t c = fork();
		if (c == 0) {
			int d = -1;
			prctl(PR_GET_PDEATHSIG, &d);
			printf("grandchild inherited pdeathsig %d\n", d);
			sigset_t s; sigemptyset(&s); sigaddset(&s, SIGUSR2);
			sigprocmask(SIG_BLOCK, &s, NULL);
			prctl(PR_SET_PDEATHSIG, SIGUSR2);
			if (getppid() == 1) _exit(3);
			kill(getppid(), SIGKILL);
			siginfo_t si;
			struct timespec ts = {5, 0};
			int sig = sigtimedwait(&s, &si, &ts);
			printf("grandchild got %d\n", sig);
			fflush(stdout);
			_exit(0);
		}
		pause();
		_exit(0);
	}
	waitpid(mid, NULL, 0);
	int st = -1;
	pid_t z = waitpid(-1, &st, 0); /* the orphan came to us, the subreaper */
	printf("reaped orphan %d status %d\n", z > 0, WEXITSTATUS(st));
	R("PR_SET_CHILD_SUBREAPER 0", prctl(PR_SET_CHILD_SUBREAPER, 0));
	/* personality */
	R("personality query", personality(0xffffffff));
	R("personality ADDR_NO_RANDOMIZE", personality(ADDR_NO_RANDOMIZE));
	R("personality READ_IMPLIES_EXEC", personality(READ_IMPLIES_EXEC));
	R("personality query", personality(0xffffffff));
	pid_t c = fork();
	if (c == 0) { printf("child personality %d\n", personality(0xffffffff)); fflush(stdout); _exit(0); }
	waitpid(c, NULL, 0);
	R("personality PER_LINUX", personality(PER_LINUX));
	/* setpgid: EACCES once the child has exec'd */
	int ex[2];
	pipe2(ex, O_CLOEXEC); /* EOF once the child has exec'd */
	c = fork();
	if (c == 0) { close(ex[0]); execl("/bin/sleep", "sleep", "1", (char *)NULL); _exit(1); }
	close(ex[1]);
	char exb;
	read(ex[0], &exb, 1);
	close(ex[0]);
	int hold[2];
	pipe(hold);
	pid_t c2 = fork();
	if (c2 == 0) { close(hold[1]); read(hold[0], &exb, 1); _exit(0); }
	close(hold[0]);
	R("setpgid exec'd child", setpgid(c, c));
	R("setpgid forked child", setpgid(c2, c2));
	R("setpgid no such child", setpgid(999999, 0));
	R("setpgid negative pgid", setpgid(0, -1));
	close(hold[1]);
	waitpid(c, NULL, 0); waitpid(c2, NULL, 0);
	/* execve with a NULL or empty argv: argc is 1, argv[0] "" */
	for (int k = 0; k < 2; k++) {
		c = fork();
		if (c == 0) {
			char *env[] = {"CONFORM_ARGV=1", NULL}, *empty[] = {NULL};
			syscall(SYS_execve, "/proc/self/exe", k ? empty : NULL, env);
			_exit(9);
		}
		waitpid(c, NULL, 0);
	}
	/* signals */
	R("tgkill tgid -1", syscall(SYS_tgkill, -1, getpid(), 0));
	R("tgkill tgid 0", syscall(SYS_tgkill, 0, getpid(), 0));
	R("tgkill tid 0", syscall(SYS_tgkill, getpid(), 0, 0));
	R("tgkill wrong tgid", syscall(SYS_tgkill, 999999, getpid(), 0));
	R("tgkill ok", syscall(SYS_tgkill, getpid(), getpid(), 0));
	R("tkill -1", syscall(SYS_tkill, -1, 0));
	struct sigaction sa = {0}, old;
	sa.sa_sigaction = onsig;
	sa.sa_flags = SA_SIGINFO | SA_RESETHAND;
	sigaction(SIGUSR1, &sa, NULL);
	raise(SIGUSR1);
	sigaction(SIGUSR1, NULL, &old);
	printf("after SA_RESETHAND: dfl %d siginfo %d resethand %d\n", old.sa_handler == SIG_DFL,
		!!(old.sa_flags & SA_SIGINFO), !!(old.sa_flags & SA_RESETHAND));
	/* futex keys */
	R("futex WAKE unmapped", syscall(SYS_futex, (int *)0x1000, FUTEX_WAKE, 1, 0, 0, 0));
	R("futex WAKE_PRIVATE unmapped", syscall(SYS_futex, (int *)0x1000, FUTEX_WAKE_PRIVATE, 1, 0, 0, 0));
	R("futex WAKE kernel address", syscall(SYS_futex, (int *)0xffff800000000000, FUTEX_WAKE_PRIVATE, 1, 0, 0, 0));
	int *none = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	R("futex WAKE PROT_NONE", syscall(SYS_futex, none, FUTEX_WAKE, 1, 0, 0, 0));
	R("futex REQUEUE unmapped", syscall(SYS_futex, &v, FUTEX_REQUEUE, 1, 1, (int *)0x1000, 0));
	R("futex WAKE ok", syscall(SYS_futex, &v, FUTEX_WAKE, 1, 0, 0, 0));
	/* scheduling and priorities */
	struct sched_param sp = {0};
	R("sched_setparam NULL", sched_setparam(0, NULL));
	R("sched_setparam pid -1", sched_setparam(-1, &sp));
	R("sched_setparam bad pid", sched_setparam(999999, &sp));
	R("sched_setparam bad ptr", syscall(SYS_sched_setparam, 0, 8));
	sp.sched_priority = 5;
	R("sched_setparam prio 5", sched_setparam(0, &sp));
	R("sched_setscheduler OTHER prio 5", sched_setscheduler(0, SCHED_OTHER, &sp));
	R("sched_setscheduler bad policy", sched_setscheduler(0, 99, &sp));
	R("sched_setscheduler NULL", syscall(SYS_sched_setscheduler, 0, SCHED_OTHER, 0));
	R("sched_setscheduler -1 policy", syscall(SYS_sched_setscheduler, 0, -1, &sp));
	sp.sched_priority = 0;
	R("sched_setscheduler BATCH", sched_setscheduler(0, SCHED_BATCH, &sp));
	R("sched_setscheduler OTHER", sched_setscheduler(0, SCHED_OTHER, &sp));
	struct sched_attr at;
	memset(&at, 0xff, sizeof at);
	R("sched_getattr size 48", syscall(SYS_sched_getattr, 0, &at, 48, 0));
	printf("  size %u policy %u nice %d\n", at.size, at.policy, at.nice);
	R("sched_getattr size 100", syscall(SYS_sched_getattr, 0, &at, 100, 0));
	printf("  size %u\n", at.size);
	R("sched_getattr size 10", syscall(SYS_sched_getattr, 0, &at, 10, 0));
	R("sched_getattr flags", syscall(SYS_sched_getattr, 0, &at, 48, 1));
	R("sched_getattr bad pid", syscall(SYS_sched_getattr, 999999, &at, 48, 0));
	R("sched_getattr NULL", syscall(SYS_sched_getattr, 0, 0, 48, 0));
	memset(&at, 0, sizeof at);
	at.size = sizeof at; at.policy = SCHED_OTHER; at.nice = 3;
	R("sched_setattr nice 3", syscall(SYS_sched_setattr, 0, &at, 0));
	R("getpriority after", getpriority(PRIO_PROCESS, 0));
	at.policy = 77;
	R("sched_setattr bad policy", syscall(SYS_sched_setattr, 0, &at, 0));
	at.policy = 0; at.size = 20;
	R("sched_setattr size 20", syscall(SYS_sched_setattr, 0, &at, 0));
	printf("  size written back %u\n", at.size);
	R("getpriority bad which", getpriority(7, 0));
	R("getpriority bad pid", getpriority(PRIO_PROCESS, 999999));
	R("getpriority own pgrp", getpriority(PRIO_PGRP, 0));
	R("setpriority bad pid", setpriority(PRIO_PROCESS, 999999, 0));
	R("setpriority 10", setpriority(PRIO_PROCESS, 0, 10));
	R("getpriority", getpriority(PRIO_PROCESS, 0));
	R("setpriority 5 (raise)", setpriority(PRIO_PROCESS, 0, 5));
	R("getpriority", getpriority(PRIO_PROCESS, getpid()));
	R("ioprio_get self", syscall(SYS_ioprio_get, 1, 0));
	R("ioprio_get bad which", syscall(SYS_ioprio_get, 9, 0));
	R("ioprio_get bad pid", syscall(SYS_ioprio_get, 1, 999999));
	R("ioprio_set BE 3", syscall(SYS_ioprio_set, 1, 0, (2 << 13) | 3));
	R("ioprio_get self", syscall(SYS_ioprio_get, 1, 0));
	R("ioprio_set BE 9", syscall(SYS_ioprio_set, 1, 0, (2 << 13) | 9));
	R("ioprio_set class 5", syscall(SYS_ioprio_set, 1, 0, 5 << 13));
	R("ioprio_set IDLE", syscall(SYS_ioprio_set, 1, 0, 3 << 13));
	R("ioprio_get self", syscall(SYS_ioprio_get, 1, 0));
	R("ioprio_set RT 0", syscall(SYS_ioprio_set, 1, 0, 1 << 13));
	R("ioprio_set NONE 0", syscall(SYS_ioprio_set, 1, 0, 0));
	/* reboot: only argument errors as root (a valid command would reboot the host) */
	R("reboot bad magic", syscall(SYS_reboot, 0, 0, 0, 0));
	R("reboot bad magic2", syscall(SYS_reboot, LINUX_REBOOT_MAGIC1, 5, LINUX_REBOOT_CMD_CAD_OFF, 0));
	R("reboot bad cmd", syscall(SYS_reboot, LINUX_REBOOT_MAGIC1, LINUX_REBOOT_MAGIC2, 0x1234, 0));
	if (!root)
		R("reboot CAD_OFF", syscall(SYS_reboot, LINUX_REBOOT_MAGIC1, LINUX_REBOOT_MAGIC2, LINUX_REBOOT_CMD_CAD_OFF, 0));
	return 0;
}
`

func TestConformProc(t *testing.T) {
	t.Parallel()
	prog := compileC(t, "conformproc", conformProcC)
	diff(t, []string{prog})
	diffAsUser(t, prog)
}
