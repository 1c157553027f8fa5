package tests

import "testing"

const pinSourceC = `#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>
#define SZ (1 << 20)
static char *buf;
static int p[2];
static void *writer(void *a) {
	if (write(p[1], buf, SZ) != SZ) printf("short write\n");
	return 0;
}
/* One write(2) of 1 MiB into a pipe blocks once the pipe is full; then the
 * writer's process changes the second half of the buffer. Linux copies
 * from the user's pages as the reader makes room, so the reader gets the
 * new bytes, also when the buffer was shared copy-on-write with a child
 * (or was a private file mapping never written) when write(2) began. */
static void run(const char *what, int forked, int file) {
	if (file) {
		char path[] = "/tmp/pinsrc-XXXXXX";
		int fd = mkstemp(path);
		unlink(path);
		char *a = malloc(SZ);
		memset(a, 'A', SZ);
		write(fd, a, SZ);
		free(a);
		buf = mmap(0, SZ, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
		close(fd);
	} else {
		buf = mmap(0, SZ, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		memset(buf, 'A', SZ);
	}
	int hold[2];
	pipe(hold);
	pid_t pid = -1;
	if (forked && (pid = fork()) == 0) {
		char c;
		read(hold[0], &c, 1);
		_exit(buf[SZ - 1] == 'A' ? 0 : 1); /* the parent's change never reaches the child */
	}
	pipe(p);
	int cap = fcntl(p[1], F_GETPIPE_SZ), queued = 0;
	pthread_t t;
	pthread_create(&t, 0, writer, 0);
	while (queued < cap) {
		ioctl(p[0], FIONREAD, &queued);
		usleep(1000);
	}
	memset(buf + SZ / 2, 'B', SZ / 2);
	char *got = malloc(SZ);
	for (int n = 0; n < SZ;) {
		int r = read(p[0], got + n, SZ - n);
		if (r <= 0) break;
		n += r;
	}
	pthread_join(t, 0);
	long bs = 0;
	for (int i = 0; i < SZ; i++) bs += got[i] == 'B';
	int st = 0;
	if (forked) {
		write(hold[1], "x", 1);
		waitpid(pid, &st, 0);
	}
	printf("%s: %ld new bytes received, child %d\n", what, bs, st);
	free(got);
	munmap(buf, SZ);
	close(p[0]), close(p[1]), close(hold[0]), close(hold[1]);
}
int main(void) {
	run("anonymous", 0, 0);
	run("anonymous, shared with a child", 1, 0);
	run("private file mapping", 0, 1);
	run("private file mapping, shared with a child", 1, 1);
	return 0;
}
`

// TestBlockedWriteSeesLaterChanges: a write(2) blocked on a full pipe sends
// the bytes its buffer holds when the reader makes room, even when the
// buffer's pages were shared copy-on-write (with a fork child, or with the
// file's cache) as the write began and the writer's process has changed
// them since. glassbox used to pin the shared frames and send the old bytes.
func TestBlockedWriteSeesLaterChanges(t *testing.T) {
	t.Parallel()
	prog := compileC(t, "pinsource", pinSourceC, "-dynamic", "-pthread")
	native, _ := diff(t, []string{prog})
	expect(t, "native", native, "anonymous: 524288 new bytes received, child 0\n"+
		"anonymous, shared with a child: 524288 new bytes received, child 0\n"+
		"private file mapping: 524288 new bytes received, child 0\n"+
		"private file mapping, shared with a child: 524288 new bytes received, child 0\n", 0)
}
