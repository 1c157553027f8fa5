package tests

// C programs of mem2_test.go.

const mem2MsyncC = `#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>
#include <errno.h>
#include <sys/mman.h>
#define PG 4096
/* Stores into a shared mapping of argv[1]; after each step it says so and
   waits for a line on stdin, so the test can look at the host file. */
static void step(const char *what) { printf("%s\n", what); fflush(stdout); char b[8]; if (read(0, b, sizeof b) <= 0) exit(9); }
int main(int argc, char **argv) {
	int fd = open(argv[1], O_RDWR|O_CREAT|O_TRUNC, 0600);
	if (fd < 0 || ftruncate(fd, 2*PG) < 0) { perror("open"); return 1; }
	char *s = mmap(0, 2*PG, PROT_READ|PROT_WRITE, MAP_SHARED, fd, 0);
	memcpy(s, "msync-sync", 10);
	if (msync(s, 2*PG, MS_SYNC) < 0) { perror("msync"); return 2; }
	step("synced");
	memcpy(s + PG, "msync-async", 11);
	if (msync(s + PG, PG, MS_ASYNC) < 0) { perror("msync async"); return 3; }
	step("async");
	memcpy(s, "via-fsync!", 10);
	if (fsync(fd) < 0) { perror("fsync"); return 4; }
	step("fsynced");
	memcpy(s, "at-munmap!", 10);
	munmap(s, 2*PG);
	step("unmapped");
	char *t = mmap(0, PG, PROT_READ|PROT_WRITE, MAP_SHARED, fd, 0);
	memcpy(t, "at-exit!!!", 10);
	return 0;
}
`

// mem2MsyncErrC tests msync: flags, holes, MS_INVALIDATE on locked memory.
const mem2MsyncErrC = `#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <errno.h>
#include <sys/mman.h>
#define PG 4096
#define SHOW(what, call) do { errno = 0; long r_ = (long)(call); printf("%s: %ld %s\n", what, r_, r_ < 0 ? strerror(errno) : ""); } while (0)
int main() {
	char *a = mmap(0, 4*PG, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0);
	SHOW("sync anon", msync(a, 4*PG, MS_SYNC));
	SHOW("async anon", msync(a, 4*PG, MS_ASYNC));
	SHOW("both", msync(a, PG, MS_SYNC|MS_ASYNC));
	SHOW("bad flag", msync(a, PG, 8));
	SHOW("unaligned", msync(a + 1, PG, MS_SYNC));
	SHOW("zero length", msync(a, 0, MS_SYNC));
	SHOW("invalidate", msync(a, PG, MS_INVALIDATE));
	munmap(a + PG, PG);
	SHOW("hole", msync(a, 4*PG, MS_SYNC));
	SHOW("unmapped", msync(a + PG, PG, MS_SYNC));
	SHOW("mlock", mlock(a, PG));
	SHOW("invalidate locked", msync(a, PG, MS_INVALIDATE));
	SHOW("sync locked", msync(a, PG, MS_SYNC));
	return 0;
}
`

