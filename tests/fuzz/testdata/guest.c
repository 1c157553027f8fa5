// The syscall fuzzer's guest: random system calls with interesting
// arguments from several processes and threads while signals fly. It only
// ever runs inside glassbox (the harness in main.go), never natively.
//
//	fuzz run SEED MILLIS PROCS THREADS
//
// The first process makes a PID namespace and waits for its init, the
// supervisor, passing on how it ended. As a namespace's init the
// supervisor is out of reach of the workers' signals (SIGKILL from
// kill(0), a pidfd of /proc/1 or F_SETOWN with F_SETSIG included), as a
// container's init is on Linux. The supervisor forks PROCS workers, respawns the
// ones that die, kills the ones that stop making progress, sends them
// signals, prints "FUZZ tick ..." once a second and "FUZZ done ..." at the
// end. A worker (its own session, stdio on /dev/null) opens descriptors of
// every kind, lays out a pool of memory (valid, read-only, PROT_NONE and
// freed pages, page-boundary pointers, ready-made structures), starts
// THREADS-1 more threads, and each thread loops: pick a call number, pick
// arguments, call. Every thread's sequence of calls is a function of
// (SEED, worker slot, respawn generation, thread index), so a seed replays
// the same calls; the interleaving still varies from run to run.
//
// Without "run" (an execve of this file by a worker) it exits at once.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/netlink.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/shm.h>
#include <time.h>
#include <unistd.h>

#define MAXPROCS 16
#define MAXTHREADS 16
#define STALL_MS 5000

struct shared {
	volatile unsigned long calls[MAXPROCS];
	volatile int tids[MAXPROCS][MAXTHREADS];
};

static struct shared *sh;
static uint64_t seed;
static int nthreads, slot;
static pid_t mypid;

// xorshift64*: one state per thread.
static uint64_t next(uint64_t *s) {
	uint64_t x = *s;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*s = x;
	return x * 0x2545F4914F6CDD1DULL;
}

static uint64_t mix(uint64_t a, uint64_t b) {
	uint64_t z = a + 0x9E3779B97F4A7C15ULL * (b + 1);
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
	z ^= z >> 31;
	return z ? z : 1;
}

