package tests

import (
	"os"
	"strings"
	"testing"
)

// uffdC exercises userfaultfd(2) (man 2 userfaultfd, man 2
// ioctl_userfaultfd): with no argument, as root, the UFFDIO_API
// handshake and its errors, UFFDIO_REGISTER's range and mode checks
// (holes, file mappings, MINOR), faults served by a handler thread with
// UFFDIO_COPY (reads, a read(2) into a missing page, a signal while a
// fault waits), EEXIST, ENOENT and partial copies, UFFDIO_ZEROPAGE,
// a UFFDIO_WRITEPROTECT round trip, UFFDIO_WAKE, fork (the child is not
// registered), UFFDIO_UNREGISTER, poll on a blocking uffd,
// UFFD_FEATURE_SIGBUS, UFFD_USER_MODE_ONLY and close with nothing
// pending. "write": a write fault on a missing page with THREAD_ID and
// EXACT_ADDRESS. "user": an unprivileged caller (EPERM without
// UFFD_USER_MODE_ONLY on this host, whose vm.unprivileged_userfaultfd
// is 0). Features and range ioctls are printed masked to the ones
// glassbox offers; Linux offers more (events, MOVE, POISON...).
const uffdC = `#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/userfaultfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#define PG 4096
#define R(expr) do { errno = 0; long r_ = (expr); printf("%-64s = %ld %s\n", #expr, r_ < 0 ? -1L : (r_ > 2 ? 3L : r_), r_ < 0 ? strerror(errno) : ""); } while (0)
/* The features and range ioctls glassbox offers; Linux offers more. */
#define FEATS (UFFD_FEATURE_PAGEFAULT_FLAG_WP | UFFD_FEATURE_SIGBUS | UFFD_FEATURE_THREAD_ID | UFFD_FEATURE_EXACT_ADDRESS)
#define RIOCTLS ((1ULL << _UFFDIO_WAKE) | (1ULL << _UFFDIO_COPY) | (1ULL << _UFFDIO_ZEROPAGE) | (1ULL << _UFFDIO_WRITEPROTECT))

static int uffd_new(int flags) { return syscall(SYS_userfaultfd, flags); }
static int api(int fd, uint64_t feats) {
	struct uffdio_api a = {.api = UFFD_API, .features = feats};
	int r = ioctl(fd, UFFDIO_API, &a);
	if (r == 0) printf("api: features&ours %#llx ioctls %#llx\n", (unsigned long long)(a.features & FEATS), (unsigned long long)a.ioctls);
	return r;
}
static int reg(int fd, void *p, size_t len, int mode) {
	struct uffdio_register r = {.range = {(uintptr_t)p, len}, .mode = mode};
	int x = ioctl(fd, UFFDIO_REGISTER, &r);
	if (x == 0) printf("register: ioctls&ours %#llx\n", (unsigned long long)(r.ioctls & RIOCTLS));
	return x;
}
static int unreg(int fd, void *p, size_t len) { struct uffdio_range r = {(uintptr_t)p, len}; return ioctl(fd, UFFDIO_UNREGISTER, &r); }
static long long copy_res;
static int copy(int fd, void *dst, void *src, size_t len, int mode) {
	struct uffdio_copy c = {.dst = (uintptr_t)dst, .src = (uintptr_t)src, .len = len, .mode = mode, .copy = 12345};
	int r = ioctl(fd, UFFDIO_COPY, &c);
	copy_res = c.copy;
	return r;
}
static int zero(int fd, void *dst, size_t len, int mode) {
	struct uffdio_zeropage z = {.range = {(uintptr_t)dst, len}, .mode = mode, .zeropage = 12345};
	int r = ioctl(fd, UFFDIO_ZEROPAGE, &z);
	copy_res = z.zeropage;
	return r;
}
static int wp(int fd, void *p, size_t len, int mode) { struct uffdio_writeprotect w = {{(uintptr_t)p, len}, mode}; return ioctl(fd, UFFDIO_WRITEPROTECT, &w); }
static int wake(int fd, void *p, size_t len) { struct uffdio_range r = {(uintptr_t)p, len}; return ioctl(fd, UFFDIO_WAKE, &r); }

static int ufd;
static char *base;
static char src[2 * PG];
static char results[64][96];
static int nres;
#define RR(expr) do { errno = 0; long r_ = (expr); snprintf(results[nres++], 96, "%-40s = %ld %s", #expr, r_, r_ < 0 ? strerror(errno) : ""); } while (0)
static volatile int sigseen;
static int thread_id;
static pid_t main_tid;

static struct uffd_msg next_msg(void) {
	struct uffd_msg m;
	struct pollfd p = {ufd, POLLIN, 0};
	for (;;) {
		if (poll(&p, 1, 5000) != 1) { printf("poll timed out\n"); exit(1); }
		ssize_t n = read(ufd, &m, sizeof m);
		if (n == sizeof m) return m;
		if (n < 0 && errno == EAGAIN) continue;
		printf("read %zd %s\n", n, strerror(errno)); exit(1);
	}
}
static void show(const char *who, struct uffd_msg m) {
	printf("%s: event %#x flags %#llx page %ld\n", who, m.event, (unsigned long long)m.arg.pagefault.flags,
		(long)(((char *)(uintptr_t)m.arg.pagefault.address - base) / PG));
	fflush(stdout);
}
/* handler serves n faults with a pattern page each ('A' + page index). */
static void *handler(void *arg) {
	long n = (long)arg;
	for (long i = 0; i < n; i++) {
		struct uffd_msg m = next_msg();
		show("handler", m);
		if (thread_id) snprintf(results[nres++], 96, "ptid is the faulting thread: %d", m.arg.pagefault.feat.ptid == main_tid);
		char *page = (char *)(uintptr_t)(m.arg.pagefault.address & ~(uint64_t)(PG - 1));
		if (m.arg.pagefault.flags & UFFD_PAGEFAULT_FLAG_WP) {
			RR(wp(ufd, page, PG, 0));
			continue;
		}
		memset(src, 'A' + (page - base) / PG, PG);
		RR(copy(ufd, page, src, PG, 0));
	}
	return 0;
}
static void *sig_handler_thread(void *arg) {
	struct uffd_msg m = next_msg();
	show("handler(before signal)", m);
	syscall(SYS_tgkill, getpid(), main_tid, SIGUSR1);
	while (!sigseen) usleep(1000);
	m = next_msg();
	show("handler(after signal)", m);
	memset(src, 'S', PG);
	RR(copy(ufd, base + 9 * PG, src, PG, 0));
	return 0;
}
static void on_usr1(int s) { sigseen = 1; }
static sigjmp_buf jb;
static void on_bus(int s, siginfo_t *si, void *u) { printf("SIGBUS code %d page %ld\n", si->si_code, (long)(((char *)si->si_addr - base) / PG)); siglongjmp(jb, 1); }

static void serve(long n, void (*body)(void)) {
	pthread_t th;
	pthread_create(&th, 0, handler, (void *)n);
	body();
	pthread_join(th, 0);
	for (int i = 0; i < nres; i++) printf("handler: %s\n", results[i]);
	nres = 0;
}
static void touch_reads(void) {
	for (int i = 0; i < 3; i++) printf("main: page %d reads %c\n", i, base[i * PG + 7]);
}
static void __attribute__((unused)) touch_write(void) { base[4 * PG] = 'w'; printf("main: wrote page 4: %c%c\n", base[4 * PG], base[4 * PG + 1]); }
static int pfd[2];
static void pipe_read(void) {
	R(read(pfd[0], base + 5 * PG + 10, 5));
	printf("main: page 5: %.5s then %c\n", base + 5 * PG + 10, base[5 * PG + 15]);
}
static void wp_write(void) { base[6 * PG] = 'x'; printf("main: wrote WP page 6: %c%c\n", base[6 * PG], base[6 * PG + 1]); }

/* write: a write fault on a missing page (the ptrace platform cannot tell it from a read) */
static int write_mode(void) {
	R(ufd = uffd_new(O_CLOEXEC | O_NONBLOCK));
	R(api(ufd, UFFD_FEATURE_THREAD_ID | UFFD_FEATURE_EXACT_ADDRESS));
	thread_id = 1;
	base = mmap(0, 16 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	R(reg(ufd, base, 16 * PG, UFFDIO_REGISTER_MODE_MISSING));
	serve(1, touch_write);
	return 0;
}
/* user: what an unprivileged caller may do */
static int user_mode(void) {
	R(uffd_new(O_CLOEXEC));
	R(ufd = uffd_new(O_CLOEXEC | O_NONBLOCK | UFFD_USER_MODE_ONLY));
	R(api(ufd, 0));
	R(api(ufd, UFFD_FEATURE_EVENT_FORK));
	base = mmap(0, 16 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	R(reg(ufd, base, 16 * PG, UFFDIO_REGISTER_MODE_MISSING | UFFDIO_REGISTER_MODE_WP));
	serve(3, touch_reads);
	R(pipe(pfd));
	R(write(pfd[1], "hello", 5));
	R(read(pfd[0], base + 5 * PG, 5));
	return 0;
}

int main(int argc, char **argv) {
	setvbuf(stdout, NULL, _IONBF, 0);
	main_tid = gettid();
	if (argc > 1 && !strcmp(argv[1], "write")) return write_mode();
	if (argc > 1 && !strcmp(argv[1], "user")) return user_mode();
	R(uffd_new(0x1234));
	R(uffd_new(O_CLOEXEC | O_NONBLOCK | 0x4));
	ufd = uffd_new(O_CLOEXEC | O_NONBLOCK);
	printf("userfaultfd: %s\n", ufd >= 0 ? "ok" : strerror(errno));
	if (ufd < 0) return 0;
	char small[8];
	R(read(ufd, small, sizeof small));
	base = mmap(0, 16 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	R(reg(ufd, base, PG, UFFDIO_REGISTER_MODE_MISSING));
	struct uffdio_api bad = {.api = 0xAB, .features = 0};
	R(ioctl(ufd, UFFDIO_API, &bad));
	printf("bad api struct: %#llx %#llx %#llx\n", (unsigned long long)bad.api, (unsigned long long)bad.features, (unsigned long long)bad.ioctls);
	R(api(ufd, 1ULL << 40));
	R(api(ufd, UFFD_FEATURE_THREAD_ID));
	R(api(ufd, 0));
	struct uffd_msg m1;
	R(read(ufd, &m1, sizeof m1));
	R(read(ufd, small, sizeof small));
	R(ioctl(ufd, _IOWR(UFFDIO, 0x30, struct uffdio_range), small));
	/* registration checks */
	R(reg(ufd, base, PG, 0));
	R(reg(ufd, base, PG, 0x40));
	R(reg(ufd, base + 1, PG, UFFDIO_REGISTER_MODE_MISSING));
	R(reg(ufd, base, PG + 1, UFFDIO_REGISTER_MODE_MISSING));
	R(reg(ufd, base, 0, UFFDIO_REGISTER_MODE_MISSING));
	R(reg(ufd, (void *)0x1000, PG, UFFDIO_REGISTER_MODE_MISSING));
	R(reg(ufd, base, (size_t)-PG, UFFDIO_REGISTER_MODE_MISSING));
	R(reg(ufd, base, PG, UFFDIO_REGISTER_MODE_MINOR));
	char *hole = mmap(0, 3 * PG, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) + PG;
	munmap(hole, PG);
	R(reg(ufd, hole, PG, UFFDIO_REGISTER_MODE_MISSING));
	int self = open(argv[0], O_RDONLY);
	char *fm = mmap(0, PG, PROT_READ, MAP_PRIVATE, self, 0);
	R(reg(ufd, fm, PG, UFFDIO_REGISTER_MODE_MISSING));
	R(reg(ufd, base, 8 * PG, UFFDIO_REGISTER_MODE_MISSING));
	R(reg(ufd, base + 6 * PG, 2 * PG, UFFDIO_REGISTER_MODE_MISSING | UFFDIO_REGISTER_MODE_WP));
	/* faults served by a handler thread */
	serve(3, touch_reads);
	/* a read(2) whose buffer is a missing page */
	R(pipe(pfd));
	R(write(pfd[1], "hello", 5));
	serve(1, pipe_read);
	/* EEXIST, partial copies, ENOENT, bad modes */
	memset(src, 'Z', PG);
	R(copy(ufd, base, src, PG, 0)); printf("copy field %lld\n", copy_res);
	R(copy(ufd, base + 3 * PG, src, 2 * PG, 0)); printf("copy field %lld\n", copy_res);
	R(copy(ufd, base + 3 * PG, src, 2 * PG, 0)); printf("copy field %lld\n", copy_res);
	R(copy(ufd, base + 10 * PG, src, PG, 0)); printf("copy field %lld\n", copy_res);
	R(copy(ufd, base + 7 * PG, src, 2 * PG, 0)); printf("copy field %lld\n", copy_res);
	R(copy(ufd, base + 2 * PG + 1, src, PG, 0));
	R(copy(ufd, base + 7 * PG, src, PG, 4)); printf("copy field %lld\n", copy_res);
	R(copy(ufd, base + 1 * PG, src, PG, UFFDIO_COPY_MODE_WP)); printf("copy field %lld\n", copy_res);
	R(copy(ufd, base + 1 * PG, (void *)8, PG, 0)); printf("copy field %lld\n", copy_res);
	printf("page 3: %c page 4: %c\n", base[3 * PG], base[4 * PG]);
	/* ZEROPAGE */
	R(zero(ufd, base + 5 * PG, PG, 0)); printf("zeropage field %lld\n", copy_res);
	R(zero(ufd, base + 7 * PG, PG, 0)); printf("zeropage field %lld\n", copy_res);
	R(zero(ufd, base + 7 * PG, PG, 2));
	printf("page 7: %d\n", base[7 * PG + 100]);
	/* WRITEPROTECT round trip on page 6 (MISSING|WP) */
	memset(src, 'P', PG);
	R(copy(ufd, base + 6 * PG, src, PG, UFFDIO_COPY_MODE_WP)); printf("copy field %lld\n", copy_res);
	printf("page 6 reads %c\n", base[6 * PG]);
	serve(1, wp_write);
	R(wp(ufd, base + 6 * PG, PG, UFFDIO_WRITEPROTECT_MODE_WP));
	R(wp(ufd, base + 6 * PG, PG, UFFDIO_WRITEPROTECT_MODE_WP | UFFDIO_WRITEPROTECT_MODE_DONTWAKE));
	R(wp(ufd, base + 6 * PG, PG, 8));
	R(wp(ufd, base, PG, UFFDIO_WRITEPROTECT_MODE_WP));
	R(wp(ufd, hole, PG, UFFDIO_WRITEPROTECT_MODE_WP));
	serve(1, wp_write);
	R(wake(ufd, base, PG));
	R(wake(ufd, base + 1, PG));
	/* a signal while a fault waits: the fault is retried after the handler */
	signal(SIGUSR1, on_usr1);
	R(reg(ufd, base + 8 * PG, 2 * PG, UFFDIO_REGISTER_MODE_MISSING));
	pthread_t th;
	pthread_create(&th, 0, sig_handler_thread, 0);
	printf("main: page 9 reads %c\n", base[9 * PG]);
	pthread_join(th, 0);
	for (int i = 0; i < nres; i++) printf("handler: %s\n", results[i]);
	nres = 0;
	printf("signal seen: %d\n", sigseen);
	/* fork: the child's ranges are not registered */
	pid_t c = fork();
	if (c == 0) { printf("child: page 8 reads %d\n", base[8 * PG]); _exit(0); }
	int st; waitpid(c, &st, 0);
	/* unregister: pages then fill normally */
	R(unreg(ufd, base + 8 * PG, PG));
	R(unreg(ufd, hole, PG));
	R(unreg(ufd, base + 1, PG));
	printf("page 8 after unregister: %d\n", base[8 * PG]);
	/* a blocking uffd polls as an error */
	int b = uffd_new(0);
	struct pollfd p = {b, POLLIN, 0};
	R(poll(&p, 1, 0)); printf("revents %#x\n", p.revents);
	api(b, 0);
	R(poll(&p, 1, 0)); printf("revents %#x\n", p.revents);
	close(b);
	/* UFFD_FEATURE_SIGBUS */
	int s = uffd_new(O_CLOEXEC);
	R(api(s, UFFD_FEATURE_SIGBUS));
	R(reg(s, base + 11 * PG, PG, UFFDIO_REGISTER_MODE_MISSING));
	struct sigaction sa = {0};
	sa.sa_sigaction = on_bus; sa.sa_flags = SA_SIGINFO;
	sigaction(SIGBUS, &sa, 0);
	if (!sigsetjmp(jb, 1)) printf("page 11 reads %d\n", base[11 * PG]);
	R(write(pfd[1], "y", 1));
	R(read(pfd[0], base + 11 * PG, 1));
	close(s);
	printf("page 11 after close: %d\n", base[11 * PG]);
	/* UFFD_USER_MODE_ONLY: a system call's access is EFAULT */
	int um = uffd_new(O_CLOEXEC | O_NONBLOCK | 1);
	api(um, 0);
	R(reg(um, base + 12 * PG, PG, UFFDIO_REGISTER_MODE_MISSING));
	R(write(pfd[1], "x", 1));
	R(read(pfd[0], base + 12 * PG, 1));
	/* closing the uffd with nothing pending */
	R(reg(ufd, base + 13 * PG, PG, UFFDIO_REGISTER_MODE_MISSING));
	R(reg(um, base + 13 * PG, PG, UFFDIO_REGISTER_MODE_MISSING));
	close(ufd);
	close(um);
	printf("page 13 after close: %d, page 12: %d\n", base[13 * PG], base[12 * PG]);
	return 0;
}
`

