package tests

import "testing"

// rusageC: ru_maxrss, ru_utime and ru_minflt of a child, as wait4 and
// waitid report it and as RUSAGE_CHILDREN sums it, and RUSAGE_SELF's
// high-water mark kept across an exec.
const rusageC = `#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>
#include <sys/syscall.h>

// child touches mb MiB, spins for 100 ms of CPU, then exits (or execs
// itself to exit there, when exec is set).
static void child(int mb) {
	volatile char *p = malloc((size_t)mb << 20);
	for (size_t i = 0; i < (size_t)mb << 20; i += 4096)
		p[i] = 1;
	struct rusage ru;
	do getrusage(RUSAGE_SELF, &ru); while (ru.ru_utime.tv_sec * 1000000 + ru.ru_utime.tv_usec < 100000);
	long kib = ru.ru_maxrss;
	printf("child: self maxrss >= %d MiB: %d, thread maxrss same: %d\n", mb, kib >= (long)mb << 10,
	       (getrusage(RUSAGE_THREAD, &ru), ru.ru_maxrss == kib));
	fflush(stdout);
	_exit(5);
}

static void show(const char *who, struct rusage *ru, int mb) {
	long ut = ru->ru_utime.tv_sec * 1000000 + ru->ru_utime.tv_usec;
	printf("%s: utime >= 100 ms: %d, maxrss in [%d, %d) MiB: %d, minflt > 0: %d\n", who, ut >= 100000, mb, mb + 48,
	       ru->ru_maxrss >= (long)mb << 10 && ru->ru_maxrss < (long)(mb + 48) << 10, ru->ru_minflt > 0);
}

int main(int argc, char **argv) {
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc > 1) {
		// After an exec the maxrss of the exec'd-over image stays.
		struct rusage ru;
		getrusage(RUSAGE_SELF, &ru);
		printf("after exec: maxrss kept (>= 96 MiB): %d\n", ru.ru_maxrss >= 96L << 10);
		_exit(6);
	}
	struct rusage ru;
	int st;
	pid_t c = fork();
	if (c == 0)
		child(64);
	pid_t w = wait4(c, &st, 0, &ru);
	printf("wait4: pid ok %d, exit %d\n", w == c, WEXITSTATUS(st));
	show("wait4 rusage", &ru, 64);
	getrusage(RUSAGE_CHILDREN, &ru);
	show("children", &ru, 64);
	c = fork();
	if (c == 0) {
		volatile char *p = malloc(96 << 20);
		for (size_t i = 0; i < 96 << 20; i += 4096)
			p[i] = 2;
		execl("/proc/self/exe", "rusage", "x", (char *)NULL);
		_exit(1);
	}
	siginfo_t si;
	memset(&ru, 0, sizeof ru);
	syscall(SYS_waitid, P_PID, c, &si, WEXITED, &ru);
	printf("waitid: exit %d\n", si.si_status);
	show("waitid rusage", &ru, 96);
	getrusage(RUSAGE_CHILDREN, &ru);
	printf("children maxrss now >= 96 MiB: %d\n", ru.ru_maxrss >= 96L << 10);
	return 0;
}
`

// TestRusageChildren: wait4's and waitid's rusage is the reaped child's
// (it was all zeros), and maxrss is a high-water mark, kept across exec
// and carried to the parent's RUSAGE_CHILDREN, as on Linux.
func TestRusageChildren(t *testing.T) {
	t.Parallel()
	diff(t, []string{compileC(t, "rusage", rusageC)})
}
