package tests

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const mmapPrivateC = `
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/stat.h>

static unsigned long sum(const unsigned char *p, size_t n) {
	unsigned long s = 0;
	for (size_t i = 0; i < n; i++) s = s * 31 + p[i];
	return s;
}

static unsigned char *readall(const char *path, size_t n) {
	unsigned char *b = malloc(n + 1);
	int fd = open(path, O_RDONLY);
	if (fd < 0) { perror("open"); exit(10); }
	size_t got = 0;
	for (;;) {
		ssize_t r = read(fd, b + got, n + 1 - got);
		if (r < 0) { perror("read"); exit(11); }
		if (r == 0) break;
		got += r;
	}
	close(fd);
	if (got != n) { printf("read %zu bytes, want %zu\n", got, n); exit(12); }
	return b;
}

int main(int argc, char **argv) {
	if (argc != 2) return 2;
	int fd = open(argv[1], O_RDONLY);
	if (fd < 0) { perror("open"); return 3; }
	struct stat st;
	if (fstat(fd, &st) < 0) { perror("fstat"); return 4; }
	size_t n = st.st_size;
	printf("size=%zu\n", n);

	unsigned char *orig = readall(argv[1], n);
	unsigned long s0 = sum(orig, n);
	printf("read sum=%lu\n", s0);

	/* Writable private mapping of a read-only fd is allowed. */
	size_t pg = sysconf(_SC_PAGESIZE), len = (n + pg - 1) / pg * pg;
	unsigned char *m = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	if (m == MAP_FAILED) { perror("mmap"); return 5; }
	printf("map equals read: %d\n", memcmp(m, orig, n) == 0);
	int zero = 1;
	for (size_t i = n; i < len; i++) zero &= m[i] == 0;
	printf("tail of last page zero: %d\n", zero);

	for (size_t i = 0; i < n; i++) m[i] ^= 0x5a;
	printf("modified map sum=%lu\n", sum(m, n));
	m[n] = 1; /* the tail of the last page is writable too */

	/* The file is unchanged, via read() on a new fd and on the old one. */
	unsigned char *again = readall(argv[1], n);
	printf("file unchanged after write: %d (sum=%lu)\n", memcmp(again, orig, n) == 0, sum(again, n));
	unsigned char *b = malloc(n);
	ssize_t r = pread(fd, b, n, 0);
	printf("pread %zd equal: %d\n", r, r == (ssize_t)n && memcmp(b, orig, n) == 0);

	/* A second private mapping sees the file, not the first one's changes. */
	unsigned char *m2 = mmap(NULL, n, PROT_READ, MAP_PRIVATE, fd, 0);
	if (m2 == MAP_FAILED) { perror("mmap 2"); return 6; }
	printf("second map equals file: %d\n", memcmp(m2, orig, n) == 0);
	printf("first map still modified: %d\n", m[0] == (orig[0] ^ 0x5a) && m[n - 1] == (orig[n - 1] ^ 0x5a));
	if (munmap(m, n) || munmap(m2, n)) { perror("munmap"); return 7; }

	/* An offset mapping (page 1 onwards). */
	unsigned char *m3 = mmap(NULL, n - pg, PROT_READ, MAP_PRIVATE, fd, pg);
	if (m3 == MAP_FAILED) { perror("mmap 3"); return 8; }
	printf("offset map sum=%lu equal: %d\n", sum(m3, n - pg), memcmp(m3, orig + pg, n - pg) == 0);
	close(fd);
	printf("map after close: %d\n", m3[0] == orig[pg]);
	return 0;
}
`

// TestMmapPrivateFile: reading a file, mapping it MAP_PRIVATE, writing the
// private copy: the file (on disk and via read()) stays unchanged, a new
// mapping sees the original, the tail of the last page reads as zeros.
func TestMmapPrivateFile(t *testing.T) {
	t.Parallel()
	prog := compileC(t, "mmapprivate", mmapPrivateC)
	data := make([]byte, 3*4096+123) // not a whole number of pages
	for i := range data {
		data[i] = byte(i*7 + i/4096)
	}
	path := filepath.Join(t.TempDir(), "data.bin")
	writeFile(t, path, string(data), 0o444)

	native, _ := diff(t, []string{prog, path})
	// Every boolean check prints ": 1" when it holds.
	if native.Code != 0 || strings.Contains(native.Stdout, ": 0") ||
		strings.Count(native.Stdout, ": 1") != 8 {
		t.Errorf("native run unexpected:\n%s", native)
	}
	if got, err := os.ReadFile(path); err != nil || string(got) != string(data) {
		t.Errorf("file on the host changed (err %v)", err)
	}
}

