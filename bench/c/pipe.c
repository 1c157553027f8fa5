/* pipe: forks; the child writes MIB MiB into a pipe in 64 KiB write()s and
 * the parent reads all of it. Times the transfer, fork to the child's exit. */
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>
#include "common.h"

#define CHUNK (64 * 1024)

static unsigned char buf[CHUNK];

/* child writes chunks whose first byte is the chunk's index; the other
 * bytes are a fixed pattern. */
static int writer(int fd, long chunks)
{
	for (int i = 0; i < CHUNK; i++)
		buf[i] = (unsigned char)(i * 31 + 7);
	for (long k = 0; k < chunks; k++) {
		buf[0] = (unsigned char)k;
		for (size_t off = 0; off < CHUNK;) {
			ssize_t w = write(fd, buf + off, CHUNK - off);
			if (w < 0) {
				perror("write");
				return 1;
			}
			off += (size_t)w;
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	long mib = argc > 1 ? atol(argv[1]) : 1024;
	long chunks = mib * (1024 * 1024 / CHUNK);
	int fds[2];
	if (pipe(fds) != 0) {
		perror("pipe");
		return 1;
	}
	long long t0 = now_ns();
	pid_t pid = fork();
	if (pid < 0) {
		perror("fork");
		return 1;
	}
	if (pid == 0) {
		close(fds[0]);
		_exit(writer(fds[1], chunks));
	}
	close(fds[1]);
	/* check: the sum of the bytes at every 4 KiB offset of the stream. */
	unsigned long long check = 0;
	long long total = 0;
	ssize_t r;
	while ((r = read(fds[0], buf, CHUNK)) > 0) {
		long long first = (total + 4095) / 4096 * 4096;
		for (long long off = first; off < total + r; off += 4096)
			check += buf[off - total];
		total += r;
	}
	if (r < 0) {
		perror("read");
		return 1;
	}
	int status;
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		fprintf(stderr, "pipe: writer failed (status %#x)\n", status);
		return 1;
	}
	long long t1 = now_ns();
	if (total != (long long)chunks * CHUNK) {
		fprintf(stderr, "pipe: read %lld bytes, want %lld\n", total, (long long)chunks * CHUNK);
		return 1;
	}
	report(t1 - t0, total, check);
	return 0;
}
