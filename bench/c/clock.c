/* clock: N clock_gettime(CLOCK_MONOTONIC) calls through libc (the vDSO when
 * the kernel provides one, else a real syscall). */
#include <stdlib.h>
#include "common.h"

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 1000000;
	unsigned long long backwards = 0;
	struct timespec ts, prev = {0, 0};
	long long t0 = now_ns();
	for (long i = 0; i < n; i++) {
		clock_gettime(CLOCK_MONOTONIC, &ts);
		if (ts.tv_sec < prev.tv_sec ||
		    (ts.tv_sec == prev.tv_sec && ts.tv_nsec < prev.tv_nsec))
			backwards++;
		prev = ts;
	}
	long long t1 = now_ns();
	/* check: how often time went backwards; must be 0 everywhere. */
	report(t1 - t0, n, backwards);
	return 0;
}
