package tests

import "testing"

// conformMiscC: kcmp; file handles (procfs has none, a forged handle is
// stale); remap_file_pages; raw sockets without a protocol; epoll files
// in epoll files (loops and the nesting limit); inotify's IN_ATTRIB,
// IN_DELETE_SELF and IN_IGNORED; ETXTBSY both ways; RLIMIT_CPU's SIGXCPU
// and SIGKILL in a fork child; the time and machine calls a user may not
// make (natively only as uid 1000: root would change the host's clock);
// the x87 state across a signal handler. Linux: kernel/kcmp.c,
// fs/fhandle.c, mm/mmap.c, fs/eventpoll.c, fs/notify/, fs/exec.c,
// kernel/time/posix-cpu-timers.c, kernel/time/time.c
const conformMiscC = `#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/inotify.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/timex.h>
#include <sys/wait.h>

#define R(what, expr) do { errno = 0; long _r = (long)(expr); \
	printf("%-40s = %ld %s\n", what, _r, _r < 0 ? strerror(errno) : ""); fflush(stdout); } while (0)

static char dir[] = "/tmp/conform-misc-XXXXXX";

static void events(int in) {
	char buf[4096];
	usleep(50000);
	long n = read(in, buf, sizeof buf);
	for (char *p = buf; n > 0 && p < buf + n;) {
		struct inotify_event *e = (void *)p;
		printf("  event mask %#x name \"%s\"\n", e->mask, e->len ? e->name : "");
		p += sizeof *e + e->len;
	}
}

static void onusr1(int s) { (void)s; }

int main(int argc, char **argv) {
	int root = geteuid() == 0;
	if (!mkdtemp(dir)) { perror("mkdtemp"); return 1; }
	char path[128];
	/* kcmp */
	R("kcmp VM self", syscall(SYS_kcmp, getpid(), getpid(), 1, 0, 0));
	R("kcmp FILES self", syscall(SYS_kcmp, getpid(), getpid(), 2, 0, 0));
	R("kcmp FILE 0 vs 0", syscall(SYS_kcmp, getpid(), getpid(), 0, 0, 0));
	int d = dup(1);
	R("kcmp FILE 1 vs dup", syscall(SYS_kcmp, getpid(), getpid(), 0, 1, d));
	R("kcmp FILE bad fd", syscall(SYS_kcmp, getpid(), getpid(), 0, 0, 555));
	R("kcmp bad type", syscall(SYS_kcmp, getpid(), getpid(), 99, 0, 0));
	R("kcmp bad pid", syscall(SYS_kcmp, 999999, getpid(), 1, 0, 0));
	R("kcmp SYSVSEM self", syscall(SYS_kcmp, getpid(), getpid(), 6, 0, 0));
	int pp[2];
	pipe(pp);
	pid_t c = fork();
	if (c == 0) { char x; read(pp[0], &x, 1); _exit(0); }
	long vm = syscall(SYS_kcmp, getpid(), c, 1, 0, 0);
	long fs = syscall(SYS_kcmp, getpid(), c, 3, 0, 0);
	printf("kcmp fork child: VM differs %d FS differs %d FILE 1 same %ld\n", vm > 0, fs > 0, syscall(SYS_kcmp, getpid(), c, 0, 1, 1));
	write(pp[1], "x", 1);
	waitpid(c, NULL, 0);
	/* file handles: procfs has none; a forged handle is stale */
	struct { unsigned bytes; int type; unsigned char h[16]; } fh = {16, 1, {0}};
	int mnt;
	R("name_to_handle_at /proc file", syscall(SYS_name_to_handle_at, AT_FDCWD, "/proc/self/status", &fh, &mnt, 0));
	R("name_to_handle_at bad flags", syscall(SYS_name_to_handle_at, AT_FDCWD, "/proc/self/status", &fh, &mnt, 0x4000));
	R("name_to_handle_at missing", syscall(SYS_name_to_handle_at, AT_FDCWD, "/nonexistent", &fh, &mnt, 0));
	fh.bytes = 8;
	R("open_by_handle_at forged", syscall(SYS_open_by_handle_at, AT_FDCWD, &fh, O_RDONLY));
	/* remap_file_pages */
	snprintf(path, sizeof path, "%s/pages", dir);
	int fd = open(path, O_CREAT | O_RDWR, 0600);
	for (int i = 0; i < 4; i++) { char pg[4096]; memset(pg, 'a' + i, sizeof pg); write(fd, pg, sizeof pg); }
	char *p = mmap(0, 4 * 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	char *q = mmap(0, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	R("remap_file_pages prot", remap_file_pages(p, 4096, 1, 3, 0));
	R("remap_file_pages size 0", remap_file_pages(p, 0, 0, 3, 0));
	R("remap_file_pages private", remap_file_pages(q, 4096, 0, 0, 0));
	R("remap_file_pages past the end", remap_file_pages(p, 5 * 4096, 0, 0, 0));
	R("remap_file_pages page 0 to 3", remap_file_pages(p, 4096, 0, 3, 0));
	printf("  pages %c %c %c %c\n", p[0], p[4096], p[8192], p[12288]);
	p[0] = 'Z';
	char ch;
	pread(fd, &ch, 1, 3 * 4096);
	printf("  file page 3 starts with %c\n", ch);
	close(fd);
	unlink(path);
	/* sockets */
	R("socket INET RAW proto 0", socket(AF_INET, SOCK_RAW, 0));
	R("socket INET6 RAW proto 0", socket(AF_INET6, SOCK_RAW, 0));
	R("socket INET SEQPACKET", socket(AF_INET, SOCK_SEQPACKET, 0));
	/* epoll in epoll: loops and depth */
	struct epoll_event ev = {.events = EPOLLIN};
	int e1 = epoll_create1(0), e2 = epoll_create1(0);
	R("epoll add e2 to e1", epoll_ctl(e1, EPOLL_CTL_ADD, e2, &ev));
	R("epoll add e1 to e2 (loop)", epoll_ctl(e2, EPOLL_CTL_ADD, e1, &ev));
	R("epoll add e1 to itself", epoll_ctl(e1, EPOLL_CTL_ADD, e1, &ev));
	int eps[8];
	eps[0] = epoll_create1(0);
	for (int i = 1; i < 8; i++) {
		eps[i] = epoll_create1(0);
		errno = 0;
		int r = epoll_ctl(eps[i], EPOLL_CTL_ADD, eps[i - 1], &ev);
		printf("nest level %d = %d %s\n", i, r, r ? strerror(errno) : "");
	}
	int top = epoll_create1(0);
	R("epoll add a chain's middle", epoll_ctl(top, EPOLL_CTL_ADD, eps[3], &ev));
	/* inotify: IN_ATTRIB, IN_DELETE_SELF and IN_IGNORED */
	int in = inotify_init1(IN_NONBLOCK);
	snprintf(path, sizeof path, "%s/sub", dir);
	mkdir(path, 0755);
	char f1[160], f2[160];
	snprintf(f1, sizeof f1, "%s/f", path);
	snprintf(f2, sizeof f2, "%s/g", path);
	close(open(f1, O_CREAT | O_WRONLY, 0644));
	link(f1, f2);
	inotify_add_watch(in, path, IN_ALL_EVENTS);
	inotify_add_watch(in, f1, IN_ALL_EVENTS);
	unlink(f2);
	printf("unlink one of two names:\n");
	events(in);
	unlink(f1);
	printf("unlink the last name:\n");
	events(in);
	rmdir(path);
	printf("rmdir the watched directory:\n");
	events(in);
	/* ETXTBSY */
	R("open own executable for writing", open("/proc/self/exe", O_WRONLY));
	R("open own executable O_RDWR", open("/proc/self/exe", O_RDWR));
	snprintf(path, sizeof path, "%s/script", dir);
	int w = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0755);
	write(w, "#!/bin/sh\nexit 0\n", 17);
	c = fork();
	if (c == 0) { execl(path, "script", (char *)NULL); printf("exec while open for writing: %s\n", strerror(errno)); fflush(stdout); _exit(0); }
	waitpid(c, NULL, 0);
	close(w);
	c = fork();
	if (c == 0) { execl(path, "script", (char *)NULL); _exit(99); }
	int st;
	waitpid(c, &st, 0);
	printf("exec after close: exit %d\n", WEXITSTATUS(st));
	unlink(path);
	/* RLIMIT_CPU: SIGXCPU at the soft limit (its default action kills);
	   SIGKILL at the hard limit. The limit counts in a fork child. */
	for (int k = 0; k < 2; k++) {
		c = fork();
		if (c == 0) {
			struct rlimit rl = {1, k ? 1 : RLIM_INFINITY};
			setrlimit(RLIMIT_CPU, &rl);
			pid_t g = fork();
			if (g == 0) for (volatile long i = 0;; i++) ;
			waitpid(g, &st, 0);
			_exit(WIFSIGNALED(st) ? WTERMSIG(st) : 0);
		}
		waitpid(c, &st, 0);
		printf("RLIMIT_CPU %s: killed by signal %d\n", k ? "soft = hard" : "soft only", WEXITSTATUS(st));
	}
	/* time and the machine: EPERM without CAP_SYS_TIME / CAP_SYS_BOOT
	   (natively only as uid 1000: root would change the host) */
	struct timex tx = {0};
	R("adjtimex read-only", adjtimex(&tx) >= 0);
	R("clock_adjtime read-only", clock_adjtime(CLOCK_REALTIME, &tx) >= 0);
	if (!root) {
		struct timespec ts = {1, 0};
		R("clock_settime", clock_settime(CLOCK_REALTIME, &ts));
		ts.tv_nsec = 2000000000;
		R("clock_settime bad nsec", clock_settime(CLOCK_REALTIME, &ts));
		struct timeval tv = {1, 0};
		R("settimeofday", settimeofday(&tv, NULL));
		tx.modes = ADJ_OFFSET;
		R("adjtimex ADJ_OFFSET", adjtimex(&tx));
		R("reboot CAD_OFF", syscall(SYS_reboot, 0xfee1dead, 672274793, 0, 0));
		R("sethostname", sethostname("x", 1));
	}
	/* the x87 state survives a signal handler */
	signal(SIGUSR1, onusr1);
	volatile long double x = 1.5L;
	raise(SIGUSR1);
	printf("x87 after a handler %Lf\n", x * 2);
	rmdir(dir);
	return 0;
}
`

