package tests

import (
	"fmt"
	"testing"
)

const pkeyUseC = `#define _GNU_SOURCE
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
static sigjmp_buf jb;
static void segv(int s) { siglongjmp(jb, 1); }
/* Write-protects a buffer the way a JIT does: with a protection key when
   the system has them, else with mprotect. Prints only what the program
   observes, not which way it took. */
int main(void) {
	signal(SIGSEGV, segv);
	char *p = mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	strcpy(p, "data");
	int k = pkey_alloc(0, 0);
	if (k >= 0) {
		pkey_mprotect(p, 4096, PROT_READ | PROT_WRITE, k);
		pkey_set(k, PKEY_DISABLE_WRITE);
	} else {
		mprotect(p, 4096, PROT_READ);
	}
	printf("read: %s\n", p);
	volatile int blocked = 0;
	if (sigsetjmp(jb, 1) == 0)
		p[0] = 'D';
	else
		blocked = 1;
	if (k >= 0)
		pkey_set(k, PKEY_DISABLE_WRITE); /* a handler runs with the default rights, kept by siglongjmp */
	printf("write blocked: %d, data %s\n", blocked, p);
	if (k >= 0) {
		pkey_set(k, 0);
		pkey_free(k);
	} else {
		mprotect(p, 4096, PROT_READ | PROT_WRITE);
	}
	p[0] = 'D';
	printf("after: %s\n", p);
	return 0;
}
`

// TestPkeyFallback: a program that write-protects memory with a protection
// key when pkey_alloc gives one, and with mprotect otherwise (as V8 does),
// sees the same thing natively (keys) and under glassbox (no keys).
func TestPkeyFallback(t *testing.T) {
	t.Parallel()
	prog := compileC(t, "pkey-fallback", pkeyUseC)
	native, _ := diff(t, []string{prog})
	expect(t, "native", native, "read: data\nwrite blocked: 1, data data\nafter: Data\n", 0)
}

const pkeyCallsC = `#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#define R(expr) do { errno = 0; long r_ = (expr); printf("%-52s = %ld %s\n", #expr, r_, r_ < 0 ? strerror(errno) : ""); } while (0)
static long palloc(unsigned long f, unsigned long a) { return syscall(SYS_pkey_alloc, f, a); }
static long pfree(int k) { return syscall(SYS_pkey_free, k); }
static long pmprot(void *p, size_t n, int prot, int k) { return syscall(SYS_pkey_mprotect, p, n, prot, k); }
int main(int argc, char **argv) {
	setvbuf(stdout, NULL, _IONBF, 0);
	if (argc > 1) { R(palloc(0, 0)); R(palloc(0, 0)); return 0; }
	char *p = mmap(0, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	R(palloc(1, 0));
	R(palloc(0, 4));
	R(pfree(0));
	R(pfree(1));
	R(pfree(-1));
	R(pmprot(p, 4096, PROT_READ, 1));
	R(pmprot(p, 4096, PROT_READ, 0));
	R(pmprot(p + 1, 4096, PROT_READ, 1));
	R(pmprot(p, 0, PROT_READ, 1));
	R(pmprot(p, 4096, PROT_READ, -1));
	R(p[0]);
	R(pmprot(p, 4096, PROT_READ | PROT_WRITE, -1));
	p[0] = 1;
	R(palloc(0, 0));
	R(palloc(0, 1));
	pid_t c = fork();
	if (c == 0) { R(palloc(0, 0)); _exit(0); }
	waitpid(c, 0, 0);
	c = fork();
	if (c == 0) { execl("/proc/self/exe", "pkey", "exec", (char *)0); _exit(1); }
	waitpid(c, 0, 0);
	return 0;
}
`

// TestPkeyCalls pins what glassbox answers for protection keys: what an x86
// Linux kernel answers on a CPU without PKU (pkey_alloc EINVAL once per
// address space, then ENOSPC; fork keeps that state, exec starts over;
// pkey_free EINVAL; pkey_mprotect EINVAL for any key after its argument
// checks, mprotect for key -1). See syscalls/sys_pkey.go for why.
//
// Not differential: this host has PKU, so natively pkey_alloc returns keys.
func TestPkeyCalls(t *testing.T) {
	t.Parallel()
	prog := compileC(t, "pkey-calls", pkeyCallsC)
	gb := runGlassbox(t, nil, []string{prog})
	const einval, enospc = "-1 Invalid argument", "-1 No space left on device"
	want := ""
	for _, l := range []struct{ call, res string }{
		{"palloc(1, 0)", einval}, {"palloc(0, 4)", einval},
		{"pfree(0)", einval}, {"pfree(1)", einval}, {"pfree(-1)", einval},
		{"pmprot(p, 4096, PROT_READ, 1)", einval}, {"pmprot(p, 4096, PROT_READ, 0)", einval},
		{"pmprot(p + 1, 4096, PROT_READ, 1)", einval}, {"pmprot(p, 0, PROT_READ, 1)", "0 "},
		{"pmprot(p, 4096, PROT_READ, -1)", "0 "}, {"p[0]", "0 "},
		{"pmprot(p, 4096, PROT_READ | PROT_WRITE, -1)", "0 "},
		{"palloc(0, 0)", einval}, {"palloc(0, 1)", enospc},
		{"palloc(0, 0)", enospc},                           // the forked child
		{"palloc(0, 0)", einval}, {"palloc(0, 0)", enospc}, // after exec
	} {
		want += fmt.Sprintf("%-52s = %s\n", l.call, l.res)
	}
	expect(t, "glassbox", gb, want, 0)
	if gb.Stderr != "" {
		t.Errorf("stderr: %q", gb.Stderr)
	}
}
