/* getpid: N raw getpid syscalls (no libc caching), timed inside the guest. */
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "common.h"

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 100000;
	unsigned long long check = 0;
	long long t0 = now_ns();
	for (long i = 0; i < n; i++)
		check += (unsigned long long)syscall(SYS_getpid);
	long long t1 = now_ns();
	/* The pid differs natively and in the guest; check only that it is stable. */
	report(t1 - t0, n, check == (unsigned long long)n * (unsigned long long)getpid());
	return 0;
}
