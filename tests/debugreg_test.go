package tests

import (
	"strings"
	"testing"
)

// debugRegSrc sets a tracee's debug registers through PTRACE_POKEUSER and
// prints every answer: the checks of DR0-DR7 writes (addresses, lengths,
// alignment, I/O and long exec breakpoints, the restore after a failed
// DR7 write), a read/write watchpoint, an exec breakpoint that the tracee
// runs past when resumed and when its own SIGTRAP handler returns (RF), a
// watchpoint hit while single-stepping, and
// the user-area words past the general registers.
const debugRegSrc = `#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

#define DR(i) offsetof(struct user, u_debugreg[i])
volatile long watched;

static void show(const char *what, long r) {
	if (r < 0) printf("%s: -1 %s\n", what, strerrorname_np(errno));
	else printf("%s: %ld\n", what, r);
	fflush(stdout);
}
/* SETDR writes v to DRi and prints v as written in the source
   (addresses differ between runs). */
#define SETDR(p, i, v) setdr(p, i, v, #v)
static void setdr(pid_t p, int i, unsigned long v, const char *name) {
	char what[64];
	snprintf(what, sizeof what, "dr%d = %s", i, name);
	show(what, ptrace(PTRACE_POKEUSER, p, DR(i), v));
}
static void peek(pid_t p, const char *what, long off) {
	errno = 0;
	long v = ptrace(PTRACE_PEEKUSER, p, off, 0);
	if (errno) printf("%s: -1 %s\n", what, strerrorname_np(errno));
	else printf("%s: %#lx\n", what, v);
}
static void stop(pid_t p, const char *what) {
	int st;
	if (waitpid(p, &st, 0) != p) { printf("%s: waitpid: %s\n", what, strerrorname_np(errno)); exit(1); }
	if (!WIFSTOPPED(st)) { printf("%s: status %#x\n", what, st); exit(1); }
	siginfo_t si;
	ptrace(PTRACE_GETSIGINFO, p, 0, &si);
	errno = 0;
	long dr6 = ptrace(PTRACE_PEEKUSER, p, DR(6), 0);
	printf("%s: sig %d code %d dr6 %#lx\n", what, WSTOPSIG(st), si.si_code, dr6);
}

static void __attribute__((noinline)) target(void) { __asm__ volatile("" ::: "memory"); }
static volatile int traps;
static void on_trap(int s) { (void)s; traps++; }
static void body(void) {
	signal(SIGTRAP, on_trap);
	watched = 1;
	long x = watched;
	target();
	target();
	watched = x + 1;
	printf("child: watched %ld, %d SIGTRAP handled\n", watched, traps);
	fflush(stdout);
}

int main(void) {
	pid_t p = fork();
	if (p == 0) {
		ptrace(PTRACE_TRACEME, 0, 0, 0);
		raise(SIGSTOP);
		body();
		_exit(0);
	}
	int st;
	waitpid(p, &st, 0);
	unsigned long w = (unsigned long)&watched, t = (unsigned long)target;
	peek(p, "dr0", DR(0));
	peek(p, "dr4", DR(4));
	peek(p, "dr6", DR(6));
	peek(p, "dr7", DR(7));
	peek(p, "past dr7", DR(7) + 8);
	show("poke dr4", ptrace(PTRACE_POKEUSER, p, DR(4), 0));
	show("poke dr5", ptrace(PTRACE_POKEUSER, p, DR(5), 0));
	show("poke past dr7", ptrace(PTRACE_POKEUSER, p, DR(7) + 8, 0));
	show("poke u_tsize", ptrace(PTRACE_POKEUSER, p, offsetof(struct user, u_tsize), 0));
	peek(p, "u_tsize", offsetof(struct user, u_tsize));
	SETDR(p, 0, 0xffff800000000000);
	SETDR(p, 0, -1);
	SETDR(p, 0, w + 1);
	SETDR(p, 7, 1 | 1 << 16 | 2 << 18); /* misaligned for 8 bytes */
	SETDR(p, 7, 1 | 2 << 16); /* I/O breakpoint */
	SETDR(p, 7, 1 | 2 << 18); /* 8-byte exec breakpoint */
	SETDR(p, 0, w + 3);
	SETDR(p, 7, 1 << 16 | 1 << 18); /* disabled, still checked */
	SETDR(p, 0, w);
	SETDR(p, 7, 0x5555000000000000); /* reserved bits */
	peek(p, "dr7", DR(7));
	SETDR(p, 7, 3 << 2); /* slot 1: made at address 0 */
	peek(p, "dr1", DR(1));
	SETDR(p, 7, 3 << 2 | 3 << 20 | 2 << 22 | 3);
	SETDR(p, 7, 3 << 2 | 2 << 20); /* fails: slots are restored */
	SETDR(p, 1, 4); /* still an 8-byte slot */
	peek(p, "dr7", DR(7));
	printf("dr0 is watched: %d\n", (unsigned long)ptrace(PTRACE_PEEKUSER, p, DR(0), 0) == w);

	/* A read/write watchpoint: the store, then the load. */
	SETDR(p, 7, 1 | 3 << 16 | 2 << 18);
	ptrace(PTRACE_CONT, p, 0, 0);
	stop(p, "store");
	SETDR(p, 6, 0);
	peek(p, "dr6 cleared", DR(6));
	ptrace(PTRACE_CONT, p, 0, 0);
	stop(p, "load");

	/* An exec breakpoint, twice: RF lets the tracee past it, when its
	   own SIGTRAP handler returns and when it is resumed. */
	SETDR(p, 7, 0);
	SETDR(p, 1, t);
	SETDR(p, 7, 1 << 2);
	ptrace(PTRACE_CONT, p, 0, 0);
	stop(p, "exec");
	struct user_regs_struct r;
	ptrace(PTRACE_GETREGS, p, 0, &r);
	printf("at target: %d rf %lld\n", r.rip == t, (r.eflags >> 16) & 1);
	ptrace(PTRACE_CONT, p, 0, SIGTRAP);
	stop(p, "exec again");
	ptrace(PTRACE_GETREGS, p, 0, &r);
	printf("at target: %d\n", r.rip == t);

	/* Single steps up to the watched store: one trap, BS and B0. */
	SETDR(p, 7, 0);
	SETDR(p, 0, w);
	SETDR(p, 7, 1 | 1 << 16 | 2 << 18);
	int steps = 0, hit = 0;
	while (steps < 100000 && !hit) {
		ptrace(PTRACE_SINGLESTEP, p, 0, 0);
		waitpid(p, &st, 0);
		if (!WIFSTOPPED(st)) break;
		steps++;
		long dr6 = ptrace(PTRACE_PEEKUSER, p, DR(6), 0);
		if (steps == 1) printf("first step dr6 %#lx\n", dr6);
		if (dr6 & 0xf) {
			siginfo_t si;
			ptrace(PTRACE_GETSIGINFO, p, 0, &si);
			printf("step hit: code %d dr6 %#lx\n", si.si_code, dr6);
			hit = 1;
		}
	}
	printf("steps %d\n", steps);
	SETDR(p, 7, 0);
	ptrace(PTRACE_CONT, p, 0, 0);
	waitpid(p, &st, 0);
	printf("end: %#x\n", st);
	return 0;
}
`

// TestPtraceDebugRegs: the debug registers in the user area answer as on
// Linux (see debugRegSrc).
func TestPtraceDebugRegs(t *testing.T) {
	t.Parallel()
	bin := compileC(t, "debugreg", debugRegSrc)
	native, _ := diff(t, []string{bin})
	for _, want := range []string{"store: sig 5 code 4 dr6 0xffff0ff1", "load: sig 5 code 4 dr6 0xffff0ff1",
		"exec: sig 5 code 4 dr6 0xffff0ff2", "at target: 1 rf 1", "step hit: code 2 dr6 0xffff4ff1"} {
		if !strings.Contains(native.Stdout, want) {
			t.Errorf("native run lacks %q:\n%s", want, native.Stdout)
		}
	}
}
