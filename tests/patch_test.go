package tests

import (
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// patchSrc exercises syscall sites that the seccomp platform patches
// (--syscall-patch=on): raw `mov $nr,%eax; syscall` pairs at 8-byte
// aligned addresses (one atomic store) and one that straddles two words
// (patched in three steps), and glibc's syscall(), called in loops and
// from threads; a jump straight to a patched
// site's syscall instruction; its own code read through /proc/self/mem
// and process_vm_readv before and after patching, and after mprotect
// made it writable (then rewritten: another syscall number); fork and
// exec after patching; a signal interrupting a patched blocking read
// (EINTR without SA_RESTART, a restarted read with it); and a mapping
// over the patch region's address. Every line must match the host's.
const patchSrc = `#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

/* Raw sites. Each function is one site (aligned unless said) and ret. */
long s_getpid(void), s_getppid(void), s_gettid(void), s_getuid(void);
long s_close(long fd), s_read(long fd, void *b, long n), s_write(long fd, const void *b, long n);
long s_odd_getpid(void), s_mid(long nr), s_mid_getpid(void), s_sched_yield(void);
__asm__(
	".text\n"
	".p2align 4\n s_getpid: mov $39,%eax\n syscall\n ret\n"
	".p2align 4\n s_getppid: mov $110,%eax\n syscall\n ret\n"
	".p2align 4\n s_gettid: mov $186,%eax\n syscall\n ret\n"
	".p2align 4\n s_getuid: mov $102,%eax\n syscall\n ret\n"
	".p2align 4\n s_close: mov $3,%eax\n syscall\n ret\n"
	".p2align 4\n s_read: mov $0,%eax\n syscall\n ret\n"
	".p2align 4\n s_write: mov $1,%eax\n syscall\n ret\n"
	".p2align 4\n s_sched_yield: mov $24,%eax\n syscall\n ret\n"
	".p2align 4\n nop\n nop\n nop\n s_odd_getpid: mov $39,%eax\n syscall\n ret\n"
	/* s_mid_getpid is a site; s_mid(nr) jumps to its syscall instruction
	   with rax = nr. */
	".p2align 4\n s_mid_getpid: mov $39,%eax\n s_mid_sc: syscall\n ret\n"
	".p2align 4\n s_mid: mov %rdi,%rax\n jmp s_mid_sc\n"
);
extern char s_mid_sc[];

static void hex7(const char *what, const unsigned char *b) {
	printf("%s:", what);
	for (int i = 0; i < 7; i++) printf(" %02x", b[i]);
	printf("\n");
}

static void show_code(const char *when, void *fn) {
	unsigned char b[7];
	FILE *f = fopen("/proc/self/mem", "r");
	if (!f || fseek(f, (long)fn, SEEK_SET) || fread(b, 1, 7, f) != 7) { printf("%s: /proc/self/mem: %s\n", when, strerror(errno)); exit(1); }
	fclose(f);
	char what[64];
	snprintf(what, sizeof what, "%s (mem)", when);
	hex7(what, b);
	struct iovec l = {b, 7}, r = {fn, 7};
	memset(b, 0, 7);
	if (process_vm_readv(getpid(), &l, 1, &r, 1, 0) != 7) { printf("process_vm_readv: %s\n", strerror(errno)); exit(1); }
	snprintf(what, sizeof what, "%s (vm_readv)", when);
	hex7(what, b);
}

static int check_ids(const char *who, int rounds) {
	int bad = 0;
	long pid = getpid(), ppid = getppid(), tid = syscall(SYS_gettid), uid = getuid();
	for (int i = 0; i < rounds; i++) {
		bad += s_getpid() != pid;
		bad += s_getppid() != ppid;
		bad += s_gettid() != tid;
		bad += s_getuid() != uid;
		bad += s_odd_getpid() != pid;
		bad += s_close(-1) != -EBADF;
		bad += s_mid_getpid() != pid;
		bad += s_sched_yield() != 0;
		bad += syscall(SYS_getpid) != pid; /* glibc's syscall(): mov 8(%rsp),%r9; syscall */
		bad += syscall(SYS_getppid) != ppid;
	}
	if (bad) printf("%s: %d wrong answers\n", who, bad);
	return bad;
}

static void *worker(void *arg) {
	long n = (long)arg;
	return (void *)(long)check_ids("thread", 2000 + (int)n);
}

static volatile int got;
static void on_alarm(int s) { got++; }

static void arm(int ms, int restart) {
	struct sigaction sa = {0};
	sa.sa_handler = on_alarm;
	sa.sa_flags = restart ? SA_RESTART : 0;
	sigaction(SIGALRM, &sa, 0);
	struct itimerval it = {{0, 0}, {0, ms * 1000}};
	setitimer(ITIMER_REAL, &it, 0);
}

int main(int argc, char **argv) {
	setvbuf(stdout, 0, _IONBF, 0);
	if (argc > 1 && !strcmp(argv[1], "exec")) {
		show_code("after exec", s_getpid);
		check_ids("exec", 100);
		printf("exec child ok\n");
		return 0;
	}
	show_code("before", s_getpid);
	show_code("before mid", s_mid_getpid);
	check_ids("main", 200);
	show_code("after", s_getpid);
	show_code("after mid", s_mid_getpid);
	show_code("after odd", s_odd_getpid);

	/* Into the middle of a patched site: rax says which call. */
	printf("mid getuid %d getppid %d getpid %d\n", s_mid(102) == getuid(), s_mid(110) == getppid(), s_mid(39) == getpid());
	s_write(1, "raw write\n", 10);

	pthread_t th[4];
	for (long i = 0; i < 4; i++) pthread_create(&th[i], 0, worker, (void *)i);
	long bad = 0;
	for (int i = 0; i < 4; i++) { void *r; pthread_join(th[i], &r); bad += (long)r; }
	printf("threads: %ld wrong\n", bad);

	/* Signals and a patched blocking read. */
	int p[2];
	pipe(p);
	char c;
	for (int i = 0; i < 3; i++) { write(p[1], "x", 1); s_read(p[0], &c, 1); }
	got = 0;
	arm(30, 0);
	long r = s_read(p[0], &c, 1);
	printf("read without SA_RESTART: %ld (handler ran %d)\n", r, got);
	got = 0;
	pid_t w = fork();
	if (w == 0) { usleep(200000); write(p[1], "y", 1); _exit(0); }
	arm(30, 1);
	r = s_read(p[0], &c, 1);
	printf("read with SA_RESTART: %ld %c (handler ran %d)\n", r, c, got);
	waitpid(w, 0, 0);

	/* fork after patching */
	pid_t k = fork();
	if (k == 0) {
		show_code("child", s_getpid);
		_exit(check_ids("child", 300) ? 1 : 0);
	}
	int st;
	waitpid(k, &st, 0);
	printf("fork child: %d\n", WEXITSTATUS(st));
	check_ids("parent after fork", 100);

	/* The code made writable: its own bytes, then another syscall. */
	void *page = (void *)((unsigned long)s_getppid & ~4095UL);
	if (mprotect(page, 4096, PROT_READ | PROT_WRITE | PROT_EXEC)) { printf("mprotect: %s\n", strerror(errno)); return 1; }
	hex7("writable getppid", (unsigned char *)s_getppid);
	*(int *)((char *)s_getppid + 1) = 39; /* now getpid */
	mprotect(page, 4096, PROT_READ | PROT_EXEC);
	printf("rewritten site: %d\n", s_getppid() == getpid());
	check_ids("after rewrite", 50); /* the getppid site answers getpid now */

	/* The patch region's address: nothing is there, then a mapping. */
	void *low = (void *)0x0b0f0000;
	printf("write from it: %ld %s\n", (long)write(p[1], low, 8), strerror(errno));
	unsigned char *m = mmap(low, 0x10000, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	if (m == MAP_FAILED) { printf("mmap: %s\n", strerror(errno)); return 1; }
	long sum = 0;
	for (int i = 0; i < 0x10000; i++) sum += m[i];
	printf("mapped at %p: sum %ld\n", m, sum);
	memset(m, 0xab, 0x10000);
	printf("after the mapping: %d wrong\n", check_ids("after mapping", 100));
	show_code("after mapping", s_getpid);

	fflush(stdout);
	char self[64];
	snprintf(self, sizeof self, "/proc/self/exe");
	execl(self, argv[0], "exec", (char *)0);
	printf("exec: %s\n", strerror(errno));
	return 1;
}
`

func TestSyscallPatch(t *testing.T) {
	bin := compileC(t, "patch", patchSrc, "-pthread")
	for _, mode := range []string{"on", "off"} {
		t.Run(mode, func(t *testing.T) {
			_, gb := diffWith(t, diffOpts{gbFlags: []string{"--syscall-patch=" + mode}}, []string{bin})
			if !strings.Contains(gb.Stdout, "exec child ok") {
				t.Errorf("the program did not run to its end:\n%s", gb)
			}
		})
	}
}

// TestSyscallPatchStats: patched sites are counted, and every call still
// reaches the kernel (the syscall count is the same with and without).
func TestSyscallPatchStats(t *testing.T) {
	bin := compileC(t, "patch", patchSrc, "-pthread")
	on := runGlassbox(t, []string{"--syscall-patch=on", "--platform=seccomp", "--stats"}, []string{bin})
	if !strings.Contains(on.Stderr, "patched_sites=") {
		t.Fatalf("no patched_sites in --stats:\n%s", on.Stderr)
	}
	// Every syscall, patched or trapped, is one hand-off to glassbox (a
	// fault or an interrupt is one more); spun ones are a part of them.
	calls, handOffs, spun := statField(t, on.Stderr, "syscalls"), statField(t, on.Stderr, "handoffs"), statField(t, on.Stderr, "spun")
	if handOffs < calls || spun > handOffs {
		t.Errorf("handoffs=%d spun=%d for %d syscalls:\n%s", handOffs, spun, calls, on.Stderr)
	}
}

// statField is the number after " NAME=" in --stats output.
func statField(t *testing.T, stats, name string) uint64 {
	t.Helper()
	m := regexp.MustCompile(`\b` + name + `=(\d+)`).FindStringSubmatch(stats)
	if m == nil {
		t.Fatalf("no %s= in --stats:\n%s", name, stats)
	}
	n, _ := strconv.ParseUint(m[1], 10, 64)
	return n
}