// mem2MlockC tests mlock family: VmLck, smaps Locked, population, MCL_FUTURE, MAP_LOCKED, fork, RLIMIT_MEMLOCK for an unprivileged user.
const mem2MlockC = `#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <errno.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#define PG 4096
#ifndef MLOCK_ONFAULT
#define MLOCK_ONFAULT 1
#endif
#ifndef MCL_ONFAULT
#define MCL_ONFAULT 4
#endif
#define SHOW(what, call) do { errno = 0; long r_ = (long)(call); printf("%s: %ld %s\n", what, r_, r_ < 0 ? strerror(errno) : ""); } while (0)
static long status(const char *key) {
	FILE *f = fopen("/proc/self/status", "r"); char line[256]; long v = -1;
	while (fgets(line, sizeof line, f)) if (!strncmp(line, key, strlen(key))) v = atol(line + strlen(key) + 1);
	fclose(f); return v;
}
/* The smaps field of the VMA starting at p. */
static long smapsField(void *p, const char *key) {
	FILE *f = fopen("/proc/self/smaps", "r"); char line[512]; long v = -1; int in = 0;
	char want[32]; snprintf(want, sizeof want, "%lx-", (unsigned long)p);
	while (fgets(line, sizeof line, f)) {
		if (strchr(line, '-') && line[0] != ' ' && strstr(line, " ") && !strchr(line, ':')) in = !strncmp(line, want, strlen(want));
		else if (strchr(line, '-') && !strncmp(line, want, strlen(want))) in = 1;
		else if (in && !strncmp(line, key, strlen(key)) && line[strlen(key)] == ':') { v = atol(line + strlen(key) + 1); break; }
	}
	fclose(f); return v;
}
static long resident(char *p, int n) { unsigned char v[64]; mincore(p, n*PG, v); long r = 0; for (int i = 0; i < n; i++) r += v[i] & 1; return r; }
int main() {
	long base = status("VmLck");
	char *a = mmap((void *)0x300000000, 8*PG, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS|MAP_FIXED_NOREPLACE, -1, 0);
	printf("resident before mlock: %ld\n", resident(a, 8));
	SHOW("mlock", mlock(a + 100, 4*PG));
	printf("VmLck +%ld kB, resident %ld, smaps Locked %ld\n", status("VmLck") - base, resident(a, 8), smapsField(a, "Locked"));
	SHOW("mlock again", mlock(a, 4*PG));
	printf("VmLck +%ld kB\n", status("VmLck") - base);
	SHOW("munlock", munlock(a, 2*PG));
	printf("VmLck +%ld kB\n", status("VmLck") - base);
	SHOW("mlock2 onfault", mlock2(a + 6*PG, 2*PG, MLOCK_ONFAULT));
	printf("VmLck +%ld kB resident %ld\n", status("VmLck") - base, resident(a + 6*PG, 2));
	SHOW("mlock2 bad flags", mlock2(a, PG, 2));
	SHOW("munlock unmapped", munlock(a + 8*PG, PG));
	SHOW("mlock unmapped", mlock(a + 8*PG, PG));
	SHOW("munlockall", munlockall());
	printf("VmLck +%ld kB\n", status("VmLck") - base);
	SHOW("mlockall bad", mlockall(0));
	SHOW("mlockall onfault only", mlockall(MCL_ONFAULT));
	SHOW("mlockall future", mlockall(MCL_FUTURE));
	char *b = mmap(0, 4*PG, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0);
	printf("future map locked %ld kB, resident %ld\n", smapsField(b, "Locked"), resident(b, 4));
	SHOW("munlockall", munlockall());
	char *c = mmap(0, 4*PG, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0);
	printf("after munlockall resident %ld\n", resident(c, 4));
	char *d = mmap(0, 2*PG, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS|MAP_LOCKED, -1, 0);
	printf("MAP_LOCKED resident %ld VmLck +%ld kB\n", resident(d, 2), status("VmLck") - base);
	munmap(d, 2*PG);
	/* Not inherited by a child. */
	mlock(a, 2*PG);
	fflush(stdout);
	if (fork() == 0) { printf("child VmLck %ld\n", status("VmLck")); fflush(stdout); _exit(0); }
	wait(0);
	munlock(a, 2*PG);
	/* An unprivileged process is held to RLIMIT_MEMLOCK. */
	fflush(stdout);
	if (fork() == 0) {
		struct rlimit rl = {4*PG, 4*PG};
		setrlimit(RLIMIT_MEMLOCK, &rl);
		if (setuid(65534) < 0) { perror("setuid"); _exit(1); }
		SHOW("user mlock within", mlock(a, 4*PG));
		SHOW("user mlock over", mlock(a + 4*PG, 2*PG));
		SHOW("user mlockall", mlockall(MCL_CURRENT));
		SHOW("user munlock", munlock(a, 4*PG));
		rl.rlim_cur = 0; setrlimit(RLIMIT_MEMLOCK, &rl);
		SHOW("user mlock zero limit", mlock(a, PG));
		SHOW("user mlockall zero limit", mlockall(MCL_FUTURE));
		fflush(stdout); _exit(0);
	}
	wait(0);
	return 0;
}
`

