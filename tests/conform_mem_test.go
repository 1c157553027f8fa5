package tests

import "testing"

// conformMemC: MAP_GROWSDOWN mappings grow on a fault below them, but
// not into the guard gap above the mapping below; MLOCK_ONFAULT locks
// only the pages touched. Linux: mm/mmap.c (expand_downwards), mm/mlock.c
const conformMemC = `#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#define R(what, expr) do { errno = 0; long _r = (long)(expr); \
	printf("%-40s = %ld %s\n", what, _r, _r < 0 ? strerror(errno) : ""); fflush(stdout); } while (0)

/* child runs f in a child and reports how it ended */
static void child(const char *what, void (*f)(char *), char *arg) {
	pid_t c = fork();
	if (c == 0) { f(arg); _exit(0); }
	int st;
	waitpid(c, &st, 0);
	printf("%s: %s %d\n", what, WIFSIGNALED(st) ? "signal" : "exit", WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
	fflush(stdout);
}

static void below(char *g) { g[-1] = 1; g[-3 * 4096] = 2; printf("  wrote below, %d %d\n", g[-1], g[-3 * 4096]); fflush(stdout); }
static void far(char *g) { g[-2 << 20] = 1; printf("  wrote 2 MiB below\n"); fflush(stdout); }
static void gap(char *g) { g[-(4 << 20) + 3 * 4096] = 1; }

static void locked(char *m) {
	char line[256];
	FILE *f = fopen("/proc/self/smaps", "r");
	int in = 0;
	while (fgets(line, sizeof line, f)) {
		unsigned long a, b;
		if (sscanf(line, "%lx-%lx ", &a, &b) == 2)
			in = a == (unsigned long)m;
		else if (in && !strncmp(line, "Locked:", 7))
			printf("  smaps %s", line);
	}
	fclose(f);
}

int main(void) {
	/* MAP_GROWSDOWN: a fault below the mapping grows it, unless that
	   comes within the guard gap of the mapping below */
	char *space = mmap(0, 8 << 20, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	munmap(space, 8 << 20);
	char *lowmap = mmap(space, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	char *g = mmap(space + (4 << 20), 4 * 4096, PROT_READ | PROT_WRITE,
		MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_GROWSDOWN, -1, 0);
	printf("mapped %d %d\n", lowmap == space, g == space + (4 << 20));
	fflush(stdout);
	child("grow a few pages", below, g);
	child("grow 2 MiB", far, g);
	child("grow into the guard gap", gap, g);
	R("GROWSDOWN shared", (long)mmap(0, 4096, PROT_READ, MAP_SHARED | MAP_ANONYMOUS | MAP_GROWSDOWN, -1, 0));
	/* MLOCK_ONFAULT locks only what is touched */
	char *m = mmap(0, 8 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	R("mlock2 MLOCK_ONFAULT", syscall(SYS_mlock2, m, 8 * 4096, 1));
	m[0] = 1;
	m[3 * 4096] = 1;
	locked(m);
	R("mlock2 bad flag", syscall(SYS_mlock2, m, 4096, 2));
	R("mlock", mlock(m, 8 * 4096));
	locked(m);
	return 0;
}
`

func TestConformMem(t *testing.T) {
	t.Parallel()
	prog := compileC(t, "conformmem", conformMemC)
	diff(t, []string{prog})
}

