package tests

import "testing"

// Regression tests for what the syscall fuzzer (tests/fuzz) found, each
// named after the seed whose session found it, each a differential test
// of the call as the fuzzer made it.

const fuzzSeed1C = `#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
static void show(const char *what, long r) { printf("%s: %ld %s\n", what, r, r < 0 ? strerror(errno) : ""); }
int main(void) {
	static unsigned long mask[600];
	int mode = -1;
	show("maxnode huge", syscall(SYS_get_mempolicy, &mode, mask, -100L, 0x40, -100L));
	show("maxnode 2^40", syscall(SYS_get_mempolicy, &mode, mask, 1L << 40, 0, 0));
	show("maxnode 0", syscall(SYS_get_mempolicy, &mode, mask, 0L, 0, 0));
	show("bad flags", syscall(SYS_get_mempolicy, &mode, mask, 64L, 0, 0x100));
	mask[1] = 7;
	show("maxnode 129", syscall(SYS_get_mempolicy, &mode, mask, 129L, 0, 0));
	printf("mode %d mask %lx %lx %lx\n", mode, mask[0], mask[1], mask[2]);
	show("maxnode 32768", syscall(SYS_get_mempolicy, &mode, mask, 32768L, 0, 0));
	show("maxnode 32770", syscall(SYS_get_mempolicy, &mode, mask, 32770L, 0, 0));
	return 0;
}
`

// TestFuzzSeed1GetMempolicy: get_mempolicy with a huge maxnode made
// glassbox allocate a slice of that size (a panic); Linux says EINVAL
// past a page of mask.
func TestFuzzSeed1GetMempolicy(t *testing.T) {
	t.Parallel()
	diff(t, []string{compileC(t, "fuzz-seed1", fuzzSeed1C)})
}

const fuzzSeed100C = `#define _GNU_SOURCE
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
int main(void) {
	int sigs[] = {0xff, 0xab, 65, 0};
	for (int i = 0; i < 4; i++) {
		long pid = syscall(SYS_clone, sigs[i], 0, 0, 0, 0);
		if (pid == 0)
			_exit(i + 3);
		int st = 0;
		pid_t w = waitpid(pid, &st, __WALL);
		printf("exit signal %#x: reaped %d, status %d\n", sigs[i], w == pid, WEXITSTATUS(st));
	}
	return 0;
}
`

// TestFuzzSeed100CloneExitSignal: clone with an exit signal past the last
// signal (CSIGNAL's byte is not checked) made glassbox index its handler
// table out of range when the child ended (a panic); Linux signals
// nobody and the child is reaped with __WALL.
func TestFuzzSeed100CloneExitSignal(t *testing.T) {
	t.Parallel()
	native, _ := diff(t, []string{compileC(t, "fuzz-seed100", fuzzSeed100C)})
	expect(t, "native", native, "exit signal 0xff: reaped 1, status 3\nexit signal 0xab: reaped 1, status 4\n"+
		"exit signal 0x41: reaped 1, status 5\nexit signal 0: reaped 1, status 6\n", 0)
}