static long now_ms(void) {
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void raw_exit_group(int code) {
	__asm__ volatile("syscall" ::"a"(SYS_exit_group), "D"(code) : "rcx", "r11", "memory");
	__builtin_unreachable();
}

/* ---- the worker's pools ---- */

#define NFD 64
static int fds[NFD];
static int nfd;

#define POOLPAGES 16
static char *pool;     // POOLPAGES read-write pages
static char *guard;    // PROT_NONE page after them
static char *freed;    // an unmapped page after that
static char *rdonly;   // a read-only page after that
static char *strs[40]; // path strings (in the read-only page)
static int nstrs;
static char *structs[16]; // ready-made structures inside the pool
static int nstructs;

static void addfd(int fd) {
	if (fd >= 0 && nfd < NFD)
		fds[nfd++] = fd;
}

static const char *paths[] = {
	"/", ".", "..", "/tmp", "/tmp/f0", "/tmp/d0", "/tmp/s", "/tmp/l",
	"/proc/self/status", "/proc/self/maps", "/proc/self/fd/0", "/proc/self/mem",
	"/proc/self/exe", "/proc/self/root", "/proc/self/cwd", "/proc/self/task",
	"/dev/null", "/dev/zero", "/dev/ptmx", "/dev/tty", "/dev/shm/x",
	"/etc/passwd", "/dir/file", "/link/file", "/link", "/script", "/fuzz", "/sys",
	"/nonexistent/x", "../../../../etc/passwd", "/proc/self/root/../../..", "",
	"a/b/../../c", "/proc/self/fd", "/proc/1/status", "/dev/pts/0", "/tmp/d0/../f0",
};

static void setup_pool(uint64_t *rng) {
	// A large PROT_NONE reservation around the pool, so that munmap or
	// mremap of a pool address with a huge length stays inside it.
	size_t half = 8ULL << 30;
	char *res = mmap(NULL, 2 * half, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (res == MAP_FAILED)
		raw_exit_group(3);
	pool = mmap(res + half, (POOLPAGES + 3) * 4096, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	if (pool == MAP_FAILED)
		raw_exit_group(3);
	guard = pool + POOLPAGES * 4096;
	freed = guard + 4096;
	rdonly = freed + 4096;
	for (size_t i = 0; i < POOLPAGES * 4096 / 8; i++)
		((uint64_t *)pool)[i] = next(rng) & (next(rng) & 1 ? ~0ULL : 0xff);
	char *p = rdonly;
	for (size_t i = 0; i < sizeof paths / sizeof *paths && nstrs < 40; i++) {
		size_t n = strlen(paths[i]) + 1;
		memcpy(p, paths[i], n);
		strs[nstrs++] = p;
		p += n;
	}
	mprotect(guard, 4096, PROT_NONE);
	munmap(freed, 4096);
	mprotect(rdonly, 4096, PROT_READ);

	// Structures: a sockaddr_in, a sockaddr_un, an iovec array, a
	// timespec, an empty sigset, a pollfd array, an epoll_event, a msghdr
	// with SCM_RIGHTS, a small-memory itimerspec.
	char *s = pool + 12 * 4096;
	struct sockaddr_in *sin = (void *)s;
	sin->sin_family = AF_INET;
	sin->sin_port = htons(20000 + slot);
	sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	structs[nstructs++] = s;
	s += 64;
	struct sockaddr_un *sun = (void *)s;
	sun->sun_family = AF_UNIX;
	strcpy(sun->sun_path, "/tmp/s");
	structs[nstructs++] = s;
	s += 128;
	struct iovec *iov = (void *)s;
	for (int i = 0; i < 4; i++) {
		iov[i].iov_base = pool + i * 1024;
		iov[i].iov_len = 1024 >> i;
	}
	iov[3].iov_base = guard - 16;
	iov[3].iov_len = 64;
	structs[nstructs++] = s;
	s += 128;
	struct timespec *ts = (void *)s;
	ts->tv_sec = 0;
	ts->tv_nsec = 1000000;
	structs[nstructs++] = s;
	s += 32;
	memset(s, 0, 16);
	structs[nstructs++] = s;
	s += 32;
	struct pollfd *pfd = (void *)s;
	for (int i = 0; i < 4; i++) {
		pfd[i].fd = nfd ? fds[i % nfd] : i;
		pfd[i].events = POLLIN | POLLOUT;
	}
	structs[nstructs++] = s;
	s += 64;
	struct epoll_event *ev = (void *)s;
	ev->events = EPOLLIN | EPOLLET;
	structs[nstructs++] = s;
	s += 32;
	struct msghdr *mh = (void *)s;
	char *cm = s + 128;
	mh->msg_iov = iov;
	mh->msg_iovlen = 2;
	mh->msg_control = cm;
	mh->msg_controllen = CMSG_SPACE(2 * sizeof(int));
	struct cmsghdr *c = (void *)cm;
	c->cmsg_len = CMSG_LEN(2 * sizeof(int));
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	((int *)CMSG_DATA(c))[0] = nfd ? fds[0] : 0;
	((int *)CMSG_DATA(c))[1] = nfd > 3 ? fds[3] : 1;
	structs[nstructs++] = s;
	s += 256;
	struct itimerspec *its = (void *)s;
	its->it_value.tv_nsec = 500000;
	its->it_interval.tv_nsec = 2000000;
	structs[nstructs++] = s;
}

static void setup_fds(void) {
	int p[2];
	addfd(open("/etc/passwd", O_RDONLY));
	addfd(open("/tmp/f0", O_RDWR | O_CREAT, 0644));
	addfd(open("/", O_RDONLY | O_DIRECTORY));
	addfd(open("/tmp", O_PATH));
	if (pipe2(p, O_NONBLOCK) == 0) {
		addfd(p[0]);
		addfd(p[1]);
	}
	int types[] = {SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET};
	for (int i = 0; i < 3; i++)
		if (socketpair(AF_UNIX, types[i], 0, p) == 0) {
			addfd(p[0]);
			addfd(p[1]);
		}
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(20000 + slot)};
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	int l = socket(AF_INET, SOCK_STREAM, 0);
	int one = 1;
	setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (l >= 0 && bind(l, (void *)&sin, sizeof sin) == 0 && listen(l, 8) == 0) {
		addfd(l);
		int c = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
		connect(c, (void *)&sin, sizeof sin);
		addfd(c);
		addfd(accept4(l, NULL, NULL, SOCK_NONBLOCK));
	} else if (l >= 0) {
		close(l);
	}
	addfd(socket(AF_INET, SOCK_DGRAM, 0));
	addfd(socket(AF_INET6, SOCK_STREAM, 0));
	addfd(socket(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE));
	int ep = epoll_create1(0);
	addfd(ep);
	addfd(eventfd(1, EFD_NONBLOCK));
	int tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK);
	struct itimerspec its = {{0, 3000000}, {0, 3000000}};
	timerfd_settime(tfd, 0, &its, NULL);
	addfd(tfd);
	sigset_t ss;
	sigemptyset(&ss);
	sigaddset(&ss, SIGUSR2);
	addfd(signalfd(-1, &ss, SFD_NONBLOCK));
	int in = inotify_init1(IN_NONBLOCK);
	inotify_add_watch(in, "/tmp", IN_ALL_EVENTS);
	addfd(in);
	addfd(syscall(SYS_pidfd_open, getpid(), 0));
	int mfd = memfd_create("fuzz", MFD_ALLOW_SEALING);
	ftruncate(mfd, 8192);
	addfd(mfd);
	int m = open("/dev/ptmx", O_RDWR | O_NOCTTY);
	if (m >= 0) {
		int unlock = 0, n = -1;
		ioctl(m, TIOCSPTLCK, &unlock);
		addfd(m);
		if (ioctl(m, TIOCGPTN, &n) == 0) {
			char name[32];
			snprintf(name, sizeof name, "/dev/pts/%d", n);
			addfd(open(name, O_RDWR | O_NOCTTY));
		}
	}
	addfd(open("/proc/self/status", O_RDONLY));
	addfd(open("/proc/self/maps", O_RDONLY));
	addfd(open("/dev/zero", O_RDWR));
	addfd(open("/dev/urandom", O_RDONLY));
	addfd(open("/dir", O_RDONLY | O_DIRECTORY));
	for (int i = 0; i < nfd; i++) {
		struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT, .data.fd = fds[i]};
		if (fds[i] != ep)
			epoll_ctl(ep, EPOLL_CTL_ADD, fds[i], &ev);
	}
}

