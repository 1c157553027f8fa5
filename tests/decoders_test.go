package tests

import (
	"strings"
	"testing"
)

// decodersC feeds rt_sigreturn, writev, process_vm_readv and the
// exit-time robust-list walk the guest-controlled structures the Go fuzz
// targets decode (FuzzSigframe, FuzzIovecs, FuzzRobustList): the
// alternate stack a handler writes into its frame's uc_stack (valid,
// too small, a bad mode, SS_DISABLE, SS_ONSTACK, SS_AUTODISARM, from the
// normal and the alternate stack, with and without SS_AUTODISARM set),
// iovecs that Linux refuses (a negative length after MAX_RW_COUNT, an
// empty segment at a kernel address, a segment past TASK_SIZE_MAX or
// wrapping), the remote iovec count checked only when there is
// something to move, and a robust mutex whose owner thread died inside
// a PID namespace (the futex word holds the namespace's TID, which
// glibc learns from clone's CLONE_CHILD_SETTID and CLONE_PARENT_SETTID
// and, in a program started there, from set_tid_address).
const decodersC = `#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <ucontext.h>
#include <unistd.h>

#define SS_AUTODISARM_ (1u << 31)
static char alt[65536], alt2[65536];
static int mode;
static const char *name(void *p) { return p == alt ? "alt" : p == alt2 ? "alt2" : p ? "other" : "null"; }
static void show(const char *w) {
	stack_t o;
	sigaltstack(NULL, &o);
	printf("  %s: sp=%s flags=%#x size=%zu\n", w, name(o.ss_sp), (unsigned)o.ss_flags, o.ss_size);
}
static void h(int sig, siginfo_t *si, void *ctx) {
	ucontext_t *uc = ctx;
	printf("  frame uc_stack: sp=%s flags=%#x size=%zu\n", name(uc->uc_stack.ss_sp), (unsigned)uc->uc_stack.ss_flags, uc->uc_stack.ss_size);
	show("in handler");
	static const int fl[] = {0, 0, 0, 4, SS_DISABLE, SS_ONSTACK, SS_AUTODISARM_};
	if (mode > 0) {
		uc->uc_stack.ss_sp = alt2;
		uc->uc_stack.ss_size = mode == 2 ? 100 : sizeof alt2;
		uc->uc_stack.ss_flags = fl[mode];
	}
}
static void altstacks(void) {
	struct sigaction sa = {0};
	sa.sa_sigaction = h;
	for (int onstack = 0; onstack < 2; onstack++) {
		for (int autod = 0; autod < 2; autod++) {
			sa.sa_flags = SA_SIGINFO | (onstack ? SA_ONSTACK : 0);
			sigaction(SIGUSR1, &sa, NULL);
			for (mode = 0; mode <= 6; mode++) {
				stack_t s = {.ss_sp = alt, .ss_size = sizeof alt, .ss_flags = autod ? SS_AUTODISARM_ : 0};
				sigaltstack(&s, NULL);
				printf("onstack=%d autodisarm=%d handler sets mode %d\n", onstack, autod, mode);
				raise(SIGUSR1);
				show("after");
			}
		}
	}
	stack_t s = {.ss_sp = alt, .ss_size = sizeof alt, .ss_flags = 4};
	int r = sigaltstack(&s, NULL);
	printf("sigaltstack bad flags: %d %s\n", r, strerror(errno));
	s.ss_flags = 0; s.ss_size = 100;
	r = sigaltstack(&s, NULL);
	printf("sigaltstack small: %d %s\n", r, strerror(errno));
	s.ss_flags = SS_DISABLE | SS_AUTODISARM_; s.ss_size = 100;
	printf("sigaltstack disable|autodisarm: %d\n", sigaltstack(&s, NULL));
	show("disabled");
}

static void iovecs(void) {
	char buf[16] = "0123456789abcdef";
	int fd = open("/dev/null", O_WRONLY);
	struct { const char *what; void *b0; size_t l0; void *b1; size_t l1; } c[] = {
		{"negative length after MAX_RW_COUNT", buf, 0x7ffff000, buf, (size_t)-1},
		{"empty segment at a kernel address", buf, 1, (void *)0xffff800000000000ul, 0},
		{"empty segment at TASK_SIZE_MAX", buf, 1, (void *)0x7ffffffff000ul, 0},
		{"segment past TASK_SIZE_MAX", buf, 1, (void *)0x7fffffffe000ul, 0x1001},
		{"kernel segment after MAX_RW_COUNT", buf, 0x7ffff000, (void *)0xffff800000000000ul, 10},
		{"wrapping segment", buf, 1, (void *)-16l, 32},
	};
	for (unsigned i = 0; i < sizeof c / sizeof c[0]; i++) {
		struct iovec v[2] = {{c[i].b0, c[i].l0}, {c[i].b1, c[i].l1}};
		errno = 0;
		ssize_t n = writev(fd, v, 2);
		printf("writev %s: %zd %s\n", c[i].what, n, n < 0 ? strerror(errno) : "");
	}
	struct iovec empty = {buf, 0}, one = {buf, 1};
	errno = 0;
	ssize_t n = process_vm_readv(getpid(), &empty, 1, &one, 2000, 0);
	printf("process_vm_readv nothing to move, 2000 remote: %zd %s\n", n, n < 0 ? strerror(errno) : "");
	errno = 0;
	n = process_vm_readv(getpid(), &one, 1, &one, 2000, 0);
	printf("process_vm_readv 2000 remote: %zd %s\n", n, n < 0 ? strerror(errno) : "");
	struct iovec rneg[2] = {{buf, 1}, {buf, (size_t)-1}};
	errno = 0;
	n = process_vm_readv(getpid(), &one, 1, rneg, 2, 0);
	printf("process_vm_readv negative remote: %zd %s\n", n, n < 0 ? strerror(errno) : "");
}

static pthread_mutex_t rm;
static void *owner(void *a) { pthread_mutex_lock(&rm); return 0; }
static void robust(void) {
	pthread_mutexattr_t ma;
	pthread_mutexattr_init(&ma);
	pthread_mutexattr_setrobust(&ma, PTHREAD_MUTEX_ROBUST);
	pthread_mutex_init(&rm, &ma);
	pthread_t t;
	pthread_create(&t, 0, owner, 0);
	pthread_join(t, 0);
	int e = pthread_mutex_lock(&rm);
	printf("robust mutex in a PID namespace: %s\n", e == EOWNERDEAD ? "EOWNERDEAD" : strerror(e));
}

int main(int argc, char **argv) {
	setvbuf(stdout, NULL, _IONBF, 0);
	if (argc > 1) {
		robust();
		return 0;
	}
	altstacks();
	iovecs();
	if (unshare(CLONE_NEWUSER | CLONE_NEWPID) != 0) {
		robust(); /* a host without user namespaces: the same line, outside one */
		return 0;
	}
	pid_t p = fork();
	if (p == 0) {
		/* pid 1 of the new namespace: its threads' TIDs differ from the outer ones */
		robust();
		if (fork() == 0) {
			/* a program started in the namespace learns its TID from set_tid_address */
			execl("/proc/self/exe", argv[0], "robust", (char *)0);
			_exit(127);
		}
		int st;
		wait(&st);
		printf("exec'd child status %d\n", st);
		_exit(0);
	}
	int st;
	waitpid(p, &st, 0);
	printf("child status %d\n", st);
	return 0;
}
`

