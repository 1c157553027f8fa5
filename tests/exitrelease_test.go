package tests

import "testing"

// exitReleaseSrc forks children that each touch most of the sandbox's
// memory and exit; right after each waitpid the parent touches as much
// itself. Under glassbox a child's frames are freed in the background
// after its parent has been told of its exit (kernel/release.go): the
// parent's allocations at the bound must wait for them, not swap or
// OOM-kill.
const exitReleaseSrc = `
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

static int touch(size_t len, int seed, int keep)
{
	unsigned char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return 1;
	for (size_t i = 0; i < len; i += 4096)
		p[i] = (unsigned char)(i / 4096 + seed);
	long sum = 0;
	for (size_t i = 0; i < len; i += 4096)
		sum += p[i];
	if (!keep)
		munmap(p, len);
	return sum == 0;
}

int main(void)
{
	size_t len = 110 << 20;
	for (int round = 0; round < 6; round++) {
		pid_t pid = fork();
		if (pid < 0) {
			perror("fork");
			return 1;
		}
		if (pid == 0)
			_exit(touch(len, round, 1)); /* exits with it mapped */
		int st;
		if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
			printf("round %d: child status %#x\n", round, st);
			return 1;
		}
		if (touch(len, round + 100, 0)) {
			printf("round %d: parent could not touch its memory\n", round);
			return 1;
		}
		printf("round %d ok\n", round);
	}
	return 0;
}
`

// TestExitReleaseAtBound: with --memory 160M (about 127 MiB for guest
// frames), a child's 110 MiB and its parent's next 110 MiB cannot both be
// resident: the parent's must wait for the child's to be freed. The
// output (and exit status) must be the host's, with no OOM kill.
func TestExitReleaseAtBound(t *testing.T) {
	bin := compileC(t, "exitrelease", exitReleaseSrc)
	diffWith(t, diffOpts{gbFlags: []string{"--memory", "160M"}}, []string{bin})
}
