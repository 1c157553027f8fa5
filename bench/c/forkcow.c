/* forkcow: writes MIB MiB of anonymous memory, forks, and the child writes
 * one byte in every 4 KiB page (each a copy-on-write fault) and exits; the
 * parent waits. Times fork to the child's reaping. */
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>
#include "common.h"

int main(int argc, char **argv)
{
	long mib = argc > 1 ? atol(argv[1]) : 256;
	size_t len = (size_t)mib << 20;
	long pages = (long)(len / 4096);
	unsigned char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		perror("mmap");
		return 1;
	}
	for (long i = 0; i < pages; i++)
		p[i * 4096] = (unsigned char)(i * 13);
	long long t0 = now_ns();
	pid_t pid = fork();
	if (pid < 0) {
		perror("fork");
		return 1;
	}
	if (pid == 0) {
		/* The child sees the parent's bytes, then overwrites them. */
		int bad = 0;
		for (long i = 0; i < pages; i++) {
			bad |= p[i * 4096] != (unsigned char)(i * 13);
			p[i * 4096] = (unsigned char)(i * 7 + 1);
		}
		_exit(bad);
	}
	int status;
	if (waitpid(pid, &status, 0) != pid) {
		perror("waitpid");
		return 1;
	}
	long long t1 = now_ns();
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		fprintf(stderr, "forkcow: child failed (status %#x)\n", status);
		return 1;
	}
	/* check: the parent's pages are its own, untouched by the child's writes. */
	unsigned long long check = 0;
	for (long i = 0; i < pages; i++)
		check += p[i * 4096];
	report(t1 - t0, pages, check);
	return munmap(p, len) != 0;
}