// conformTimerC: timer_create's sigevent checks (SIGEV_THREAD_ID names a
// thread of the caller). Linux: kernel/time/posix-timers.c (good_sigevent)
const conformTimerC = `
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define R(what, expr) do { errno = 0; long _r = (long)(expr); \
	printf("%-40s = %ld %s\n", what, _r, _r < 0 ? strerror(errno) : ""); } while (0)

int main(void) {
	timer_t t;
	struct sigevent se = {0};
	se.sigev_notify = SIGEV_THREAD_ID;
	se.sigev_signo = SIGUSR1;
	se._sigev_un._tid = gettid();
	R("THREAD_ID self", timer_create(CLOCK_MONOTONIC, &se, &t));
	se._sigev_un._tid = 999999;
	R("THREAD_ID no such thread", timer_create(CLOCK_MONOTONIC, &se, &t));
	se._sigev_un._tid = getppid();
	R("THREAD_ID another process", timer_create(CLOCK_MONOTONIC, &se, &t));
	se.sigev_notify = 77;
	R("bad sigev_notify", timer_create(CLOCK_MONOTONIC, &se, &t));
	se.sigev_notify = SIGEV_SIGNAL;
	se.sigev_signo = 99;
	R("bad signal", timer_create(CLOCK_MONOTONIC, &se, &t));
	R("bad clock", timer_create(77, NULL, &t));
	return 0;
}
`

func TestConformTimerCreate(t *testing.T) {
	t.Parallel()
	prog := compileC(t, "conformtimer", conformTimerC)
	diff(t, []string{prog})
}

// conformProcMemC: /proc/PID/mem reads and writes the address space at
// the offset, EIO at an unmapped start, a short count at the end of a
// mapping; another process needs ptrace's access (EACCES for uid 1000
// against root). Linux: fs/proc/base.c (mem_open, mem_rw)
const conformProcMemC = `#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/wait.h>

#define R(what, expr) do { errno = 0; long _r = (long)(expr); \
	printf("%-40s = %ld %s\n", what, _r, _r < 0 ? strerror(errno) : ""); fflush(stdout); } while (0)

static char secret[32] = "the parent's secret";

int main(void) {
	int fd = open("/proc/self/mem", O_RDWR);
	printf("open /proc/self/mem O_RDWR: %d\n", fd >= 0);
	char buf[64] = {0};
	R("pread own secret", pread(fd, buf, 19, (off_t)(unsigned long)secret));
	printf("  %s\n", buf); fflush(stdout);
	R("pwrite own secret", pwrite(fd, "THE", 3, (off_t)(unsigned long)secret));
	printf("  %s\n", secret); fflush(stdout);
	R("pread unmapped", pread(fd, buf, 8, 0x1000));
	char *m = mmap(0, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	munmap(m + 4096, 4096);
	memset(m, 'm', 4096);
	R("pread across the end of a mapping", pread(fd, buf, 16, (off_t)(unsigned long)(m + 4096 - 8)));
	R("lseek to the secret", lseek(fd, (off_t)(unsigned long)secret, SEEK_SET) == (off_t)(unsigned long)secret);
	memset(buf, 0, sizeof buf);
	R("read at the position", read(fd, buf, 3));
	printf("  %s\n", buf); fflush(stdout);
	close(fd);
	pid_t c = fork();
	if (c == 0) {
		char path[64];
		snprintf(path, sizeof path, "/proc/%d/mem", getppid());
		int pf = open(path, O_RDONLY);
		memset(buf, 0, sizeof buf);
		errno = 0;
		long n = pf < 0 ? -1 : pread(pf, buf, 19, (off_t)(unsigned long)secret);
		printf("child reads the parent: %ld %s %s\n", n, n < 0 ? strerror(errno) : "", buf);
		fflush(stdout);
		_exit(0);
	}
	waitpid(c, NULL, 0);
	if (geteuid() == 0) {
		c = fork();
		if (c == 0) {
			char path[64];
			snprintf(path, sizeof path, "/proc/%d/mem", getppid());
			setgid(1000);
			setuid(1000);
			R("uid 1000 opens root's mem", open(path, O_RDONLY));
			_exit(0);
		}
		waitpid(c, NULL, 0);
	}
	return 0;
}
`

func TestConformProcMem(t *testing.T) {
	t.Parallel()
	prog := compileC(t, "conformprocmem", conformProcMemC)
	diff(t, []string{prog})
	diffAsUser(t, prog)
}
