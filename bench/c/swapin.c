/* swapin: writes MIB MiB of anonymous memory, then reads one byte per
 * 4 KiB page back and times that pass. Under `glassbox run --memory=256M
 * --swap=2G` most of it has gone to swap, so the timed pass measures
 * swap-in throughput; natively it measures reading resident memory. */
#include <stdlib.h>
#include <sys/mman.h>
#include "common.h"

int main(int argc, char **argv)
{
	long mib = argc > 1 ? atol(argv[1]) : 1024;
	size_t len = (size_t)mib << 20;
	long pages = (long)(len / 4096);
	unsigned char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		perror("mmap");
		return 1;
	}
	for (long i = 0; i < pages; i++)
		p[i * 4096] = (unsigned char)(i * 13);
	unsigned long long check = 0;
	long long t0 = now_ns();
	for (long i = 0; i < pages; i++)
		check += p[i * 4096];
	long long t1 = now_ns();
	report(t1 - t0, (long long)len, check);
	return munmap(p, len) != 0;
}