// TestDecoders runs decodersC natively and under glassbox.
func TestDecoders(t *testing.T) {
	t.Parallel()
	prog := compileC(t, "decoders", decodersC, "-dynamic", "-pthread")
	native, _ := diff(t, []string{prog})
	for _, want := range []string{"writev empty segment at a kernel address: -1 Bad address",
		"process_vm_readv nothing to move, 2000 remote: 0", "robust mutex in a PID namespace: EOWNERDEAD", "exec'd child status 0"} {
		if !strings.Contains(native.Stdout, want) {
			t.Errorf("native output lacks %q:\n%s", want, native.Stdout)
		}
	}
}

// epollExclusiveC: epoll_ctl's EPOLLEXCLUSIVE rules, which FuzzEpollCtl
// models: only on EPOLL_CTL_ADD (EINVAL on MOD, even of a missing entry),
// not of an epoll file, with only EPOLLIN, EPOLLOUT, EPOLLERR, EPOLLHUP,
// EPOLLWAKEUP and EPOLLET beside it, checked before EEXIST; an exclusive
// entry cannot be modified.
const epollExclusiveC = `#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>
static void ctl(int ep, int op, int fd, unsigned ev, const char *what) {
	struct epoll_event e = {.events = ev, .data.u64 = 7};
	int r = epoll_ctl(ep, op, fd, &e);
	printf("%s: %d %s\n", what, r, r ? strerror(errno) : "");
}
int main(void) {
	int ep = epoll_create1(0), ep2 = epoll_create1(0), a = eventfd(0, 0), b = eventfd(0, 0);
	ctl(ep, EPOLL_CTL_MOD, a, EPOLLIN | EPOLLEXCLUSIVE, "MOD exclusive, not added");
	ctl(ep, EPOLL_CTL_ADD, a, EPOLLIN | EPOLLPRI | EPOLLEXCLUSIVE, "ADD exclusive with EPOLLPRI");
	ctl(ep, EPOLL_CTL_ADD, ep2, EPOLLIN | EPOLLEXCLUSIVE, "ADD exclusive epoll");
	ctl(ep, EPOLL_CTL_ADD, a, EPOLLIN | EPOLLOUT | EPOLLET | EPOLLEXCLUSIVE, "ADD exclusive");
	ctl(ep, EPOLL_CTL_ADD, a, EPOLLIN | EPOLLONESHOT | EPOLLEXCLUSIVE, "ADD exclusive oneshot, already added");
	ctl(ep, EPOLL_CTL_ADD, a, EPOLLIN | EPOLLEXCLUSIVE, "ADD exclusive again");
	ctl(ep, EPOLL_CTL_MOD, a, EPOLLIN, "MOD an exclusive entry");
	ctl(ep, EPOLL_CTL_MOD, a, EPOLLIN | EPOLLEXCLUSIVE, "MOD exclusive an exclusive entry");
	ctl(ep, EPOLL_CTL_DEL, a, 0, "DEL an exclusive entry");
	ctl(ep, EPOLL_CTL_ADD, b, EPOLLIN, "ADD");
	ctl(ep, EPOLL_CTL_MOD, b, EPOLLIN | EPOLLEXCLUSIVE, "MOD adding exclusive");
	ctl(ep, 99, b, EPOLLIN, "bad op");
	ctl(ep, 99, b, EPOLLIN | EPOLLEXCLUSIVE, "bad op exclusive");
	ctl(ep, EPOLL_CTL_ADD, ep, EPOLLIN, "ADD itself");
	return 0;
}
`

