package tests

import (
	"testing"
)

// mprotectLowerC probes memory after each mprotect, with a SIGSEGV handler
// that reports a refused access: pages the guest has touched (and so the
// host maps) lose and regain rights, copy-on-write pages after fork keep
// copying, code loses PROT_EXEC, and a read-only file mapping loses
// PROT_EXEC and then every right.
const mprotectLowerC = `
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

static sigjmp_buf env;
static void onsegv(int sig) { siglongjmp(env, 1); }

static int rd(volatile char *p) {
	if (sigsetjmp(env, 1)) return -1;
	return *p;
}
static int wr(volatile char *p, char c) {
	if (sigsetjmp(env, 1)) return -1;
	*p = c;
	return 0;
}
static int run(void *code) {
	if (sigsetjmp(env, 1)) return -1;
	return ((int (*)(void))code)();
}
#define PG 4096
#define CHECK(what, got) printf("%-28s %d\n", what, got)

int main(void) {
	struct sigaction sa = {0};
	sa.sa_handler = onsegv;
	sa.sa_flags = SA_NODEFER;
	sigaction(SIGSEGV, &sa, 0);
	setvbuf(stdout, 0, _IONBF, 0);

	char *p = mmap(0, 8 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	for (int i = 0; i < 8; i++) p[i * PG] = 'a' + i;
	mprotect(p + 2 * PG, 4 * PG, PROT_READ);
	CHECK("R: read", rd(p + 3 * PG));
	CHECK("R: write", wr(p + 3 * PG, 'x'));
	CHECK("RW neighbour: write", wr(p + 1 * PG, 'B'));
	CHECK("RW neighbour: write", wr(p + 6 * PG, 'G'));
	mprotect(p, 8 * PG, PROT_NONE);
	CHECK("NONE: read", rd(p + 1 * PG));
	CHECK("NONE: read", rd(p + 4 * PG));
	mprotect(p, 8 * PG, PROT_READ);
	CHECK("NONE->R: read", rd(p + 1 * PG));
	CHECK("NONE->R: write", wr(p + 1 * PG, 'y'));
	mprotect(p, 8 * PG, PROT_READ | PROT_WRITE);
	CHECK("R->RW: write", wr(p + 4 * PG, 'E'));
	CHECK("R->RW: read", rd(p + 4 * PG));

	/* Copy-on-write after fork: the parent's pages are shared with the
	   child; lowering and raising them must not let a write through to
	   the child's copy. */
	pid_t pid = fork();
	if (pid == 0) {
		usleep(100000);
		printf("child sees %c%c%c\n", p[0], p[4 * PG], p[7 * PG]);
		_exit(0);
	}
	CHECK("COW: write", wr(p + 0 * PG, 'Z'));
	mprotect(p, 8 * PG, PROT_READ);
	CHECK("COW R: write", wr(p + 7 * PG, 'x'));
	mprotect(p, 8 * PG, PROT_READ | PROT_WRITE);
	CHECK("COW RW: write", wr(p + 7 * PG, 'Y'));
	CHECK("COW RW: write", wr(p + 4 * PG, 'Q'));
	waitpid(pid, 0, 0);
	printf("parent sees %c%c%c\n", p[0], p[4 * PG], p[7 * PG]);

	/* Code loses exec, keeps read and write. */
	unsigned char *c = mmap(0, PG, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	static const unsigned char ret7[] = {0xb8, 7, 0, 0, 0, 0xc3}; /* mov $7, %eax; ret */
	memcpy(c, ret7, sizeof ret7);
	CHECK("RWX: run", run(c));
	mprotect(c, PG, PROT_READ | PROT_WRITE);
	CHECK("RW: run", run(c));
	CHECK("RW: write", wr((char *)c + 100, 1));
	mprotect(c, PG, PROT_READ | PROT_EXEC);
	CHECK("RX: run", run(c));
	CHECK("RX: write", wr((char *)c + 100, 1));

	/* A read-only file mapping (this program). */
	int fd = open("/proc/self/exe", O_RDONLY);
	char *f = mmap(0, 2 * PG, PROT_READ | PROT_EXEC, MAP_PRIVATE, fd, 0);
	CHECK("file RX: read", rd(f + 1));
	mprotect(f, 2 * PG, PROT_READ);
	CHECK("file R: read", rd(f + 2));
	CHECK("file R: read 2nd", rd(f + PG));
	mprotect(f, PG, PROT_NONE);
	CHECK("file NONE: read", rd(f + 3));
	CHECK("file R: read 2nd", rd(f + PG));
	mprotect(f, PG, PROT_READ);
	CHECK("file NONE->R: read", rd(f + 1));
	return 0;
}
`

// TestMprotectLower: rights taken away by mprotect (RW→R, →NONE, RWX→RW,
// RX→R) are refused on pages the guest had touched and given back by a
// later mprotect, with copy-on-write intact across fork.
func TestMprotectLower(t *testing.T) {
	t.Parallel()
	prog := compileC(t, "mprotectlower", mprotectLowerC)
	native, _ := diff(t, []string{prog})
	if native.Code != 0 || len(native.Stdout) < 500 {
		t.Fatalf("native run: %s", native)
	}
}
