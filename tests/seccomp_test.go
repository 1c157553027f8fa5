package tests

import (
	"os/exec"
	"regexp"
	"strings"
	"testing"
)

// seccompSrc installs seccomp filters and strict mode in forked children
// and prints what each call answered and how each child ended: the
// checks of seccomp(2) and prctl(PR_SET_SECCOMP) in Linux's order, every
// filter action (ERRNO with its data, TRAP with SIGSYS's siginfo and the
// rolled-back rax, TRACE without a tracer and with one, KILL_PROCESS, KILL_THREAD with
// and without other threads, an unknown action), the newest filter
// winning between equal actions, inheritance across fork, vfork, new
// threads and exec,
// /proc's Seccomp lines, TSYNC and its refusal, strict mode.
const seccompSrc = `#define _GNU_SOURCE
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/user.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <ucontext.h>
#include <unistd.h>

#define NR offsetof(struct seccomp_data, nr)
#define ARG0 offsetof(struct seccomp_data, args[0])
#define LD(k) BPF_STMT(BPF_LD | BPF_W | BPF_ABS, k)
#define JEQ(v, t, f) BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, v, t, f)
#define RET(v) BPF_STMT(BPF_RET | BPF_K, v)

static long sc(unsigned op, unsigned flags, void *args) { return syscall(SYS_seccomp, op, flags, args); }
static void show(const char *what, long r) {
	if (r < 0) printf("%s: -1 %s\n", what, strerrorname_np(errno));
	else printf("%s: %ld\n", what, r);
	fflush(stdout);
}
/* install: a filter answering action for call nr (and ALLOW otherwise). */
static long install(unsigned flags, int nr, unsigned action) {
	struct sock_filter f[] = { LD(NR), JEQ(nr, 0, 1), RET(action), RET(SECCOMP_RET_ALLOW) };
	struct sock_fprog p = { 4, f };
	return sc(SECCOMP_SET_MODE_FILTER, flags, &p);
}
static void status_lines(void) {
	FILE *f = fopen("/proc/self/status", "r"); char l[256];
	while (fgets(l, sizeof l, f)) if (!strncmp(l, "Seccomp", 7) || !strncmp(l, "NoNewPrivs", 10)) fputs(l, stdout);
	fclose(f); fflush(stdout);
}
static void child_status(const char *what, int st) {
	if (WIFSIGNALED(st)) printf("%s: killed by signal %d\n", what, WTERMSIG(st));
	else printf("%s: exit %d\n", what, WEXITSTATUS(st));
	fflush(stdout);
}
#define CHILD(what, ...) do { pid_t p_ = fork(); if (p_ == 0) { __VA_ARGS__; _exit(0); } int st_; waitpid(p_, &st_, 0); child_status(what, st_); } while (0)

static void on_sys(int sig, siginfo_t *si, void *uc_) {
	ucontext_t *uc = uc_;
	printf("SIGSYS code %d errno %d syscall %d arch %#x addr-is-rip %d rax %lld\n", si->si_code, si->si_errno,
	       si->si_syscall, si->si_arch, (unsigned long)si->si_call_addr == (unsigned long)uc->uc_mcontext.gregs[REG_RIP],
	       (long long)uc->uc_mcontext.gregs[REG_RAX]);
	fflush(stdout);
}
static void *spin(void *a) { (void)a; for (;;) pause(); return 0; }
static void *getppid_thread(void *a) { (void)a; show("thread getppid", syscall(SYS_getppid)); return 0; }
static void *killed_thread(void *a) { (void)a; syscall(SYS_getppid); printf("not reached\n"); return 0; }
static pid_t other_tid;
static void *own_filter(void *a) {
	(void)a; other_tid = gettid();
	install(0, SYS_getuid, SECCOMP_RET_ERRNO | 3);
	for (;;) pause();
	return 0;
}

int main(void) {
	struct rlimit r0 = {0, 0}; setrlimit(RLIMIT_CORE, &r0);
	struct sock_filter bad[] = { LD(2), RET(SECCOMP_RET_ALLOW) };
	struct sock_fprog badp = { 2, bad }, empty = { 0, bad };
	show("bad op", sc(99, 0, 0));
	show("strict with flags", sc(SECCOMP_SET_MODE_STRICT, 1, 0));
	show("filter bad pointer", sc(SECCOMP_SET_MODE_FILTER, 0, (void *)8));
	show("filter len 0", sc(SECCOMP_SET_MODE_FILTER, 0, &empty));
	show("filter unaligned load", sc(SECCOMP_SET_MODE_FILTER, 0, &badp));
	show("filter unknown flag", sc(SECCOMP_SET_MODE_FILTER, 1 << 10, &badp));
	unsigned acts[] = { SECCOMP_RET_KILL_PROCESS, SECCOMP_RET_KILL_THREAD, SECCOMP_RET_TRAP, SECCOMP_RET_ERRNO,
		SECCOMP_RET_TRACE, SECCOMP_RET_LOG, SECCOMP_RET_ALLOW, 0x12340000 };
	for (unsigned i = 0; i < sizeof acts / sizeof *acts; i++) {
		char w[64]; snprintf(w, sizeof w, "action avail %#x", acts[i]);
		show(w, sc(SECCOMP_GET_ACTION_AVAIL, 0, &acts[i]));
	}
	show("action avail bad pointer", sc(SECCOMP_GET_ACTION_AVAIL, 0, (void *)8));
	show("get seccomp", prctl(PR_GET_SECCOMP));
	CHILD("unprivileged without no_new_privs", {
		setgid(65534); setuid(65534);
		show("install", install(0, SYS_getppid, SECCOMP_RET_ERRNO | EACCES));
		prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
		show("install with nnp", install(0, SYS_getppid, SECCOMP_RET_ERRNO | EACCES));
		show("getppid", getppid() == getppid() ? syscall(SYS_getppid) : 0);
	});
	CHILD("errno, inheritance, status, exec", {
		show("install", install(0, SYS_getppid, SECCOMP_RET_ERRNO | EACCES));
		show("getppid", syscall(SYS_getppid));
		show("get seccomp", prctl(PR_GET_SECCOMP));
		status_lines();
		CHILD("forked child", { show("child getppid", syscall(SYS_getppid)); status_lines(); });
		show("second install", install(0, SYS_getppid, SECCOMP_RET_ERRNO | 7));
		show("getppid (newest of equal actions wins)", syscall(SYS_getppid));
		show("third install", install(0, SYS_getppid, SECCOMP_RET_ERRNO | 5000));
		show("getppid (errno capped)", syscall(SYS_getppid));
		show("strict after filter", sc(SECCOMP_SET_MODE_STRICT, 0, 0));
		fflush(stdout);
		execl("/bin/sh", "sh", "-c", "grep Seccomp /proc/self/status", (char *)0);
	});
	CHILD("arguments and errno 0", {
		struct sock_filter f[] = { LD(NR), JEQ(SYS_dup, 0, 5), LD(ARG0), JEQ(1234, 0, 1), RET(SECCOMP_RET_ERRNO | 42),
			JEQ(4321, 0, 1), RET(SECCOMP_RET_ERRNO | 0), RET(SECCOMP_RET_ALLOW) };
		struct sock_fprog p = { sizeof f / sizeof *f, f };
		show("install", sc(SECCOMP_SET_MODE_FILTER, 0, &p));
		show("dup(1234)", dup(1234)); show("dup(4321)", dup(4321)); show("dup(5000)", dup(5000));
	});
	CHILD("trap", {
		struct sigaction sa = { .sa_sigaction = on_sys, .sa_flags = SA_SIGINFO };
		sigaction(SIGSYS, &sa, 0);
		show("install", install(0, SYS_uname, SECCOMP_RET_TRAP | 77));
		struct utsname u;
		show("uname after trap", syscall(SYS_uname, &u));
		sigset_t s; sigemptyset(&s); sigaddset(&s, SIGSYS); sigprocmask(SIG_BLOCK, &s, 0);
		show("uname with SIGSYS blocked", syscall(SYS_uname, &u));
	});
	CHILD("trace without tracer", {
		show("install", install(0, SYS_getppid, SECCOMP_RET_TRACE));
		show("getppid", syscall(SYS_getppid));
	});
	CHILD("trace with a tracer", {
		pid_t c = fork();
		if (c == 0) {
			ptrace(PTRACE_TRACEME, 0, 0, 0);
			raise(SIGSTOP);
			install(0, SYS_getppid, SECCOMP_RET_TRACE | 0x42);
			show("traced getppid (the tracer skipped it)", syscall(SYS_getppid));
			show("traced getppid (the tracer let it run)", syscall(SYS_getppid) > 0);
			_exit(0);
		}
		int st;
		waitpid(c, &st, 0);
		ptrace(PTRACE_SETOPTIONS, c, 0, PTRACE_O_TRACESECCOMP);
		ptrace(PTRACE_CONT, c, 0, 0);
		waitpid(c, &st, 0);
		unsigned long msg = 0;
		ptrace(PTRACE_GETEVENTMSG, c, 0, &msg);
		printf("seccomp stop %#x message %#lx\n", st >> 8, msg);
		struct user_regs_struct r;
		ptrace(PTRACE_GETREGS, c, 0, &r);
		r.orig_rax = -1; r.rax = 99;
		ptrace(PTRACE_SETREGS, c, 0, &r);
		ptrace(PTRACE_CONT, c, 0, 0);
		waitpid(c, &st, 0);
		printf("seccomp stop %#x\n", st >> 8);
		fflush(stdout);
		ptrace(PTRACE_CONT, c, 0, 0);
		waitpid(c, &st, 0);
		child_status("traced child", st);
	});
	CHILD("vfork child and new thread", {
		show("install", install(0, SYS_getppid, SECCOMP_RET_ERRNO | EACCES));
		pid_t v = vfork();
		if (v == 0) _exit(syscall(SYS_getppid) == -1 && errno == EACCES ? 1 : 2);
		int st;
		waitpid(v, &st, 0);
		child_status("vfork child denied", st);
		pthread_t th; pthread_create(&th, 0, getppid_thread, 0); pthread_join(th, 0);
	});
	CHILD("kill process", {
		show("install", install(0, SYS_getppid, SECCOMP_RET_KILL_PROCESS));
		syscall(SYS_getppid);
		printf("not reached\n");
	});
	CHILD("kill thread", {
		pthread_t th, sp; pthread_create(&sp, 0, spin, 0);
		show("install", install(SECCOMP_FILTER_FLAG_TSYNC, SYS_getppid, SECCOMP_RET_KILL_THREAD));
		pthread_create(&th, 0, killed_thread, 0);
		pthread_join(th, 0);
		printf("main thread goes on\n"); fflush(stdout);
	});
	CHILD("kill the only thread", {
		show("install", install(0, SYS_getppid, SECCOMP_RET_KILL_THREAD));
		syscall(SYS_getppid);
		printf("not reached\n");
	});
	CHILD("unknown action", {
		show("install", install(0, SYS_getppid, 0x12340000));
		syscall(SYS_getppid);
		printf("not reached\n");
	});
	CHILD("tsync", {
		pthread_t th; pthread_create(&th, 0, spin, 0);
		show("install tsync", install(SECCOMP_FILTER_FLAG_TSYNC, SYS_getppid, SECCOMP_RET_ERRNO | EACCES));
		pthread_t t2; pthread_create(&t2, 0, getppid_thread, 0); pthread_join(t2, 0);
		pthread_t o; pthread_create(&o, 0, own_filter, 0);
		while (!other_tid) usleep(1000);
		usleep(20000);
		long r = install(SECCOMP_FILTER_FLAG_TSYNC, SYS_getpid, SECCOMP_RET_ERRNO | 1);
		printf("tsync against a thread's own filter names it: %d\n", r == other_tid);
		show("tsync esrch", install(SECCOMP_FILTER_FLAG_TSYNC | SECCOMP_FILTER_FLAG_TSYNC_ESRCH, SYS_getpid, SECCOMP_RET_ERRNO | 1));
	});
	CHILD("strict", {
		show("prctl strict", prctl(PR_SET_SECCOMP, SECCOMP_MODE_STRICT, 0, 0, 0));
		write(1, "write works\n", 12);
		syscall(SYS_getpid);
		write(1, "not reached\n", 12);
	});
	CHILD("strict exit", {
		prctl(PR_SET_SECCOMP, SECCOMP_MODE_STRICT, 0, 0, 0);
		syscall(SYS_exit, 3);
	});
	show("prctl bad mode", prctl(PR_SET_SECCOMP, 7, 0, 0, 0));
	return 0;
}
`