func TestUffd(t *testing.T) {
	t.Parallel()
	prog := compileC(t, "uffd", uffdC, "-pthread")
	native, _ := diff(t, []string{prog})
	for _, want := range []string{"main: page 2 reads C\n", "main: page 5: hello then F\n",
		"main: wrote WP page 6: xP\n", "handler(after signal)", "child: page 8 reads 0\n", "SIGBUS code 2 page 11\n"} {
		if !strings.Contains(native.Stdout, want) {
			t.Errorf("native run lacks %q: %s", want, native)
		}
	}
}

// TestUffdWriteFault: a write to a missing page is reported with
// UFFD_PAGEFAULT_FLAG_WRITE. The ptrace platform cannot tell a write
// from a read (the host's page-fault error code is not in ptrace's
// siginfo) and reports it as a read.
func TestUffdWriteFault(t *testing.T) {
	t.Parallel()
	if os.Getenv("GLASSBOX_PLATFORM") == "ptrace" {
		t.Skip("the ptrace platform reports a write to a missing page as a read")
	}
	prog := compileC(t, "uffd", uffdC, "-pthread")
	native, _ := diff(t, []string{prog, "write"})
	if !strings.Contains(native.Stdout, "flags 0x1 page 4\n") {
		t.Errorf("native run looks wrong: %s", native)
	}
}

// TestUffdUser: as uid 1000, userfaultfd without UFFD_USER_MODE_ONLY is
// EPERM (vm.unprivileged_userfaultfd is 0 on this host), with it faults
// are served but a system call's access to a missing page is EFAULT.
func TestUffdUser(t *testing.T) {
	t.Parallel()
	if b, _ := os.ReadFile("/proc/sys/vm/unprivileged_userfaultfd"); strings.TrimSpace(string(b)) != "0" {
		t.Skip("the host allows unprivileged userfaultfd; the expected EPERM would not show")
	}
	prog := compileC(t, "uffd", uffdC, "-pthread")
	diffAsUser(t, prog, "user")
}
