package tests

import "testing"

// sigcontextC prints what a handler finds in uc_mcontext: the trap number,
// the error code's user bit and cr2 of a page fault, oldmask, and the
// fpregs pointer with the saved MXCSR.
const sigcontextC = `#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <ucontext.h>
#include <setjmp.h>
static sigjmp_buf jb;
static void handler(int sig, siginfo_t *si, void *p) {
	ucontext_t *uc = p;
	printf("sig %d trapno %lld err %lld cr2 %#llx oldmask %#llx fpregs set %d mxcsr %#x\n", sig,
	       (long long)uc->uc_mcontext.gregs[REG_TRAPNO], (long long)uc->uc_mcontext.gregs[REG_ERR] & 4,
	       (long long)uc->uc_mcontext.gregs[REG_CR2], (long long)uc->uc_mcontext.gregs[REG_OLDMASK],
	       uc->uc_mcontext.fpregs != NULL, uc->uc_mcontext.fpregs ? uc->uc_mcontext.fpregs->mxcsr : 0);
	fflush(stdout);
	if (sig == SIGSEGV)
		siglongjmp(jb, 1);
}
int main(void) {
	struct sigaction sa = {0};
	sa.sa_sigaction = handler;
	sa.sa_flags = SA_SIGINFO;
	sigaction(SIGSEGV, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	sigset_t m;
	sigemptyset(&m);
	sigaddset(&m, SIGUSR2);
	sigprocmask(SIG_BLOCK, &m, NULL);
	raise(SIGUSR1);
	if (!sigsetjmp(jb, 1))
		*(volatile int *)0x1234 = 1;
	return 0;
}
`

// sigFPNullC returns from a handler with uc_mcontext.fpregs set to NULL:
// Linux then starts the FPU afresh.
const sigFPNullC = `#define _GNU_SOURCE
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <ucontext.h>

static void handler(int sig, siginfo_t *si, void *p) {
	(void)sig, (void)si;
	ucontext_t *uc = p;
	uc->uc_mcontext.fpregs = NULL; // "no FP state": the kernel resets it
}

int main(void) {
	struct sigaction sa = {0};
	sa.sa_sigaction = handler;
	sa.sa_flags = SA_SIGINFO;
	sigaction(SIGUSR1, &sa, NULL);
	// Non-default state in x87, SSE and MXCSR before the signal.
	uint16_t cw = 0x27f;
	__asm__ volatile("fldcw %0" ::"m"(cw));
	uint32_t mx = 0x9f80;
	__asm__ volatile("ldmxcsr %0" ::"m"(mx));
	double v = 1234.5;
	__asm__ volatile("movsd %0, %%xmm7" ::"m"(v) : "xmm7");
	raise(SIGUSR1);
	uint16_t cw2;
	uint32_t mx2;
	double v2;
	__asm__ volatile("fnstcw %0" : "=m"(cw2));
	__asm__ volatile("stmxcsr %0" : "=m"(mx2));
	__asm__ volatile("movsd %%xmm7, %0" : "=m"(v2));
	printf("fcw %#x mxcsr %#x xmm7 %g\n", cw2, mx2, v2);
	return 0;
}
`

// TestSigcontextLayout: struct sigcontext as Linux lays it out (fpstate
// at 184, cr2 at 176, oldmask at 168, trapno and err before them; they
// were 8 bytes off, so handlers saw fpregs NULL), and a NULL fpstate on
// rt_sigreturn resets the FPU.
func TestSigcontextLayout(t *testing.T) {
	t.Parallel()
	diff(t, []string{compileC(t, "sigcontext", sigcontextC)})
	diff(t, []string{compileC(t, "sig-fpnull", sigFPNullC)})
}