/* ---- arguments ---- */

static const uint64_t interesting[] = {
	0, 1, 2, 3, 7, 8, 16, 64, 255, 256, 4095, 4096, 4097, 65535, 65536,
	0x7fffffff, 0x80000000, 0xffffffff, 1ULL << 32, 1ULL << 63, ~0ULL, ~0ULL - 1,
	-4096ULL, -100ULL /* AT_FDCWD */, 0x7fffffffffffULL, 0xffff800000000000ULL,
	1 << 20, 1 << 30, 0x100, 0x800, 0x80000,
};

static uint64_t pick_fd(uint64_t *rng) {
	uint64_t r = next(rng);
	if (r % 8 == 0)
		return interesting[(r >> 8) % 4] - (r & 0x100 ? 1 : 0); // -1, 0, 1, 2...
	if (r % 8 == 1)
		return (r >> 8) % 2 ? -100ULL : 1023;
	return nfd ? fds[(r >> 8) % nfd] : 0;
}

static uint64_t pick_ptr(uint64_t *rng) {
	uint64_t r = next(rng);
	switch (r % 10) {
	case 0:
		return (uint64_t)(guard - (1 << ((r >> 8) % 7))); // straddles the guard
	case 1:
		return (uint64_t)freed;
	case 2:
		return (uint64_t)rdonly;
	case 3:
		return 0;
	case 4:
	case 5:
		return nstructs ? (uint64_t)structs[(r >> 8) % nstructs] : 0;
	case 6:
		return (uint64_t)(pool + ((r >> 8) % POOLPAGES) * 4096); // page aligned
	default:
		return (uint64_t)(pool + (r >> 8) % (POOLPAGES * 4096));
	}
}

static uint64_t pick_arg(uint64_t *rng) {
	uint64_t r = next(rng);
	switch (r % 12) {
	case 0:
	case 1:
		return (r >> 8) % 17;
	case 2:
	case 3:
		return interesting[(r >> 8) % (sizeof interesting / sizeof *interesting)];
	case 4:
	case 5:
		return pick_fd(rng);
	case 6:
	case 7:
		return pick_ptr(rng);
	case 8:
		return (1ULL << ((r >> 8) % 32)) | (1ULL << ((r >> 16) % 32));
	case 9:
		return nstrs ? (uint64_t)strs[(r >> 8) % nstrs] : 0;
	case 10:
		return next(rng);
	default:
		return (r >> 8) & 0xffff;
	}
}