// mem2SmapsC tests /proc/self/smaps fields and values, smaps_rollup fields, pagemap bits.
const mem2SmapsC = `#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <fcntl.h>
#include <unistd.h>
#include <errno.h>
#include <sys/mman.h>
#include <sys/wait.h>
#define PG 4096
/* Prints the smaps block of the VMA starting at p: every field name, and
   the values of the ones glassbox computes exactly. */
static void block(const char *what, void *p) {
	FILE *f = fopen("/proc/self/smaps", "r"); char line[512]; int in = 0;
	char want[32]; snprintf(want, sizeof want, "%lx-", (unsigned long)p);
	printf("[%s]\n", what);
	while (fgets(line, sizeof line, f)) {
		char *colon = strchr(line, ':');
		int header = !colon || strchr(line, '-') < colon;
		if (header && strchr(line, '-')) { in = !strncmp(line, want, strlen(want)); continue; }
		if (!in || !colon) continue;
		*colon = 0;
		const char *show[] = {"Size", "KernelPageSize", "MMUPageSize", "Rss", "Pss", "Shared_Clean", "Shared_Dirty",
			"Private_Dirty", "Referenced", "Anonymous", "Swap", "Locked", "VmFlags", 0};
		int val = 0;
		for (int i = 0; show[i]; i++) if (!strcmp(line, show[i])) val = 1;
		if (val) printf("  %s:%s", line, colon + 1); else printf("  %s\n", line);
	}
	fclose(f);
}
static void rollup(void) {
	FILE *f = fopen("/proc/self/smaps_rollup", "r"); char line[512];
	printf("[rollup]\n");
	fgets(line, sizeof line, f);
	while (fgets(line, sizeof line, f)) { char *c = strchr(line, ':'); if (c) { *c = 0; printf("  %s\n", line); } }
	fclose(f);
}
static void pagemap(const char *what, char *p, int n) {
	int fd = open("/proc/self/pagemap", O_RDONLY);
	printf("%s:", what);
	for (int i = 0; i < n; i++) {
		uint64_t e;
		if (pread(fd, &e, 8, (uintptr_t)(p + i*PG) / PG * 8) != 8) { printf(" err"); continue; }
		printf(" %c%c%c%c", e>>63&1 ? 'P' : '-', e>>62&1 ? 'S' : '-', e>>61&1 ? 'F' : '-', e>>56&1 ? 'X' : '-');
	}
	printf("\n");
	uint64_t e; errno = 0;
	if (n == 0) { ssize_t r = pread(fd, &e, 4, 0); printf("unaligned read: %zd %s\n", r, strerror(errno)); }
	close(fd);
}
int main(int argc, char **argv) {
	char *a = mmap((void *)0x400000000, 16*PG, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS|MAP_FIXED_NOREPLACE, -1, 0);
	block("untouched", a);
	pagemap("untouched", a, 4);
	memset(a, 1, 16*PG);
	block("touched", a);
	pagemap("touched", a, 4);
	char *s = mmap((void *)0x500000000, 4*PG, PROT_READ|PROT_WRITE, MAP_SHARED|MAP_ANONYMOUS|MAP_FIXED_NOREPLACE, -1, 0);
	memset(s, 1, 4*PG);
	block("shared anon", s);
	pagemap("shared anon", s, 4);
	mlock(a, 16*PG);
	block("locked", a);
	munlock(a, 16*PG);
	fflush(stdout);
	pid_t c = fork();
	if (c == 0) {
		/* Parent and child both map every page now. */
		block("child after fork", a);
		pagemap("child after fork", a, 2);
		a[0] = 2;
		pagemap("child after write", a, 2);
		fflush(stdout); _exit(0);
	}
	waitpid(c, 0, 0);
	pagemap("nothing", 0, 0);
	rollup();
	return 0;
}
`

