package tests

import "testing"

// Private read-only mappings of files the guest cannot write (its own
// executable, the host's libc: both on the read-only root), which glassbox
// may have the host map straight from the file: every byte reads as the
// file has it, and whatever changes the mapping (MAP_FIXED over part,
// mprotect, mremap, MADV_DONTNEED, fork, a write through /proc/self/mem)
// behaves as on Linux.

const hostFileMapC = `#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#define PG 4096L

/* Makes the executable itself large enough to map 24 pages of. */
__attribute__((used)) static const char pad[128 * PG] = {1, 2, 3};

static sigjmp_buf jb;
static void onsegv(int s) { siglongjmp(jb, 1); }

/* 1 if reading (or, with w, writing) *p raises SIGSEGV. */
static int faults(volatile char *p, int w) {
	if (sigsetjmp(jb, 1)) return 1;
	if (w) *p = 1; else (void)*p;
	return 0;
}

static int fd;
static char *file; /* the file's bytes, read with pread */
static long size;

/* Whether the len bytes at p are the file's from off. */
static const char *same(const char *p, long off, long len) {
	return memcmp(p, file + off, len) ? "DIFFERENT" : "same";
}

static void check(const char *path, int prot) {
	printf("== %s\n", strrchr(path, '/') + 1);
	fd = open(path, O_RDONLY);
	struct stat st;
	if (fd < 0 || fstat(fd, &st)) { printf("open: %s\n", strerror(errno)); exit(1); }
	size = st.st_size;
	long pages = size / PG;
	if (pages > 256) pages = 256;
	if (pages < 24) { printf("file too small\n"); exit(1); }
	long len = pages * PG;
	file = malloc(size);
	if (pread(fd, file, size, 0) != size) { printf("pread\n"); exit(1); }
	char *p = mmap(0, len, prot, MAP_PRIVATE, fd, 0);
	if (p == MAP_FAILED) { printf("mmap: %s\n", strerror(errno)); exit(1); }
	long offs[] = {0, 1, PG - 1, PG, 3 * PG + 17, 11 * PG + 2049, len / 2, len - 1};
	for (int i = 0; i < 8; i++)
		printf("byte %d: %s\n", i, p[offs[i]] == file[offs[i]] ? "same" : "DIFFERENT");
	printf("whole mapping: %s\n", same(p, 0, len));

	/* Anonymous memory over pages 4 and 5. */
	char *a = mmap(p + 4 * PG, 2 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	int zero = 1;
	for (long i = 0; i < 2 * PG; i++) zero &= a[i] == 0;
	printf("MAP_FIXED anon: %s, zeros %d, around: %s %s\n", a == p + 4 * PG ? "in place" : "moved", zero,
		same(p + 3 * PG, 3 * PG, PG), same(p + 6 * PG, 6 * PG, PG));
	a[5] = 9;
	printf("anon written: %d, file page after: %s\n", a[5], same(p + 6 * PG, 6 * PG, 16));

	/* PROT_NONE over page 8, then back. */
	/* (Every call with side effects is made before the printf that
	   shows its result: argument order is unspecified.) */
	int rc = mprotect(p + 8 * PG, PG, PROT_NONE);
	int f1 = faults(p + 8 * PG + 5, 0), f2 = faults(p + 7 * PG, 0), f3 = faults(p + 9 * PG, 0);
	printf("mprotect none: %d, read faults: %d, neighbours: %d %d\n", rc, f1, f2, f3);
	rc = mprotect(p + 8 * PG, PG, prot);
	printf("mprotect back: %d, page: %s\n", rc, same(p + 8 * PG, 8 * PG, PG));

	/* Writes to a read-only mapping fault, and change nothing. */
	f1 = faults(p + PG + 3, 1);
	printf("write to PROT_READ page faults: %d, page: %s\n", f1, same(p + PG, PG, PG));
	/* Made writable: a private copy. */
	printf("mprotect rw: %d\n", mprotect(p + 10 * PG, PG, PROT_READ | PROT_WRITE));
	p[10 * PG + 1] = ~file[10 * PG + 1];
	printf("private write: %s, rest of page: %s, file: ", p[10 * PG + 1] == file[10 * PG + 1] ? "lost" : "kept",
		same(p + 10 * PG + 2, 10 * PG + 2, PG - 2));
	char c;
	pread(fd, &c, 1, 10 * PG + 1);
	printf("%s\n", c == file[10 * PG + 1] ? "unchanged" : "CHANGED");
	rc = mprotect(p + 10 * PG, PG, prot);
	printf("mprotect ro: %d, private copy kept: %d\n", rc, p[10 * PG + 1] != file[10 * PG + 1]);

	/* MADV_DONTNEED: the file's bytes again, the private copy gone. */
	rc = madvise(p + 10 * PG, 2 * PG, MADV_DONTNEED);
	printf("madvise dontneed: %d, page: %s, next: %s\n", rc, same(p + 10 * PG, 10 * PG, PG), same(p + 11 * PG, 11 * PG, PG));

	/* mremap pages 12-15 elsewhere. */
	char *hole = mmap(0, 8 * PG, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char *q = mremap(p + 12 * PG, 4 * PG, 4 * PG, MREMAP_MAYMOVE | MREMAP_FIXED, hole + 2 * PG);
	if (q != hole + 2 * PG) { printf("mremap: %s\n", strerror(errno)); exit(1); }
	f1 = faults(p + 13 * PG, 0);
	printf("mremap: moved bytes: %s, old place faults: %d\n", same(q, 12 * PG, 4 * PG), f1);
	char *r = mremap(q, 4 * PG, 2 * PG, 0);
	f1 = faults(q + 3 * PG, 0);
	printf("mremap shrink: %s, %s, beyond faults: %d\n", r == q ? "in place" : "moved", same(r, 12 * PG, 2 * PG), f1);

	/* A child reads the mapping as the parent has it. */
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		int bad = memcmp(p, file, 4 * PG) || memcmp(p + 6 * PG, file + 6 * PG, 2 * PG) ||
			memcmp(p + 16 * PG, file + 16 * PG, len - 16 * PG) || a[5] != 9 || !faults(p + 13 * PG, 0);
		_exit(bad);
	}
	int ws;
	waitpid(pid, &ws, 0);
	printf("child read: %s\n", WIFEXITED(ws) && WEXITSTATUS(ws) == 0 ? "same" : "DIFFERENT");

	/* /proc/self/mem reads the mapping; a write through it (as a
	   debugger's) lands in a private copy the mapping then shows. */
	int mem = open("/proc/self/mem", O_RDWR);
	char buf[3 * PG];
	long n = pread(mem, buf, sizeof buf, (long)(p + 16 * PG));
	printf("/proc/self/mem read: %ld, %s\n", n, same(buf, 16 * PG, sizeof buf));
	char x = ~file[17 * PG + 100];
	n = pwrite(mem, &x, 1, (long)(p + 17 * PG + 100));
	printf("/proc/self/mem write: %ld, mapping shows it: %d, rest: %s %s\n", n, p[17 * PG + 100] == x,
		same(p + 17 * PG, 17 * PG, 100), same(p + 17 * PG + 101, 17 * PG + 101, PG - 101));
	pread(fd, &c, 1, 17 * PG + 100);
	printf("file after: %s\n", c == file[17 * PG + 100] ? "unchanged" : "CHANGED");
	close(mem);
	rc = munmap(p + 16 * PG, 4 * PG);
	f1 = faults(p + 18 * PG, 0);
	printf("munmap: %d, then faults: %d\n", rc, f1);
	printf("rest: %s\n", same(p + 20 * PG, 20 * PG, len - 20 * PG));
	/* A second mapping of the file sees the file, not the private copies. */
	char *s = mmap(0, len, PROT_READ, MAP_PRIVATE, fd, 0);
	printf("second mapping: %s\n", same(s, 0, len));
	munmap(s, len);
	munmap(p, len);
	munmap(hole, 8 * PG);
	close(fd);
	free(file);
}

int main(int argc, char **argv) {
	struct sigaction sa = {.sa_handler = onsegv, .sa_flags = SA_NODEFER};
	sigaction(SIGSEGV, &sa, 0);
	check(argv[0], PROT_READ);
	for (int i = 1; i < argc; i++)
		if (access(argv[i], R_OK) == 0) check(argv[i], PROT_READ | PROT_EXEC);
	return 0;
}
`

// TestHostFileMap: read-only private file mappings under every change a
// mapping can go through, static and dynamically linked.
func TestHostFileMap(t *testing.T) {
	for _, flags := range [][]string{nil, {"-dynamic"}} {
		bin := compileC(t, "hostfilemap", hostFileMapC, flags...)
		diff(t, []string{bin, "/usr/lib/x86_64-linux-gnu/libc.so.6", "/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2"})
	}
}
