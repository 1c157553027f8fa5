/* pagetouch: maps MIB MiB of anonymous memory and writes one byte per 4 KiB page. */
#include <stdlib.h>
#include <sys/mman.h>
#include "common.h"

int main(int argc, char **argv)
{
	long mib = argc > 1 ? atol(argv[1]) : 256;
	size_t len = (size_t)mib << 20;
	long pages = (long)(len / 4096);
	char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		perror("mmap");
		return 1;
	}
	long long t0 = now_ns();
	for (long i = 0; i < pages; i++)
		p[i * 4096] = (char)i;
	long long t1 = now_ns();
	unsigned long long check = 0;
	for (long i = 0; i < pages; i++)
		check += (unsigned char)p[i * 4096];
	report(t1 - t0, pages, check);
	return munmap(p, len) != 0;
}