const mem2AllocC = `#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#define _GNU_SOURCE
#include <dlfcn.h>
/* Allocates 200,000 small and 200 large blocks, fills, frees half, grows
   some with realloc, and prints a checksum of the contents. */
int main() {
	enum { SMALL = 200000, LARGE = 200 };
	static unsigned char *s[SMALL], *l[LARGE];
	uint64_t sum = 0, seed = 1;
	for (int i = 0; i < SMALL; i++) {
		seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
		size_t n = 8 + (seed >> 33) % 200;
		s[i] = malloc(n); if (!s[i]) return 1;
		memset(s[i], i & 0xff, n); s[i][0] = n;
	}
	for (int i = 0; i < LARGE; i++) {
		size_t n = (256 << 10) + (size_t)i * 4096 * 7;
		l[i] = malloc(n); if (!l[i]) return 2;
		for (size_t j = 0; j < n; j += 4096) l[i][j] = (unsigned char)(i + j / 4096);
		l[i][n - 1] = 0x5a;
	}
	for (int i = 0; i < SMALL; i += 2) { free(s[i]); s[i] = 0; }
	for (int i = 1; i < SMALL; i += 4) {
		size_t n = s[i][0];
		s[i] = realloc(s[i], n * 3); if (!s[i]) return 3;
		memset(s[i] + n, 0x77, n * 2);
	}
	for (int i = 0; i < SMALL; i++) if (s[i]) { size_t n = s[i][0]; for (size_t j = 0; j < n; j++) sum = sum * 31 + s[i][j]; }
	for (int i = 0; i < LARGE; i++) {
		size_t n = (256 << 10) + (size_t)i * 4096 * 7;
		for (size_t j = 0; j < n; j += 4096) sum = sum * 31 + l[i][j];
		sum = sum * 31 + l[i][n - 1];
		free(l[i]);
	}
	for (int i = 0; i < SMALL; i++) free(s[i]);
	printf("checksum %016llx jemalloc=%d\n", (unsigned long long)sum, dlsym(RTLD_DEFAULT, "mallctl") != 0);
	return 0;
}
`

const mem2ShareC = `#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/wait.h>
#define SIZE (64 << 20)
/* Ten processes map the same 64 MiB file (argv[1]; created if argv[2] is
   "create"), MAP_SHARED or MAP_PRIVATE read-only (argv[3]), touch every
   page and hold the mapping until all ten have. */
int main(int argc, char **argv) {
	int shared = !strcmp(argv[3], "shared");
	if (!strcmp(argv[2], "create")) {
		int fd = open(argv[1], O_RDWR|O_CREAT|O_TRUNC, 0600);
		if (fd < 0 || ftruncate(fd, SIZE) < 0) { perror("create"); return 1; }
		char *m = mmap(0, SIZE, PROT_READ|PROT_WRITE, MAP_SHARED, fd, 0);
		for (long i = 0; i < SIZE; i += 4096) m[i] = (char)(i >> 12);
		munmap(m, SIZE); close(fd);
	}
	int ready[2], go[2]; pipe(ready); pipe(go);
	for (int k = 0; k < 10; k++) {
		if (fork() == 0) {
			close(go[1]);
			int fd = open(argv[1], O_RDONLY);
			char *m = mmap(0, SIZE, PROT_READ, shared ? MAP_SHARED : MAP_PRIVATE, fd, 0);
			if (m == MAP_FAILED) _exit(1);
			unsigned long sum = 0;
			for (long i = 0; i < SIZE; i += 4096) sum += (unsigned char)m[i];
			write(ready[1], &sum, sizeof sum);
			char x; read(go[0], &x, 1);
			_exit(0);
		}
	}
	unsigned long first = 0, same = 1;
	for (int k = 0; k < 10; k++) { unsigned long s; read(ready[0], &s, sizeof s); if (k == 0) first = s; else same &= s == first; }
	close(go[1]);
	for (int k = 0; k < 10; k++) { int st; wait(&st); if (!WIFEXITED(st) || WEXITSTATUS(st)) same = 0; }
	printf("sum %lu same %lu\n", first, same);
	return 0;
}
`
