/* fileread: reads FILE front to back in 64 KiB read() calls, PASSES times. */
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>
#include "common.h"

static char buf[64 * 1024];

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: fileread FILE [PASSES]\n");
		return 2;
	}
	int passes = argc > 2 ? atoi(argv[2]) : 3;
	unsigned long long check = 0;
	long long bytes = 0;
	long long t0 = now_ns();
	for (int p = 0; p < passes; p++) {
		int fd = open(argv[1], O_RDONLY);
		if (fd < 0) {
			perror("open");
			return 1;
		}
		ssize_t r;
		while ((r = read(fd, buf, sizeof buf)) > 0) {
			bytes += r;
			for (ssize_t i = 0; i < r; i += 4096)
				check += (unsigned char)buf[i];
		}
		if (r < 0) {
			perror("read");
			return 1;
		}
		close(fd);
	}
	long long t1 = now_ns();
	report(t1 - t0, bytes, check);
	return 0;
}