// A pid argument for a call that could reach another process: never the
// supervisor or every process (pid 1, -1), only this worker, its threads,
// its own process group and ids that name nobody.
static uint64_t pick_pid(uint64_t *rng) {
	uint64_t r = next(rng);
	switch (r % 6) {
	case 0:
		return 0;
	case 1:
		return mypid;
	case 2:
		return -(uint64_t)mypid;
	case 3:
		return 99999;
	case 4: {
		int t = sh->tids[slot][(r >> 8) % nthreads];
		return t > 0 ? t : mypid;
	}
	default:
		return syscall(SYS_gettid);
	}
}

/* ---- signals ---- */

static volatile unsigned long caught;

static void handler(int sig, siginfo_t *si, void *uc) {
	(void)sig, (void)si, (void)uc;
	caught++;
}

// install puts the worker's handlers back (a fuzzed rt_sigaction or
// rt_sigprocmask may have changed them): every catchable signal counted,
// none restarting, all unblocked.
static void install(int all) {
	struct sigaction sa = {0};
	sa.sa_sigaction = handler;
	sa.sa_flags = SA_SIGINFO;
	for (int s = 1; s < 65; s++) {
		if (s == SIGKILL || s == SIGSTOP || (s >= 32 && s < 34))
			continue;
		if (!all && s != SIGALRM && s != SIGUSR1)
			continue;
		sigaction(s, &sa, NULL);
	}
	sigset_t none;
	sigemptyset(&none);
	pthread_sigmask(SIG_SETMASK, &none, NULL);
}

// Each thread gets a timer signal every few milliseconds: blocking calls
// end with EINTR, and signal delivery races every call.
static void thread_timer(uint64_t *rng) {
	struct sigevent sev = {0};
	sev.sigev_notify = SIGEV_THREAD_ID;
	sev.sigev_signo = SIGALRM;
	sev._sigev_un._tid = syscall(SYS_gettid);
	timer_t t;
	if (timer_create(CLOCK_MONOTONIC, &sev, &t) == 0) {
		long ns = 2000000 + next(rng) % 18000000;
		struct itimerspec its = {{0, ns}, {0, ns}};
		timer_settime(t, 0, &its, NULL);
	}
}

/* ---- the loop ---- */

// Never called: destructive if they ever reached the host and not
// contained by the namespaces the harness adds (kernel images, modules,
// clocks, swap, I/O ports, accounting).
static int excluded(long nr) {
	switch (nr) {
	case SYS_kexec_load:
	case SYS_kexec_file_load:
	case SYS_init_module:
	case SYS_finit_module:
	case SYS_delete_module:
	case SYS_swapon:
	case SYS_swapoff:
	case SYS_settimeofday:
	case SYS_clock_settime:
	case SYS_adjtimex:
	case SYS_clock_adjtime:
	case SYS_iopl:
	case SYS_ioperm:
	case SYS_acct:
	case SYS_vfork:  // the child would return into the parent's stack
	case SYS_clone3: // the same, through its struct
		return 1;
	}
	return 0;
}

// Calls that end the thread or process, or replace the program: rare, so
// workers spend their time making calls rather than respawning.
static int rare(long nr) {
	switch (nr) {
	case SYS_exit:
	case SYS_exit_group:
	case SYS_rt_sigreturn:
	case SYS_execve:
	case SYS_execveat:
	case SYS_seccomp:
	case SYS_fork:
	case SYS_clone:
	case SYS_kill:
	case SYS_tkill:
	case SYS_tgkill:
		return 1;
	}
	return 0;
}

static long pick_nr(uint64_t *rng) {
	for (;;) {
		uint64_t r = next(rng);
		long nr = r % 2 ? r % 335 : 424 + (r >> 8) % 39;
		if (excluded(nr))
			continue;
		if (rare(nr) && (r >> 32) % 16)
			continue;
		return nr;
	}
}