const brkC = `
#include <stdio.h>
#include <stdint.h>
#include <unistd.h>
#include <sys/mman.h>

#define MiB (1024UL * 1024)

int main(void) {
	/* brk: grow in 1 MiB steps to 64 MiB, write every page. */
	char *start = sbrk(0);
	int contiguous = 1;
	for (int i = 0; i < 64; i++) {
		char *p = sbrk(MiB);
		if (p == (void *)-1) { perror("sbrk"); return 1; }
		contiguous &= p == start + i * MiB;
		for (unsigned long off = 0; off < MiB; off += 4096)
			p[off] = (char)(i + off / 4096);
	}
	char *end = sbrk(0);
	uint64_t bsum = 0;
	for (unsigned long off = 0; off < 64 * MiB; off += 4096)
		bsum += (unsigned char)start[off];
	/* untouched bytes of the heap are zero */
	uint64_t rest = 0;
	for (unsigned long off = 1; off < 64 * MiB; off += 4096)
		rest += (unsigned char)start[off];
	/* shrink by half, then grow again: the regrown half reads as zeros */
	int shrink = sbrk(-32 * (long)MiB) != (void *)-1 && sbrk(0) == start + 32 * MiB;
	char *again = sbrk(32 * MiB);
	uint64_t regrown = 0;
	for (unsigned long off = 0; off < 32 * MiB; off += 4096)
		regrown += (unsigned char)again[off];

	/* 256 MiB anonymous mapping, one byte per page. */
	size_t len = 256 * MiB;
	unsigned char *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED) { perror("mmap"); return 2; }
	uint64_t zero = 0;
	for (size_t off = 0; off < len; off += 4096) zero += m[off + 17];
	for (size_t off = 0; off < len; off += 4096) m[off] = (unsigned char)(off / 4096 * 13);
	uint64_t msum = 0;
	for (size_t off = 0; off < len; off += 4096) msum += m[off];
	int um = munmap(m, len);

	printf("brk contiguous=%d grew=%ld MiB\n", contiguous, (long)(end - start) / (long)MiB);
	printf("brk sum=%llu untouched=%llu\n", (unsigned long long)bsum, (unsigned long long)rest);
	printf("shrink ok=%d regrown at=%ld regrown sum=%llu\n", shrink,
	       (long)(again - start) / (long)MiB, (unsigned long long)regrown);
	printf("mmap fresh sum=%llu sum=%llu munmap=%d\n", (unsigned long long)zero,
	       (unsigned long long)msum, um);
	return 0;
}
`

// TestBrkAndBigMmap: 64 MiB of heap grown with sbrk, and a 256 MiB
// anonymous mapping, touched page by page.
func TestBrkAndBigMmap(t *testing.T) {
	t.Parallel()
	prog := compileC(t, "brk", brkC)
	native, _ := diff(t, []string{prog})
	// sum over 64 MiB of (i+page)%256 = 64 * (0+...+255); 65536 pages of
	// (k*13)%256 = 256 * (0+...+255).
	expect(t, "native", native, "brk contiguous=1 grew=64 MiB\n"+
		"brk sum=2088960 untouched=0\n"+
		"shrink ok=1 regrown at=32 regrown sum=0\n"+
		"mmap fresh sum=0 sum=8355840 munmap=0\n", 0)
}

const mprotectC = `
#include <stdio.h>
#include <unistd.h>
#include <sys/mman.h>
int main(void) {
	volatile char *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) { perror("mmap"); return 1; }
	p[0] = 'x';
	p[100] = 'y';
	if (mprotect((void *)p, 4096, PROT_READ)) { perror("mprotect"); return 2; }
	printf("read after mprotect: %c%c\n", p[0], p[100]);
	fflush(stdout);
	p[0] = 'z'; /* SIGSEGV */
	printf("write after mprotect succeeded\n");
	return 0;
}
`

// TestMprotectSegv: a write to a page made read-only kills the process with
// SIGSEGV (exit 139), after the earlier output got out.
func TestMprotectSegv(t *testing.T) {
	t.Parallel()
	prog := compileC(t, "mprotect", mprotectC)
	native, gb := diff(t, []string{prog})
	expect(t, "native", native, "read after mprotect: xy\n", 139)
	checkKilledLine(t, native, gb, []string{prog})
}

const nullWriteC = `
#include <stdio.h>
int main(void) {
	printf("before\n");
	fflush(stdout);
	*(volatile int *)0 = 1;
	printf("after\n");
	return 0;
}
`

// TestNullWrite: writing through NULL is SIGSEGV (exit 139).
func TestNullWrite(t *testing.T) {
	t.Parallel()
	prog := compileC(t, "nullwrite", nullWriteC)
	native, gb := diff(t, []string{prog})
	expect(t, "native", native, "before\n", 139)
	checkKilledLine(t, native, gb, []string{prog})
}

// checkKilledLine: a guest's death by SIGSEGV leaves stderr as natively
// (the exit status, 139, says it); with --verbose the CLI names it.
func checkKilledLine(t *testing.T, native, gb res, argv []string) {
	t.Helper()
	if gb.Stderr != native.Stderr {
		t.Errorf("stderr differs from native: %q, want %q", gb.Stderr, native.Stderr)
	}
	v := runGlassbox(t, []string{"--verbose"}, argv)
	if want := "glassbox: " + argv[0] + " killed by SIGSEGV\n"; v.Code != 139 || !strings.HasSuffix(v.Stderr, want) {
		t.Errorf("--verbose: want exit 139 and %q at the end of stderr: %s", want, v)
	}
}
