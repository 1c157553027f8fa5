package tests

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
)

// Containment of the platforms' stub: a guest that jumps into the stub's
// code with the registers of a host call, or scribbles over the stub's
// shared pages, can only hurt itself. Both platforms run each test (the
// seccomp one where the host has it).

// platformsHere lists the platforms glassbox can run on this host.
func platformsHere(t *testing.T) []string {
	t.Helper()
	out := []string{"ptrace"}
	if r := runGlassbox(t, []string{"--platform=seccomp"}, []string{"/bin/true"}); r.Code == 0 {
		out = append(out, "seccomp")
	} else {
		t.Logf("no seccomp platform here: %s", r.Stderr)
	}
	return out
}

const stubJumpC = `/* stubjump: jump to every syscall instruction of the glassbox stub page
   with the registers of a host mmap of the memory file (fd 0) at TARGET,
   each time in a fresh child. A child that can then read TARGET mapped
   something the guest never asked for: an escape. */
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#define STUB 0x7ff000000000UL
#define TARGET 0x200000000UL

static sigjmp_buf env;
static volatile int probing;
static char zeros[8192] __attribute__((aligned(4096)));

static void probe_target(void)
{
	probing = 1;
	(void)*(volatile char *)TARGET;
	_exit(99); /* TARGET is mapped: escaped */
}

static void on_sig(int s)
{
	if (probing)
		_exit(100 + s); /* TARGET unmapped: contained */
	probe_target();
}

static void on_sig_check(int s) { siglongjmp(env, 1); }

/* flags: MAP_SHARED|MAP_FIXED, with or without MAP_POPULATE (the stub
   has a site for each). */
static void jump(unsigned long pc, unsigned long flags)
{
	register unsigned long r11 __asm__("r11") = pc;
	register unsigned long r10 __asm__("r10") = flags;
	register unsigned long sp __asm__("rcx") = (unsigned long)(zeros + 4096);
	__asm__ volatile("mov %%rcx,%%rsp; mov $9,%%eax; mov $4096,%%esi; mov $3,%%edx;"
			 "xor %%r8d,%%r8d; xor %%r9d,%%r9d; xor %%ebx,%%ebx; xor %%r12d,%%r12d;"
			 "xor %%r13d,%%r13d; xor %%r14d,%%r14d; xor %%r15d,%%r15d; jmp *%%r11"
			 :: "D"(TARGET), "r"(r11), "r"(r10), "r"(sp) : "memory");
	__builtin_unreachable();
}

int main(void)
{
	static unsigned char page[4096];
	signal(SIGSEGV, on_sig_check);
	if (sigsetjmp(env, 1)) {
		printf("no stub page\n");
		return 0;
	}
	memcpy(page, (void *)STUB, sizeof page);
	signal(SIGSEGV, SIG_DFL);
	int sites = 0, escapes = 0;
	for (int i = 0; i + 1 < 4096; i++) {
		if (page[i] != 0x0f || page[i + 1] != 0x05)
			continue;
		sites++;
		for (int f = 0; f < 2; f++) {
			fflush(stdout);
			pid_t pid = fork();
			if (pid == 0) {
				struct sigaction sa;
				memset(&sa, 0, sizeof sa);
				sa.sa_handler = on_sig;
				sa.sa_flags = SA_NODEFER;
				int sigs[] = {SIGSEGV, SIGBUS, SIGILL, SIGTRAP, SIGFPE, SIGSYS};
				for (int k = 0; k < 6; k++)
					sigaction(sigs[k], &sa, 0);
				alarm(5);
				jump(STUB + i, f ? MAP_SHARED | MAP_FIXED | MAP_POPULATE : MAP_SHARED | MAP_FIXED);
			}
			int st;
			waitpid(pid, &st, 0);
			if (WIFEXITED(st) && WEXITSTATUS(st) == 99) {
				printf("ESCAPE: a jump to %#lx (flags %s) mapped the target\n", STUB + i, f ? "+populate" : "plain");
				escapes++;
			}
		}
	}
	printf("%s (%d syscall sites tried)\n", escapes ? "escaped" : "contained", sites);
	return escapes != 0;
}
`

// TestEscapeStubJump: every syscall instruction of the stub page, reached
// with a host mmap of the memory file in the registers (MAP_SHARED|
// MAP_FIXED, and again with MAP_POPULATE), maps nothing.
func TestEscapeStubJump(t *testing.T) {
	t.Parallel()
	prog := compileC(t, "stubjump", stubJumpC)
	want := regexp.MustCompile(`^contained \((\d+) syscall sites tried\)\n$`)
	for _, pl := range platformsHere(t) {
		r := runGlassbox(t, []string{"--platform=" + pl}, []string{prog})
		m := want.FindStringSubmatch(r.Stdout)
		if r.Code != 0 || m == nil {
			t.Errorf("%s: %s", pl, r)
			continue
		}
		var n int
		fmt.Sscan(m[1], &n)
		if n < 2 {
			t.Errorf("%s: only %d syscall sites found in the stub page", pl, n)
		}
	}
}

const scribbleC = `/* scribble: a child overwrites the glassbox stub's control pages (every
   slot: headers, signal frames, state words) from one thread while another
   makes syscalls. Only the child may suffer: the parent and a later child
   run on as usual. */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define SLOTS 0x7ff000200000UL
#define SPAN (8 * 0x8000UL)

static void *scribbler(void *arg)
{
	unsigned long v = (unsigned long)arg;
	for (;;)
		for (unsigned long *p = (unsigned long *)SLOTS; p < (unsigned long *)(SLOTS + SPAN); p++) {
			*p = v;
			v = v * 6364136223846793005UL + 1442695040888963407UL;
		}
	return 0;
}

int main(int argc, char **argv)
{
	for (int round = 0; round < 3; round++) {
		fflush(stdout);
		pid_t pid = fork();
		if (pid == 0) {
			alarm(5);
			pthread_t t;
			pthread_create(&t, 0, scribbler, (void *)(unsigned long)(round + 1));
			for (long i = 0; i < 1000000; i++)
				syscall(SYS_getpid);
			_exit(0);
		}
		int st;
		waitpid(pid, &st, 0);
		pid = fork();
		if (pid == 0) {
			printf("round %d: a sibling runs\n", round);
			fflush(stdout);
			_exit(7);
		}
		waitpid(pid, &st, 0);
		printf("round %d: sibling exit %d\n", round, WEXITSTATUS(st));
	}
	printf("parent done\n");
	return 0;
}
`

// TestEscapeScribbleSlots: a child scribbling over the stub's control
// pages while it makes syscalls hurts only itself (it may be killed or
// held until its alarm); its parent and siblings run on, and glassbox,
// quiet by default, says nothing about it.
func TestEscapeScribbleSlots(t *testing.T) {
	t.Parallel()
	prog := compileC(t, "scribble", scribbleC, "-pthread")
	var want strings.Builder
	for i := 0; i < 3; i++ {
		fmt.Fprintf(&want, "round %d: a sibling runs\nround %d: sibling exit 7\n", i, i)
	}
	want.WriteString("parent done\n")
	for _, pl := range platformsHere(t) {
		r := runGlassbox(t, []string{"--platform=" + pl}, []string{prog})
		if r.Code != 0 || r.Stdout != want.String() || r.Stderr != "" {
			t.Errorf("%s: %s", pl, r)
		}
	}
}