static void fuzz(int ti) {
	uint64_t rng = mix(mix(seed, slot), ti);
	sh->tids[slot][ti] = syscall(SYS_gettid);
	install(ti == 0);
	thread_timer(&rng);
	for (;;) {
		long nr = pick_nr(&rng);
		uint64_t a[6];
		for (int i = 0; i < 6; i++)
			a[i] = pick_arg(&rng);
		switch (nr) {
		case SYS_kill:
		case SYS_tkill:
		case SYS_rt_sigqueueinfo:
		case SYS_pidfd_open:
		case SYS_prlimit64:
		case SYS_setpgid:
		case SYS_process_vm_readv:
		case SYS_process_vm_writev:
		case SYS_get_robust_list:
		case SYS_migrate_pages:
		case SYS_move_pages:
		case SYS_sched_setaffinity:
		case SYS_sched_setscheduler:
		case SYS_sched_setparam:
		case SYS_sched_setattr:
			a[0] = pick_pid(&rng);
			break;
		case SYS_tgkill:
		case SYS_rt_tgsigqueueinfo:
		case SYS_kcmp:
			a[0] = pick_pid(&rng);
			a[1] = pick_pid(&rng);
			break;
		case SYS_ptrace:
			a[1] = pick_pid(&rng);
			break;
		case SYS_setpriority:
		case SYS_ioprio_set:
			a[0] %= 2; // PRIO_PROCESS / PRIO_PGRP: not the whole user
			a[1] = pick_pid(&rng);
			break;
		case SYS_clone:
			// A copy of this process (never sharing its memory or
			// running on its stack) that exits at once.
			a[0] &= ~(uint64_t)(CLONE_VM | CLONE_VFORK | CLONE_THREAD | CLONE_SIGHAND |
					    CLONE_SETTLS | CLONE_CHILD_CLEARTID | CLONE_CHILD_SETTID);
			a[1] = 0;
			break;
		}
		long r = syscall(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
		if ((nr == SYS_fork || nr == SYS_clone) && r == 0)
			raw_exit_group(0); // the only calls that make a process
		__atomic_fetch_add(&sh->calls[slot], 1, __ATOMIC_RELAXED);
		switch (nr) {
		case SYS_rt_sigaction:
		case SYS_rt_sigprocmask:
		case SYS_sigaltstack:
		case SYS_signalfd:
		case SYS_signalfd4:
			install(0);
		}
	}
}

static void *thread_main(void *arg) {
	fuzz((int)(long)arg);
	return NULL;
}

static void worker(int gen) {
	setsid();
	mypid = getpid();
	uint64_t rng = mix(mix(seed, 1000 + slot), gen);
	int null = open("/dev/null", O_RDWR);
	if (null >= 0) {
		dup2(null, 0);
		dup2(null, 1);
		dup2(null, 2);
		if (null > 2)
			close(null);
	}
	memset((void *)sh->tids[slot], 0, sizeof sh->tids[slot]);
	setup_fds();
	setup_pool(&rng);
	seed = mix(seed, gen); // every generation its own sequences
	for (int i = 1; i < nthreads; i++) {
		pthread_t t;
		pthread_attr_t at;
		pthread_attr_init(&at);
		pthread_attr_setstacksize(&at, 256 << 10);
		pthread_create(&t, &at, thread_main, (void *)(long)i);
	}
	fuzz(0);
}

/* ---- the supervisor ---- */

// reclaim takes back what outlives the workers and holds memory: System V
// shared memory segments and message queues, and the files workers write
// into. Without it they fill the sandbox's memory bound for good, and the
// OOM killer ends up killing the supervisor too (as Linux's does in a
// memory cgroup, whose namespace init is no exception).
static void reclaim(void) {
	struct shm_info si;
	int max = shmctl(0, SHM_INFO, (struct shmid_ds *)&si);
	for (int i = 0; i <= max; i++) {
		struct shmid_ds ds;
		int id = shmctl(i, SHM_STAT, &ds);
		if (id >= 0)
			shmctl(id, IPC_RMID, NULL);
	}
	struct msginfo mi;
	max = msgctl(0, MSG_INFO, (struct msqid_ds *)&mi);
	for (int i = 0; i <= max; i++) {
		struct msqid_ds ds;
		int id = msgctl(i, MSG_STAT, &ds);
		if (id >= 0)
			msgctl(id, IPC_RMID, NULL);
	}
	truncate("/tmp/f0", 0);
	truncate("/dev/shm/x", 0);
}

static pid_t pids[MAXPROCS];
static int gens[MAXPROCS];

static void spawn(int s) {
	pid_t p = fork();
	if (p == 0) {
		slot = s;
		worker(gens[s]);
		raw_exit_group(0);
	}
	pids[s] = p;
	gens[s]++;
}

int main(int argc, char **argv) {
	if (argc != 6 || strcmp(argv[1], "run") != 0)
		return 0;
	seed = strtoull(argv[2], NULL, 10);
	long millis = atol(argv[3]);
	int nprocs = atoi(argv[4]);
	nthreads = atoi(argv[5]);
	if (nprocs < 1 || nprocs > MAXPROCS || nthreads < 1 || nthreads > MAXTHREADS)
		return 2;
	if (unshare(CLONE_NEWPID) != 0)
		return 4;
	pid_t init = fork();
	if (init < 0)
		return 5;
	if (init > 0) {
		int st;
		while (waitpid(init, &st, 0) < 0 && errno == EINTR)
			;
		return WIFSIGNALED(st) ? 128 + WTERMSIG(st) : WEXITSTATUS(st);
	}
	sh = mmap(NULL, sizeof *sh, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED)
		return 3;
	// Every signal a worker could aim at it (F_SETOWN 1 with F_SETSIG,
	// say) ignored; 32 and 33 too, through the raw call, as libc's
	// sigaction refuses them.
	struct {
		void *handler;
		unsigned long flags;
		void *restorer;
		uint64_t mask;
	} ign = {SIG_IGN, 0, NULL, 0};
	for (int s = 1; s < 65; s++)
		if (s != SIGKILL && s != SIGSTOP && s != SIGCHLD)
			syscall(SYS_rt_sigaction, s, &ign, NULL, 8);
	mkdir("/tmp/d0", 0755);
	symlink("/tmp/l", "/tmp/l"); // a loop
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("FUZZ start seed=%llu procs=%d threads=%d\n", (unsigned long long)seed, nprocs, nthreads);
	for (int s = 0; s < nprocs; s++)
		spawn(s);
	uint64_t rng = mix(seed, 77);
	long start = now_ms(), last_tick = start;
	unsigned long seen[MAXPROCS] = {0};
	long seen_at[MAXPROCS];
	for (int s = 0; s < nprocs; s++)
		seen_at[s] = start;
	long respawns = 0, stalls = 0;
	static const int sigs[] = {SIGUSR1, SIGUSR2, SIGALRM, SIGCHLD, SIGWINCH, SIGCONT,
				   SIGSTOP, SIGPIPE, SIGHUP, SIGURG, 34, 40, 64};
	for (;;) {
		long t = now_ms();
		if (t - start >= millis)
			break;
		int st;
		pid_t p;
		while ((p = waitpid(-1, &st, WNOHANG)) > 0)
			for (int s = 0; s < nprocs; s++)
				if (pids[s] == p) {
					spawn(s);
					seen_at[s] = t;
					respawns++;
				}
		for (int s = 0; s < nprocs; s++) {
			unsigned long c = sh->calls[s];
			if (c != seen[s]) {
				seen[s] = c;
				seen_at[s] = t;
			} else if (t - seen_at[s] > STALL_MS) {
				// Stuck in a call nothing interrupts (its timer
				// deleted, signals blocked): SIGKILL always works.
				kill(pids[s], SIGKILL);
				seen_at[s] = t;
				stalls++;
			}
		}
		uint64_t r = next(&rng);
		int s = r % nprocs;
		int sig = sigs[(r >> 8) % (sizeof sigs / sizeof *sigs)];
		kill(pids[s], sig);
		if (sig == SIGSTOP)
			kill(pids[s], SIGCONT);
		if (t - last_tick >= 1000) {
			unsigned long total = 0;
			for (int i = 0; i < nprocs; i++)
				total += sh->calls[i];
			printf("FUZZ tick t=%ld calls=%lu respawns=%ld stalls=%ld\n", (t - start) / 1000, total, respawns, stalls);
			last_tick = t;
			reclaim();
		}
		usleep(2000 + (r >> 16) % 8000);
	}
	unsigned long total = 0;
	for (int s = 0; s < nprocs; s++) {
		total += sh->calls[s];
		kill(pids[s], SIGKILL);
	}
	long deadline = now_ms() + 10000;
	while (now_ms() < deadline) {
		int st;
		if (waitpid(-1, &st, WNOHANG) < 0 && errno == ECHILD)
			break;
		usleep(10000);
	}
	printf("FUZZ done calls=%lu respawns=%ld stalls=%ld\n", total, respawns, stalls);
	return 0;
}