// TestEpollExclusive runs epollExclusiveC natively and under glassbox.
func TestEpollExclusive(t *testing.T) {
	t.Parallel()
	native, _ := diff(t, []string{compileC(t, "epoll-exclusive", epollExclusiveC)})
	if !strings.Contains(native.Stdout, "MOD an exclusive entry: -1 Invalid argument") {
		t.Errorf("native output:\n%s", native.Stdout)
	}
}

// selectNfdsC: select(2) takes any nfds >= 0, looking only as far as the
// descriptor table goes (64 descriptors here), whatever RLIMIT_NOFILE
// says: a set bit beyond the table is ignored, a closed descriptor
// within it is EBADF.
const selectNfdsC = `#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <unistd.h>
int main(void) {
	int p[2];
	pipe(p);
	write(p[1], "x", 1);
	struct rlimit rl = {32, 32};
	setrlimit(RLIMIT_NOFILE, &rl);
	fd_set r;
	FD_ZERO(&r);
	FD_SET(p[0], &r);
	struct timeval tv = {0, 0};
	int n = select(FD_SETSIZE, &r, NULL, NULL, &tv);
	printf("select(FD_SETSIZE) under RLIMIT_NOFILE 32: %d %s, readable %d\n", n, n < 0 ? strerror(errno) : "", n > 0 && FD_ISSET(p[0], &r));
	FD_ZERO(&r);
	FD_SET(p[0], &r);
	FD_SET(1000, &r); /* beyond the descriptor table: not looked at */
	n = select(FD_SETSIZE, &r, NULL, NULL, &tv);
	printf("with fd 1000 set: %d %s\n", n, n < 0 ? strerror(errno) : "");
	FD_ZERO(&r);
	FD_SET(20, &r); /* closed, within the table */
	n = select(FD_SETSIZE, &r, NULL, NULL, &tv);
	printf("with closed fd 20 set: %d %s\n", n, n < 0 ? strerror(errno) : "");
	n = select(-1, NULL, NULL, NULL, &tv);
	printf("nfds -1: %d %s\n", n, n < 0 ? strerror(errno) : "");
	return 0;
}
`

// TestSelectNfds runs selectNfdsC natively and under glassbox.
func TestSelectNfds(t *testing.T) {
	t.Parallel()
	native, _ := diff(t, []string{compileC(t, "select-nfds", selectNfdsC)})
	if !strings.Contains(native.Stdout, "with fd 1000 set: 1") {
		t.Errorf("native output:\n%s", native.Stdout)
	}
}
