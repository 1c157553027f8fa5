package tests

import "testing"

// errorsForkC: clone, clone3, fork, execve, execveat, wait4, waitid and
// the process-group and session calls. A clone that should fail but
// succeeds exits at once in the child (C below), so a difference shows as
// a line, never as two copies of the program.
// Linux: kernel/fork.c, fs/exec.c, kernel/exit.c, kernel/sys.c
const errorsForkC = errorsHdr + `#include <linux/sched.h>
#include <sys/prctl.h>

static long C(long r) {
	if (r == 0)
		syscall(SYS_exit, 0); /* this thread only, should it be one */
	if (r > 0)
		waitpid(r, NULL, __WALL);
	return r;
}

struct ca { uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls, set_tid, set_tid_size, cgroup; };
static long clone3(struct ca *a, size_t size) { return C(syscall(SYS_clone3, a, size)); }

int main(int argc, char **argv) {
	initbad();
	int root = geteuid() == 0;
	char dir[] = "/tmp/errors-fork-XXXXXX", path[128];
	if (!mkdtemp(dir)) { perror("mkdtemp"); return 1; }
	chmod(dir, 0755);
	/* clone: flag combinations */
	R("clone SIGHAND without VM", C(syscall(SYS_clone, CLONE_SIGHAND | SIGCHLD, 0, 0, 0, 0)));
	R("clone THREAD without SIGHAND", C(syscall(SYS_clone, CLONE_THREAD | CLONE_VM, 0, 0, 0, 0)));
	R("clone NEWNS|FS", C(syscall(SYS_clone, CLONE_NEWNS | CLONE_FS | SIGCHLD, 0, 0, 0, 0)));
	R("clone NEWUSER|FS", C(syscall(SYS_clone, CLONE_NEWUSER | CLONE_FS | SIGCHLD, 0, 0, 0, 0)));
	R("clone NEWUSER|THREAD", C(syscall(SYS_clone, CLONE_NEWUSER | CLONE_THREAD | CLONE_SIGHAND | CLONE_VM, 0, 0, 0, 0)));
	R("clone NEWIPC|SYSVSEM", C(syscall(SYS_clone, CLONE_NEWIPC | CLONE_SYSVSEM | SIGCHLD, 0, 0, 0, 0)));
	R("clone PIDFD|DETACHED", C(syscall(SYS_clone, CLONE_PIDFD | CLONE_DETACHED | SIGCHLD, 0, 0, 0, 0)));
	R("clone PIDFD|THREAD", C(syscall(SYS_clone, CLONE_PIDFD | CLONE_THREAD | CLONE_SIGHAND | CLONE_VM, 0, 0, 0, 0)));
	int pfd = -1;
	R("clone PIDFD|PARENT_SETTID", C(syscall(SYS_clone, CLONE_PIDFD | CLONE_PARENT_SETTID | SIGCHLD, 0, &pfd, 0, 0)));
	R("clone PIDFD bad pointer", C(syscall(SYS_clone, CLONE_PIDFD | SIGCHLD, 0, BAD, 0, 0)));
	if (!root) {
		R("clone NEWUTS as a user", C(syscall(SYS_clone, CLONE_NEWUTS | SIGCHLD, 0, 0, 0, 0)));
		R("clone NEWPID as a user", C(syscall(SYS_clone, CLONE_NEWPID | SIGCHLD, 0, 0, 0, 0)));
	}
	/* clone3: the argument structure */
	static char page[8192];
	struct ca *a = (struct ca *)page;
	memset(page, 0, sizeof page);
	a->exit_signal = SIGCHLD;
	R("clone3 size 0", clone3(a, 0));
	R("clone3 size 63", clone3(a, 63));
	R("clone3 size 4097", clone3(a, 4097));
	R("clone3 bad pointer", clone3(BAD, 88));
	page[4000] = 1;
	R("clone3 nonzero tail", clone3(a, 4096));
	page[4000] = 0;
	a->exit_signal = 65;
	R("clone3 exit signal 65", clone3(a, 88));
	a->exit_signal = 0x100 | SIGCHLD;
	R("clone3 exit signal 0x111", clone3(a, 88));
	a->exit_signal = SIGCHLD;
	a->flags = CLONE_DETACHED;
	R("clone3 DETACHED", clone3(a, 88));
	a->flags = SIGCHLD;
	R("clone3 CSIGNAL bits in flags", clone3(a, 88));
	a->flags = 1ULL << 40;
	R("clone3 unknown flag", clone3(a, 88));
	a->flags = CLONE_CLEAR_SIGHAND | CLONE_SIGHAND | CLONE_VM;
	R("clone3 CLEAR_SIGHAND|SIGHAND", clone3(a, 88));
	a->flags = 0;
	a->stack = (uint64_t)page;
	R("clone3 stack without size", clone3(a, 88));
	a->stack = 0;
	a->stack_size = 4096;
	R("clone3 size without stack", clone3(a, 88));
	a->stack_size = 0;
	pid_t tids[40] = {1};
	a->set_tid = (uint64_t)tids;
	a->set_tid_size = 33;
	R("clone3 set_tid_size 33", clone3(a, 88));
	a->set_tid_size = 2;
	R("clone3 set_tid_size 2 (one namespace)", clone3(a, 88));
	a->set_tid_size = 1;
	R("clone3 set_tid pid 1 (taken)", clone3(a, 88));
	tids[0] = -1;
	R("clone3 set_tid -1", clone3(a, 88));
	tids[0] = 1 << 30;
	R("clone3 set_tid past pid_max", clone3(a, 88));
	a->set_tid = (uint64_t)BAD;
	R("clone3 set_tid bad pointer", clone3(a, 88));
	a->set_tid = (uint64_t)tids;
	tids[0] = 1;
	a->set_tid_size = 0;
	R("clone3 set_tid without size", clone3(a, 88));
	a->set_tid = 0;
	a->set_tid_size = 1;
	R("clone3 size without set_tid", clone3(a, 88));
	a->set_tid_size = 0;
	a->flags = CLONE_PIDFD;
	a->pidfd = (uint64_t)BAD;
	R("clone3 PIDFD bad pointer", clone3(a, 88));
	a->flags = CLONE_PIDFD | CLONE_THREAD | CLONE_SIGHAND | CLONE_VM;
	R("clone3 PIDFD|THREAD", clone3(a, 88));
	a->flags = 0;
	a->pidfd = 0;
	/* CLONE_CLEAR_SIGHAND: caught signals back to default, ignored stay ignored */
	signal(SIGUSR1, (void (*)(int))C);
	signal(SIGUSR2, SIG_IGN);
	a->flags = CLONE_CLEAR_SIGHAND;
	long r = syscall(SYS_clone3, a, 88);
	if (r == 0) {
		struct sigaction o1, o2;
		sigaction(SIGUSR1, NULL, &o1);
		sigaction(SIGUSR2, NULL, &o2);
		printf("CLEAR_SIGHAND child: SIGUSR1 %s, SIGUSR2 %s\n", o1.sa_handler == SIG_DFL ? "default" : "caught",
			o2.sa_handler == SIG_IGN ? "ignored" : "not ignored");
		fflush(stdout);
		_exit(0);
	}
	if (r > 0) waitpid(r, NULL, 0); else R("clone3 CLEAR_SIGHAND", r);
	a->flags = 0;
	R("clone with bit 32 (ignored)", C(syscall(SYS_clone, (1UL << 32) | SIGCHLD, 0, 0, 0, 0)) > 0);
	if (root) {
		/* CLONE_PARENT from a PID namespace's init: EINVAL */
		int q[2];
		pipe(q);
		r = syscall(SYS_clone, CLONE_NEWPID | SIGCHLD, 0, 0, 0, 0);
		if (r == 0) {
			long r2 = syscall(SYS_clone, CLONE_PARENT | SIGCHLD, 0, 0, 0, 0);
			if (r2 == 0) syscall(SYS_exit, 0);
			char e = r2 < 0 ? errno : 0;
			write(q[1], &e, 1);
			_exit(0);
		}
		char e = 0;
		read(q[0], &e, 1);
		waitpid(r, NULL, 0);
		printf("clone PARENT from a namespace's init: %s\n", strerror(e));
		fflush(stdout);
	}
	/* fork past RLIMIT_NPROC (root is exempt) */
	pid_t c = fork();
	if (c == 0) {
		struct rlimit rl = {0, 0};
		setrlimit(RLIMIT_NPROC, &rl);
		errno = 0;
		printf("fork past RLIMIT_NPROC: %s\n", C(fork()) < 0 ? strerror(errno) : "created");
		errno = 0;
		printf("clone3 past RLIMIT_NPROC: %s\n", clone3(a, 88) < 0 ? strerror(errno) : "created");
		errno = 0;
		pid_t v = vfork();
		if (v == 0) _exit(0);
		if (v > 0) waitpid(v, NULL, 0);
		printf("vfork past RLIMIT_NPROC: %s\n", v < 0 ? strerror(errno) : "created");
		fflush(stdout);
		_exit(0);
	}
	waitpid(c, NULL, 0);
	/* execve and execveat: nothing here may succeed */
	char *av[] = {"true", NULL}, *ev[] = {NULL};
	snprintf(path, sizeof path, "%s/plain", dir);
	int fd = open(path, O_CREAT | O_WRONLY, 0644);
	write(fd, "\x01\x02\x03\x04garbage", 11);
	close(fd);
	R("execve no x bit", syscall(SYS_execve, path, av, ev));
	chmod(path, 0755);
	R("execve garbage", syscall(SYS_execve, path, av, ev));
	snprintf(path, sizeof path, "%s/script", dir);
	fd = open(path, O_CREAT | O_WRONLY, 0755);
	write(fd, "#!/nonexistent/interp\n", 22);
	close(fd);
	R("execve script, interpreter missing", syscall(SYS_execve, path, av, ev));
	snprintf(path, sizeof path, "%s/empty", dir);
	close(open(path, O_CREAT | O_WRONLY, 0755));
	R("execve empty file", syscall(SYS_execve, path, av, ev));
	snprintf(path, sizeof path, "%s/loop", dir);
	symlink(path, path);
	R("execve symlink loop", syscall(SYS_execve, path, av, ev));
	R("execve directory", syscall(SYS_execve, dir, av, ev));
	R("execve missing", syscall(SYS_execve, "/nonexistent", av, ev));
	R("execve empty path", syscall(SYS_execve, "", av, ev));
	R("execve not a directory", syscall(SYS_execve, "/etc/passwd/x", av, ev));
	char longp[5000];
	memset(longp, 'a', sizeof longp - 1);
	longp[0] = '/';
	longp[sizeof longp - 1] = 0;
	R("execve name too long", syscall(SYS_execve, longp, av, ev));
	R("execve bad path", syscall(SYS_execve, BAD, av, ev));
	R("execve missing, bad argv", syscall(SYS_execve, "/nonexistent", BAD, ev));
	R("execve bad argv", syscall(SYS_execve, "/bin/true", BAD, ev));
	R("execve bad envp", syscall(SYS_execve, "/bin/true", av, BAD));
	char *bav[] = {"true", BAD, NULL};
	R("execve bad argv string", syscall(SYS_execve, "/bin/true", bav, ev));
	char *big = malloc(200000);
	memset(big, 'x', 199999);
	big[199999] = 0;
	char *hav[] = {"true", big, NULL};
	R("execve argument over MAX_ARG_STRLEN", syscall(SYS_execve, "/bin/true", hav, ev));
	char *hev[] = {big, NULL};
	R("execve environment over MAX_ARG_STRLEN", syscall(SYS_execve, "/bin/true", av, hev));
	int dfd = open(dir, O_RDONLY | O_DIRECTORY);
	int ffd = open("/etc/passwd", O_RDONLY);
	snprintf(path, sizeof path, "%s/link", dir);
	symlink("/bin/true", path);
	R("execveat bad dirfd", syscall(SYS_execveat, 999, "x", av, ev, 0));
	R("execveat bad dirfd absolute", syscall(SYS_execveat, 999, "/nonexistent", av, ev, 0));
	R("execveat file dirfd", syscall(SYS_execveat, ffd, "x", av, ev, 0));
	R("execveat bad flags", syscall(SYS_execveat, dfd, "plain", av, ev, 0x1234));
	R("execveat NOFOLLOW symlink", syscall(SYS_execveat, dfd, "link", av, ev, AT_SYMLINK_NOFOLLOW));
	R("execveat EMPTY_PATH directory", syscall(SYS_execveat, dfd, "", av, ev, AT_EMPTY_PATH));
	R("execveat EMPTY_PATH not executable", syscall(SYS_execveat, ffd, "", av, ev, AT_EMPTY_PATH));
	R("execveat empty path no flag", syscall(SYS_execveat, ffd, "", av, ev, 0));
	R("execveat relative garbage", syscall(SYS_execveat, dfd, "plain", av, ev, 0));
	/* wait4 and waitid */
	int st;
	siginfo_t si;
	R("wait4 no children", wait4(-1, &st, 0, NULL));
	R("wait4 bad options", wait4(-1, &st, 0x12345678, NULL));
	R("wait4 no such child", wait4(999999, &st, 0, NULL));
	R("wait4 INT_MIN", wait4(INT_MIN, &st, 0, NULL));
	R("waitid no children", waitid(P_ALL, 0, &si, WEXITED));
	R("waitid no options", waitid(P_ALL, 0, &si, 0));
	R("waitid bad options", waitid(P_ALL, 0, &si, WEXITED | 0x10000));
	R("waitid bad idtype", waitid(99, 0, &si, WEXITED));
	R("waitid bad idtype no options", waitid(99, 0, &si, 0));
	R("waitid P_PID 0", waitid(P_PID, 0, &si, WEXITED));
	R("waitid P_PGID -1", waitid(P_PGID, -1, &si, WEXITED));
	R("waitid P_PIDFD bad fd", waitid(P_PIDFD, 999, &si, WEXITED));
	R("waitid P_PIDFD not a pidfd", waitid(P_PIDFD, ffd, &si, WEXITED));
	c = fork();
	if (c == 0) _exit(3);
	R("waitid WNOWAIT", waitid(P_PID, c, &si, WEXITED | WNOWAIT));
	R("wait4 bad status", wait4(c, BAD, 0, NULL));
	R("wait4 after EFAULT", wait4(c, &st, 0, NULL));
	c = fork();
	if (c == 0) _exit(4);
	R("wait4 bad rusage", wait4(c, &st, 0, BAD));
	R("wait4 after EFAULT", wait4(c, &st, 0, NULL));
	c = fork();
	if (c == 0) _exit(5);
	R("waitid bad infop", syscall(SYS_waitid, P_PID, c, BAD, WEXITED, NULL));
	R("waitid after EFAULT", waitid(P_PID, c, &si, WEXITED));
	/* a zombie keeps its pid until it is reaped */
	c = fork();
	if (c == 0) _exit(6);
	waitid(P_PID, c, &si, WEXITED | WNOWAIT);
	R("kill zombie", kill(c, SIGTERM));
	R("tgkill zombie", syscall(SYS_tgkill, c, c, 0));
	R("tkill zombie", syscall(SYS_tkill, c, SIGTERM));
	R("tgkill zombie sig 65", syscall(SYS_tgkill, c, c, 65));
	R("getpgid zombie is ours", getpgid(c) == getpgrp());
	R("getsid zombie is ours", getsid(c) == getsid(0));
	R("setpgid zombie", setpgid(c, c));
	R("getpgid zombie moved", getpgid(c) == c);
	R("wait4 zombie", wait4(c, &st, 0, NULL) == c);
	R("getpgid reaped", getpgid(c));
	R("tkill reaped", syscall(SYS_tkill, c, 0));
	c = fork();
	if (c == 0) { pause(); _exit(0); }
	R("wait4 WNOHANG running", wait4(c, &st, WNOHANG, NULL));
	R("waitid WNOHANG running", waitid(P_PID, c, &si, WEXITED | WNOHANG));
	/* process groups and sessions */
	setpgid(0, 0);
	R("setsid as group leader", setsid());
	R("getpgid no such pid", getpgid(999999));
	R("getpgid -1", getpgid(-1));
	R("getsid no such pid", getsid(999999));
	R("setpgid pgid of no group", setpgid(0, 999999));
	R("setpgid no such pid", setpgid(999999, 999999));
	R("setpgid pid -1", setpgid(-1, 0));
	int sp[2];
	pipe(sp);
	pid_t s = fork();
	if (s == 0) {
		close(sp[0]);
		R("setsid in a child", setsid() > 0);
		R("setsid twice", setsid());
		R("setpgid session leader", setpgid(0, 0));
		write(sp[1], "x", 1);
		pause();
		_exit(0);
	}
	close(sp[1]);
	char x;
	read(sp[0], &x, 1);
	R("setpgid child in another session", setpgid(s, s));
	R("setpgid into another session's group", setpgid(c, s));
	R("getsid other session ok", getsid(s) > 0);
	pid_t xp = fork();
	if (xp == 0) {
		/* setsid while a group named by the caller's pid lives on */
		pid_t top = getpgrp();
		setpgid(0, 0);
		pid_t y = fork();
		if (y == 0) { pause(); _exit(0); }
		R("setpgid back to the parent's group", setpgid(0, top));
		R("setsid, own group still alive", setsid());
		kill(y, SIGKILL);
		waitpid(y, NULL, 0);
		_exit(0);
	}
	waitpid(xp, NULL, 0);
	kill(s, SIGKILL);
	kill(c, SIGKILL);
	waitpid(s, NULL, 0);
	waitpid(c, NULL, 0);
	snprintf(path, sizeof path, "rm -rf %s", dir);
	system(path);
	(void)argc; (void)argv;
	return 0;
}
`

func TestErrorsFork(t *testing.T) {
	t.Parallel()
	prog := compileC(t, "errorsfork", errorsForkC)
	diff(t, []string{prog})
	diffAsUser(t, prog)
}