// TestSeccompFilters: the guest's own seccomp filters are enforced as
// Linux enforces them (glassbox answers every call, so its dispatcher
// runs the filters).
func TestSeccompFilters(t *testing.T) {
	t.Parallel()
	bin := compileC(t, "seccomp", seccompSrc, "-pthread")
	native, _ := diff(t, []string{bin})
	for _, want := range []string{"getppid: -1 EACCES", "SIGSYS code 1 errno 77 syscall 63", "kill process: killed by signal 31",
		"main thread goes on", "strict: killed by signal 9", "Seccomp_filters:\t3",
		"seccomp stop 0x705 message 0x42", "traced getppid (the tracer skipped it): 99", "vfork child denied: exit 1"} {
		if !strings.Contains(native.Stdout, want) {
			t.Errorf("native run lacks %q:\n%s", want, native.Stdout)
		}
	}
	tr := runGlassbox(t, []string{"--trace=signal"}, []string{bin})
	for _, want := range []string{"seccomp: getppid: ERRNO 13", "seccomp: uname: TRAP: SIGSYS", "seccomp: getpid: strict mode: SIGKILL"} {
		if !strings.Contains(tr.Stderr, want) {
			t.Errorf("--trace=signal lacks %q", want)
		}
	}
}

// TestManSandbox: man-db confines the helpers it runs (its decompressor,
// groff) with seccomp filters of its own, through libseccomp; inside
// glassbox the filters are installed, enforced, and man prints what it
// prints on the host.
func TestManSandbox(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("man"); err != nil {
		t.Skip("man not installed (scripts/setup installs it: apt-get install man-db)")
	}
	argv := []string{"man", "-P", "cat", "ls"}
	opts := diffOpts{env: []string{"MANWIDTH=80"}}
	native, _ := diffWith(t, opts, argv)
	if native.Code != 0 || !strings.Contains(native.Stdout, "ls - list directory contents") {
		t.Errorf("native man looks wrong: %s", native)
	}
	tr := runGlassbox(t, []string{"--trace=syscall", "--env", "MANWIDTH=80"}, argv)
	installed := regexp.MustCompile(`seccomp#317\(0x1, (NULL|0x[0-9a-f]+), 0x[0-9a-f]+\) = 0 `)
	if n := len(installed.FindAllString(tr.Stderr, -1)); n == 0 {
		t.Errorf("man installed no seccomp filter under glassbox:\n%s", grepLines(tr.Stderr, "seccomp#"))
	}
	if tr.Stdout != native.Stdout {
		t.Errorf("man's output under --trace differs from native")
	}
}