func TestConformMisc(t *testing.T) {
	t.Parallel()
	prog := compileC(t, "conformmisc", conformMiscC)
	diff(t, []string{prog})
	diffAsUser(t, prog)
}

// procSysScript reads the /proc/sys entries programs look at and the
// host kernel's configuration; natively in a fresh IPC namespace, as the
// sandbox has its own IPC limits.
const procSysScript = `for f in kernel/version kernel/tainted kernel/pid_max kernel/threads-max kernel/cap_last_cap \
	kernel/overflowuid kernel/overflowgid fs/inotify/max_user_watches fs/inotify/max_user_instances \
	fs/inotify/max_queued_events fs/lease-break-time fs/leases-enable fs/pipe-user-pages-soft \
	fs/pipe-user-pages-hard vm/max_map_count kernel/msgmax kernel/msgmnb kernel/msgmni kernel/sem \
	kernel/shmmax kernel/shmall kernel/shmmni; do printf "%s: " $f; cat /proc/sys/$f; done
zcat /proc/config.gz | grep -c ^CONFIG_; ls -l /proc/config.gz | cut -c1-10`

func TestConformProcSys(t *testing.T) {
	t.Parallel()
	native := runNative(t, []string{"unshare", "-i", "/bin/sh", "-c", procSysScript})
	gb := runGlassbox(t, nil, []string{"/bin/sh", "-c", procSysScript})
	if native.Stdout != gb.Stdout || native.Code != gb.Code {
		t.Errorf("glassbox differs from native\n===== native: %s\n===== glassbox: %s", native, gb)
	}
}
