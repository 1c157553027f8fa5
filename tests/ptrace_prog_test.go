package tests

// ptraceSrc exercises ptrace(2) between a tracer and its children and
// prints every answer and every wait status: TRACEME and the syscall-stops
// (with PTRACE_GET_SYSCALL_INFO, a result changed at exit and a call
// skipped at entry), PEEK/POKE and process_vm_readv, /proc's State and
// TracerPid, breakpoints written into code with POKETEXT, single-stepping
// a counted loop, signal-delivery-stops (a signal replaced, suppressed, an
// ignored one still reported), fork/exec/exit events followed into a
// grandchild, SEIZE with INTERRUPT, group-stop and LISTEN, ATTACH/DETACH,
// EXITKILL, the errors of each, FP registers, regsets, user-area peeks and
// a hardware watchpoint through the debug registers.
const ptraceSrc = `#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>

#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <elf.h>
#include <unistd.h>

static void show(const char *what, long r) {
	if (r < 0) printf("%s: -1 %s\n", what, strerrorname_np(errno));
	else printf("%s: %ld\n", what, r);
	fflush(stdout);
}
/* resume: a request after which the tracee runs; its success is not
   printed, as the tracee may print first. */
static void resume(const char *what, long r) { if (r < 0) show(what, r); }
static void status(const char *what, int st) {
	if (WIFEXITED(st)) printf("%s: exited %d\n", what, WEXITSTATUS(st));
	else if (WIFSIGNALED(st)) printf("%s: killed by %d\n", what, WTERMSIG(st));
	else if (WIFSTOPPED(st)) printf("%s: stopped %#x (sig %d event %d)\n", what, st >> 8, WSTOPSIG(st) & 0x7f, st >> 16);
	else printf("%s: status %#x\n", what, st);
	fflush(stdout);
}
static int wait_for(pid_t pid, const char *what) {
	int st;
	if (waitpid(pid, &st, __WALL) != pid) { printf("%s: waitpid: %s\n", what, strerrorname_np(errno)); exit(1); }
	status(what, st);
	return st;
}

volatile long data_word = 0x1122334455667788;
volatile long watched;

/* A child that stops itself for its tracer (TRACEME, then SIGSTOP). */
static pid_t traced_child(void (*body)(void)) {
	pid_t p = fork();
	if (p == 0) {
		ptrace(PTRACE_TRACEME, 0, 0, 0);
		raise(SIGSTOP);
		body();
		_exit(0);
	}
	wait_for(p, "traceme stop");
	return p;
}

static void body_syscalls(void) {
	syscall(SYS_getppid);
	long r = syscall(SYS_getuid);
	printf("child: getuid after tracer changed it: %ld\n", r);
	r = syscall(SYS_getpid);
	printf("child: skipped getpid returned %ld\n", r);
	fflush(stdout);
}

static void test_syscalls(void) {
	pid_t p = traced_child(body_syscalls);
	show("setoptions sysgood", ptrace(PTRACE_SETOPTIONS, p, 0, PTRACE_O_TRACESYSGOOD | PTRACE_O_TRACEEXIT));
	for (int i = 0; i < 64; i++) {
		resume("syscall", ptrace(PTRACE_SYSCALL, p, 0, 0));
		int st = wait_for(p, "stop");
		if (!WIFSTOPPED(st)) break;
		if (st >> 16 == PTRACE_EVENT_EXIT) {
			unsigned long msg;
			ptrace(PTRACE_GETEVENTMSG, p, 0, &msg);
			printf("exit event message %#lx\n", msg);
			continue;
		}
		struct user_regs_struct r;
		ptrace(PTRACE_GETREGS, p, 0, &r);
		struct __ptrace_syscall_info info;
		memset(&info, 0, sizeof info);
		long n = ptrace(PTRACE_GET_SYSCALL_INFO, p, sizeof info, &info);
		if (info.op == PTRACE_SYSCALL_INFO_ENTRY)
			printf("  info size %ld entry nr %lld arch %#x rax %lld\n", n, (long long)info.entry.nr, info.arch, (long long)r.rax);
		else if (info.op == PTRACE_SYSCALL_INFO_EXIT && r.orig_rax == SYS_getppid)
			printf("  info size %ld exit rval is ppid %d error %d\n", n, info.exit.rval == getpid(), info.exit.is_error);
		else if (info.op == PTRACE_SYSCALL_INFO_EXIT)
			printf("  info size %ld exit rval %lld error %d\n", n, (long long)info.exit.rval, info.exit.is_error);
		else
			printf("  info size %ld op %d\n", n, info.op);
		if (info.op == PTRACE_SYSCALL_INFO_EXIT && r.orig_rax == SYS_getuid) {
			r.rax = 4242;
			ptrace(PTRACE_SETREGS, p, 0, &r);
		}
		if (info.op == PTRACE_SYSCALL_INFO_ENTRY && r.orig_rax == SYS_getpid) {
			r.orig_rax = -1; r.rax = 77;
			ptrace(PTRACE_SETREGS, p, 0, &r);
		}
		if (info.op == PTRACE_SYSCALL_INFO_ENTRY && r.orig_rax == SYS_exit_group) {
			resume("cont", ptrace(PTRACE_CONT, p, 0, 0));
			int st2 = wait_for(p, "after exit_group");
			if (WIFSTOPPED(st2)) { unsigned long msg; ptrace(PTRACE_GETEVENTMSG, p, 0, &msg); printf("exit event message %#lx\n", msg);
				ptrace(PTRACE_CONT, p, 0, 0); wait_for(p, "end"); }
			break;
		}
		/* only the interesting calls */
		if (r.orig_rax != SYS_getppid && r.orig_rax != SYS_getuid && r.orig_rax != SYS_getpid && r.orig_rax != SYS_write && r.orig_rax != (unsigned long)-1)
			printf("  (call %lld)\n", (long long)r.orig_rax);
	}
}

static void body_mem(void) {
	printf("child: data_word %#lx\n", data_word);
	fflush(stdout);
	__asm__ volatile("int3");
	printf("child: after breakpoint\n");
	fflush(stdout);
}

static void test_memory(void) {
	pid_t p = traced_child(body_mem);
	errno = 0;
	long w = ptrace(PTRACE_PEEKDATA, p, &data_word, 0);
	printf("peekdata %#lx errno %d\n", w, errno);
	show("pokedata", ptrace(PTRACE_POKEDATA, p, &data_word, 0x0123456789abcdefL));
	errno = 0;
	w = ptrace(PTRACE_PEEKTEXT, p, (void *)body_mem, 0);
	printf("peektext ok %d\n", errno == 0 && w == *(long *)(void *)body_mem);
	show("peekdata bad address", ptrace(PTRACE_PEEKDATA, p, (void *)8, 0));
	show("pokedata bad address", ptrace(PTRACE_POKEDATA, p, (void *)8, 0));
	/* process_vm_readv of the tracee */
	long v = 0;
	struct iovec l = { &v, sizeof v }, rr = { (void *)&data_word, sizeof v };
	show("process_vm_readv", process_vm_readv(p, &l, 1, &rr, 1, 0));
	printf("read back %#lx\n", v);
	/* TracerPid and state */
	char path[64], line[256];
	snprintf(path, sizeof path, "/proc/%d/status", p);
	FILE *f = fopen(path, "r");
	while (fgets(line, sizeof line, f)) {
		if (!strncmp(line, "State:", 6)) fputs(line, stdout);
		if (!strncmp(line, "TracerPid:", 10)) printf("TracerPid is me: %d\n", atoi(line + 10) == getpid());
	}
	fclose(f);
	/* siginfo of the SIGSTOP stop */
	siginfo_t si;
	show("getsiginfo", ptrace(PTRACE_GETSIGINFO, p, 0, &si));
	printf("siginfo signo %d code %d pid-is-child %d\n", si.si_signo, si.si_code, si.si_pid == p);
	resume("cont", ptrace(PTRACE_CONT, p, 0, 0));
	wait_for(p, "breakpoint");
	show("getsiginfo", ptrace(PTRACE_GETSIGINFO, p, 0, &si));
	printf("siginfo signo %d code %#x\n", si.si_signo, si.si_code);
	struct user_regs_struct r;
	ptrace(PTRACE_GETREGS, p, 0, &r);
	printf("rip after int3 is in body_mem: %d\n", r.rip > (unsigned long)body_mem && r.rip < (unsigned long)body_mem + 200);
	/* swallow the SIGTRAP */
	resume("cont", ptrace(PTRACE_CONT, p, 0, 0));
	wait_for(p, "end");
	resume("cont after exit", ptrace(PTRACE_CONT, p, 0, 0));
}

/* A breakpoint written into the code with POKETEXT. */
__attribute__((noinline)) int target_fn(int x) { return x * 3 + 1; }
static void body_bp(void) {
	printf("child: target_fn(4) = %d\n", target_fn(4));
	fflush(stdout);
}
static void test_breakpoint(void) {
	pid_t p = traced_child(body_bp);
	unsigned long addr = (unsigned long)target_fn;
	long orig = ptrace(PTRACE_PEEKTEXT, p, addr, 0);
	show("poketext int3", ptrace(PTRACE_POKETEXT, p, addr, (orig & ~0xffL) | 0xcc));
	printf("own copy unchanged: %d\n", *(unsigned char *)target_fn != 0xcc);
	resume("cont", ptrace(PTRACE_CONT, p, 0, 0));
	wait_for(p, "at breakpoint");
	struct user_regs_struct r;
	ptrace(PTRACE_GETREGS, p, 0, &r);
	printf("rip - 1 == target_fn: %d, rdi %lld\n", r.rip - 1 == addr, (long long)r.rdi);
	ptrace(PTRACE_POKETEXT, p, addr, orig);
	r.rip = addr;
	r.rdi = 10;
	ptrace(PTRACE_SETREGS, p, 0, &r);
	resume("cont", ptrace(PTRACE_CONT, p, 0, 0));
	wait_for(p, "end");
}

/* Single-stepping a counted loop. */
static void body_step(void) {
	__asm__ volatile("int3\n\tmov $50, %%ecx\n1:\n\tdec %%ecx\n\tjnz 1b\n\tnop\n\tint3\n" ::: "ecx", "cc");
}
static void test_step(void) {
	pid_t p = traced_child(body_step);
	ptrace(PTRACE_CONT, p, 0, 0);
	wait_for(p, "first int3");
	int steps = 0, st;
	siginfo_t si;
	for (;;) {
		ptrace(PTRACE_SINGLESTEP, p, 0, 0);
		waitpid(p, &st, 0);
		if (!WIFSTOPPED(st)) break;
		ptrace(PTRACE_GETSIGINFO, p, 0, &si);
		if (si.si_code != TRAP_TRACE) break;
		steps++;
	}
	printf("steps %d, then signal %d code %#x\n", steps, WSTOPSIG(st), si.si_code);
	struct user_regs_struct r;
	ptrace(PTRACE_GETREGS, p, 0, &r);
	printf("trap flag visible: %d\n", (r.eflags & 0x100) != 0);
	/* step over a system call: the trap comes after it */
	ptrace(PTRACE_CONT, p, 0, 0);
	wait_for(p, "end");
}

/* Signals: the tracer sees them first and decides. */
static void on_usr1(int s) { (void)s; printf("child: SIGUSR1 handler\n"); fflush(stdout); }
static void on_usr2(int s) { (void)s; printf("child: SIGUSR2 handler\n"); fflush(stdout); }
static void body_sig(void) {
	signal(SIGUSR1, on_usr1);
	signal(SIGUSR2, on_usr2);
	signal(SIGINT, SIG_IGN);
	raise(SIGUSR1);
	raise(SIGUSR1);
	raise(SIGINT);
	printf("child: done\n");
	fflush(stdout);
}
static void test_signals(void) {
	pid_t p = traced_child(body_sig);
	ptrace(PTRACE_CONT, p, 0, 0);
	wait_for(p, "first SIGUSR1");
	resume("cont with SIGUSR2 instead", ptrace(PTRACE_CONT, p, 0, SIGUSR2));
	wait_for(p, "second SIGUSR1");
	resume("cont suppressing it", ptrace(PTRACE_CONT, p, 0, 0));
	wait_for(p, "ignored SIGINT still reported");
	resume("cont", ptrace(PTRACE_CONT, p, 0, SIGINT));
	wait_for(p, "end");
}

/* Events: fork, exec, clone; the new child is traced too. */
static void body_events(void) {
	pid_t c = fork();
	if (c == 0) {
		execl("/proc/self/exe", "ptr", "exit7", (char *)0);
		_exit(99);
	}
	int st;
	waitpid(c, &st, 0);
	printf("child: grandchild exited %d\n", WEXITSTATUS(st));
	fflush(stdout);
}
static void test_events(void) {
	pid_t p = traced_child(body_events);
	show("setoptions", ptrace(PTRACE_SETOPTIONS, p, 0, PTRACE_O_TRACEFORK | PTRACE_O_TRACEEXEC | PTRACE_O_TRACEEXIT));
	ptrace(PTRACE_CONT, p, 0, 0);
	int st = wait_for(p, "fork event");
	unsigned long gc = 0;
	ptrace(PTRACE_GETEVENTMSG, p, 0, &gc);
	/* The grandchild starts with a SIGSTOP for us. */
	st = wait_for((pid_t)gc, "grandchild start");
	ptrace(PTRACE_CONT, gc, 0, 0);
	st = wait_for((pid_t)gc, "grandchild exec");
	unsigned long former = 0;
	ptrace(PTRACE_GETEVENTMSG, gc, 0, &former);
	printf("exec message is its pid: %d\n", former == gc);
	ptrace(PTRACE_CONT, gc, 0, 0);
	st = wait_for((pid_t)gc, "grandchild exit event");
	unsigned long msg;
	ptrace(PTRACE_GETEVENTMSG, gc, 0, &msg);
	printf("exit message %#lx\n", msg);
	ptrace(PTRACE_CONT, gc, 0, 0);
	ptrace(PTRACE_CONT, p, 0, 0);
	/* grandchild's exit (we trace it, not its parent), then the SIGCHLD
	   its parent gets, then the parent's exit event, then its end */
	for (int i = 0; i < 4; i++) {
		pid_t w = waitpid(-1, &st, __WALL);
		if (w < 0) break;
		status(w == p ? "child" : "grandchild", st);
		if (WIFSTOPPED(st)) ptrace(PTRACE_CONT, w, 0, WSTOPSIG(st) == SIGCHLD ? SIGCHLD : 0);
	}
}

/* SEIZE, INTERRUPT, group-stop and LISTEN. */
static void test_seize(void) {
	int pfd[2];
	pipe(pfd);
	pid_t p = fork();
	if (p == 0) {
		char c;
		read(pfd[0], &c, 1);
		printf("child: read returned\n");
		fflush(stdout);
		raise(SIGSTOP);
		printf("child: continued\n");
		fflush(stdout);
		_exit(3);
	}
	show("seize bad addr", ptrace(PTRACE_SEIZE, p, 1, 0));
	show("seize bad options", ptrace(PTRACE_SEIZE, p, 0, 1 << 30));
	show("seize", ptrace(PTRACE_SEIZE, p, 0, PTRACE_O_TRACESYSGOOD));
	show("seize twice", ptrace(PTRACE_SEIZE, p, 0, 0));
	show("getregs while running", ptrace(PTRACE_GETREGS, p, 0, &(struct user_regs_struct){0}));
	show("interrupt", ptrace(PTRACE_INTERRUPT, p, 0, 0));
	wait_for(p, "interrupt stop");
	siginfo_t si;
	show("getsiginfo", ptrace(PTRACE_GETSIGINFO, p, 0, &si));
	printf("siginfo signo %d code %#x\n", si.si_signo, si.si_code);
	resume("cont", ptrace(PTRACE_CONT, p, 0, 0));
	write(pfd[1], "x", 1);
	wait_for(p, "SIGSTOP delivery");
	resume("cont with SIGSTOP", ptrace(PTRACE_CONT, p, 0, SIGSTOP));
	wait_for(p, "group stop");
	show("getsiginfo in group-stop", ptrace(PTRACE_GETSIGINFO, p, 0, &si));
	printf("siginfo signo %d code %#x\n", si.si_signo, si.si_code);
	show("listen", ptrace(PTRACE_LISTEN, p, 0, 0));
	int st;
	show("waitpid nohang while listening", waitpid(p, &st, WNOHANG));
	kill(p, SIGCONT);
	wait_for(p, "after SIGCONT");
	resume("cont", ptrace(PTRACE_CONT, p, 0, 0));
	wait_for(p, "SIGCONT delivery");
	resume("detach", ptrace(PTRACE_DETACH, p, 0, 0));
	wait_for(p, "end");
}

/* ATTACH to a running child, DETACH with a signal, EXITKILL, errors. */
static void test_attach(void) {
	pid_t p = fork();
	if (p == 0) { for (;;) pause(); }
	show("attach", ptrace(PTRACE_ATTACH, p, 0, 0));
	wait_for(p, "attach stop");
	show("attach again", ptrace(PTRACE_ATTACH, p, 0, 0));
	resume("detach with SIGTERM", ptrace(PTRACE_DETACH, p, 0, SIGTERM));
	wait_for(p, "end");
	show("attach self", ptrace(PTRACE_ATTACH, getpid(), 0, 0));
	show("attach nobody", ptrace(PTRACE_ATTACH, 999999, 0, 0));
	resume("cont untraced", ptrace(PTRACE_CONT, getppid(), 0, 0));
	show("traceme twice", ({ pid_t q = fork(); if (q == 0) { ptrace(PTRACE_TRACEME, 0, 0, 0); _exit(ptrace(PTRACE_TRACEME, 0, 0, 0) == -1 && errno == EPERM ? 5 : 6); } int s; waitpid(q, &s, 0); WEXITSTATUS(s); }));
	/* EXITKILL: a tracer that dies takes its tracee with it. */
	int pfd[2];
	pipe(pfd);
	pid_t victim = fork();
	if (victim == 0) { for (;;) pause(); }
	pid_t tracer = fork();
	if (tracer == 0) {
		ptrace(PTRACE_SEIZE, victim, 0, PTRACE_O_EXITKILL);
		write(pfd[1], "x", 1);
		_exit(0);
	}
	char c;
	read(pfd[0], &c, 1);
	int st;
	waitpid(tracer, &st, 0);
	waitpid(victim, &st, 0);
	status("exitkill victim", st);
	/* Permissions: an unprivileged tracer needs the target's uids, and a
	   target that is dumpable. */
	int ready[2];
	pipe(ready);
	pid_t a = fork();
	if (a == 0) {
		setresgid(1000, 1000, 1000); setresuid(1000, 1000, 1000);
		prctl(PR_SET_DUMPABLE, 1); /* changing uids made it undumpable */
		write(ready[1], "x", 1);
		for (;;) pause();
	}
	read(ready[0], &c, 1);
	for (int undumpable = 0; undumpable < 2; undumpable++) {
		if (undumpable) {
			kill(a, SIGKILL); waitpid(a, &st, 0);
			a = fork();
			if (a == 0) {
				setresgid(1000, 1000, 1000); setresuid(1000, 1000, 1000);
				prctl(PR_SET_DUMPABLE, 0);
				write(ready[1], "x", 1);
				for (;;) pause();
			}
			read(ready[0], &c, 1);
		}
		pid_t b = fork();
		if (b == 0) {
			setresgid(1000, 1000, 1000); setresuid(1000, 1000, 1000);
			printf("dumpable after setuid: %d\n", prctl(PR_GET_DUMPABLE));
			long r1 = ptrace(PTRACE_SEIZE, getppid(), 0, 0);
			int e1 = errno;
			long r2 = ptrace(PTRACE_SEIZE, a, 0, 0);
			int e2 = errno;
			printf("as uid 1000: seize root: %s, seize uid 1000 %s: %s\n", r1 ? strerrorname_np(e1) : "ok",
			       undumpable ? "undumpable" : "dumpable", r2 ? strerrorname_np(e2) : "ok");
			fflush(stdout);
			_exit(0);
		}
		waitpid(b, &st, 0);
	}
	kill(a, SIGKILL);
	waitpid(a, &st, 0);
	status("permission target", st);
}

/* Registers: FP state and a hardware watchpoint. */
static void body_regs(void) {
	double d = 2.5;
	__asm__ volatile("movsd %0, %%xmm0\n\tint3" :: "m"(d) : "xmm0");
	double out;
	__asm__ volatile("movsd %%xmm1, %0" : "=m"(out));
	watched = 5;
	printf("child: xmm1 %g\n", out);
	fflush(stdout);
}
static void test_regs(void) {
	pid_t p = traced_child(body_regs);
	ptrace(PTRACE_CONT, p, 0, 0);
	wait_for(p, "int3");
	struct user_fpregs_struct fp;
	show("getfpregs", ptrace(PTRACE_GETFPREGS, p, 0, &fp));
	double x0;
	memcpy(&x0, &fp.xmm_space[0], 8);
	printf("xmm0 %g\n", x0);
	double v = 7.25;
	memcpy(&fp.xmm_space[4], &v, 8);
	show("setfpregs", ptrace(PTRACE_SETFPREGS, p, 0, &fp));
	struct user_regs_struct r;
	struct iovec iov = { &r, sizeof r };
	show("getregset prstatus", ptrace(PTRACE_GETREGSET, p, NT_PRSTATUS, &iov));
	printf("iov_len %zu\n", iov.iov_len);
	char xs[4096];
	iov.iov_base = xs; iov.iov_len = sizeof xs;
	show("getregset xstate", ptrace(PTRACE_GETREGSET, p, NT_X86_XSTATE, &iov));
	printf("xstate len >= 576: %d\n", iov.iov_len >= 576);
	iov.iov_len = 7;
	show("getregset bad type", ptrace(PTRACE_GETREGSET, p, 0x999, &iov));
	r.cs = 0x10;
	show("setregs kernel cs", ptrace(PTRACE_SETREGS, p, 0, &r));
	errno = 0;
	long dr7 = ptrace(PTRACE_PEEKUSER, p, offsetof(struct user, u_debugreg[7]), 0);
	printf("dr7 %ld errno %d\n", dr7, errno);
	show("peekuser unaligned", ptrace(PTRACE_PEEKUSER, p, 3, 0));
	show("peekuser past end", ptrace(PTRACE_PEEKUSER, p, sizeof(struct user), 0));
	errno = 0;
	long rip = ptrace(PTRACE_PEEKUSER, p, offsetof(struct user_regs_struct, rip), 0);
	printf("peekuser rip matches: %d\n", rip == (long)r.rip);
	show("poke dr0", ptrace(PTRACE_POKEUSER, p, offsetof(struct user, u_debugreg[0]), &watched));
	/* DR7: enable 0, write-only, 8 bytes */
	show("poke dr7", ptrace(PTRACE_POKEUSER, p, offsetof(struct user, u_debugreg[7]), 0x1 | (1 << 16) | (2 << 18)));
	resume("cont", ptrace(PTRACE_CONT, p, 0, 0));
	wait_for(p, "watchpoint");
	siginfo_t si;
	ptrace(PTRACE_GETSIGINFO, p, 0, &si);
	printf("siginfo signo %d code %d\n", si.si_signo, si.si_code);
	long dr6 = ptrace(PTRACE_PEEKUSER, p, offsetof(struct user, u_debugreg[6]), 0);
	printf("dr6 b0 %ld\n", dr6 & 1);
	ptrace(PTRACE_POKEUSER, p, offsetof(struct user, u_debugreg[7]), 0);
	resume("cont", ptrace(PTRACE_CONT, p, 0, 0));
	wait_for(p, "end");
}

/* PEEKSIGINFO: the pending signals of a stopped tracee, its own and its
   process's. */
static void body_nothing(void) {}
static void test_peeksiginfo(void) {
	pid_t p = traced_child(body_nothing);
	kill(p, SIGUSR1);
	union sigval v1 = { .sival_int = 41 }, v2 = { .sival_int = 42 };
	sigqueue(p, SIGRTMIN, v1);
	sigqueue(p, SIGRTMIN, v2);
	syscall(SYS_tgkill, p, p, SIGUSR2);
	siginfo_t si[8];
	struct { unsigned long long off; unsigned flags; int nr; } args = { 0, 1, 8 };
	long n = ptrace(PTRACE_PEEKSIGINFO, p, &args, si);
	printf("shared: %ld\n", n);
	for (long i = 0; i < n; i++) printf("  signo %d code %d value %d\n", si[i].si_signo, si[i].si_code, si[i].si_value.sival_int);
	args.off = 1; args.nr = 1;
	n = ptrace(PTRACE_PEEKSIGINFO, p, &args, si);
	printf("shared from 1, one: %ld signo %d value %d\n", n, si[0].si_signo, si[0].si_value.sival_int);
	args.off = 0; args.flags = 0; args.nr = 8;
	n = ptrace(PTRACE_PEEKSIGINFO, p, &args, si);
	printf("private: %ld signo %d code %d\n", n, si[0].si_signo, si[0].si_code);
	args.flags = 2;
	show("bad flags", ptrace(PTRACE_PEEKSIGINFO, p, &args, si));
	kill(p, SIGKILL);
	wait_for(p, "end");
}

int main(int argc, char **argv) {
	if (argc > 1 && !strcmp(argv[1], "exit7")) return 7;
	const char *only = argc > 1 ? argv[1] : "";
	struct { const char *name; void (*fn)(void); } tests[] = {
		{"syscalls", test_syscalls}, {"memory", test_memory}, {"breakpoint", test_breakpoint},
		{"step", test_step}, {"signals", test_signals}, {"events", test_events},
		{"seize", test_seize}, {"attach", test_attach}, {"regs", test_regs}, {"peeksiginfo", test_peeksiginfo},
	};
	for (size_t i = 0; i < sizeof tests / sizeof tests[0]; i++) {
		if (*only && strcmp(only, tests[i].name)) continue;
		printf("== %s\n", tests[i].name);
		fflush(stdout);
		tests[i].fn();
	}
	return 0;
}
`
