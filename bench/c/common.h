/* Shared by the workloads: a monotonic clock in nanoseconds and the one
 * result line the harness parses: "ns=<elapsed> ops=<count> check=<value>". */
#include <stdio.h>
#include <time.h>

static long long now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void report(long long ns, long long ops, unsigned long long check)
{
	printf("ns=%lld ops=%lld check=%llu\n", ns, ops, check);
}
