package tests

import "testing"

// errorsSchedC: the scheduling and priority calls, getcpu, the pidfd
// calls, unshare, setns, mount, umount2 and pivot_root (which may only
// fail here: natively they would act on the host), fadvise64 and the
// clock-adjusting calls' argument checks.
// Linux: kernel/sched/syscalls.c, kernel/sys.c, block/ioprio.c,
// kernel/pid.c, kernel/signal.c, kernel/nsproxy.c, fs/namespace.c,
// mm/fadvise.c, kernel/time/posix-timers.c
const errorsSchedC = errorsHdr + `#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/sysmacros.h>
#include <sys/timex.h>

struct sched_attr { unsigned size, policy; unsigned long long flags; int nice; unsigned prio; unsigned long long rt[3]; unsigned umin, umax; };

int main(void) {
	initbad();
	int root = geteuid() == 0;
	char dir[] = "/tmp/errors-sched-XXXXXX";
	if (!mkdtemp(dir)) { perror("mkdtemp"); return 1; }
	pid_t kid = fork();
	if (kid == 0) { pause(); _exit(0); }
	/* sched_* */
	struct sched_param sp = {0};
	R("sched_getparam pid -1", sched_getparam(-1, &sp));
	R("sched_getparam no such pid", sched_getparam(999999, &sp));
	R("sched_getparam NULL", syscall(SYS_sched_getparam, 0, NULL));
	R("sched_getparam no such pid NULL", syscall(SYS_sched_getparam, 999999, NULL));
	R("sched_getparam bad ptr", syscall(SYS_sched_getparam, 0, BAD));
	R("sched_getscheduler pid -1", sched_getscheduler(-1));
	R("sched_getscheduler no such pid", sched_getscheduler(999999));
	R("sched_getscheduler child", sched_getscheduler(kid));
	R("sched_setscheduler no such pid", sched_setscheduler(999999, SCHED_OTHER, &sp));
	R("sched_setscheduler pid -1", sched_setscheduler(-1, SCHED_OTHER, &sp));
	R("sched_setscheduler bad ptr", syscall(SYS_sched_setscheduler, 0, SCHED_OTHER, BAD));
	sp.sched_priority = 1;
	if (!root)
		R("sched_setscheduler FIFO as a user", sched_setscheduler(0, SCHED_FIFO, &sp));
	sp.sched_priority = 100;
	R("sched_setscheduler FIFO prio 100", sched_setscheduler(0, SCHED_FIFO, &sp));
	sp.sched_priority = 0;
	R("sched_setscheduler FIFO prio 0", sched_setscheduler(0, SCHED_FIFO, &sp));
	R("sched_setscheduler IDLE", sched_setscheduler(kid, SCHED_IDLE, &sp));
	R("sched_getscheduler child", sched_getscheduler(kid));
	R("sched_setscheduler BATCH|RESET_ON_FORK", sched_setscheduler(0, SCHED_BATCH | SCHED_RESET_ON_FORK, &sp));
	R("sched_getscheduler", sched_getscheduler(0));
	pid_t c = fork();
	if (c == 0) { R("sched_getscheduler in a child", sched_getscheduler(0)); _exit(0); }
	waitpid(c, NULL, 0);
	R("sched_getattr", syscall(SYS_sched_getattr, 0, &(struct sched_attr){0}, sizeof(struct sched_attr), 0));
	R("sched_setscheduler OTHER (drops RESET_ON_FORK)", sched_setscheduler(0, SCHED_OTHER, &sp));
	R("sched_setscheduler IDLE|RESET_ON_FORK", sched_setscheduler(0, SCHED_IDLE | SCHED_RESET_ON_FORK, &sp));
	R("sched_setscheduler OTHER|RESET_ON_FORK (leaves IDLE)", sched_setscheduler(0, SCHED_OTHER | SCHED_RESET_ON_FORK, &sp));
	R("sched_getscheduler", sched_getscheduler(0));
	R("sched_setparam prio 0", sched_setparam(0, &sp));
	R("sched_getscheduler", sched_getscheduler(0));
	R("sched_get_priority_max 99", sched_get_priority_max(99));
	R("sched_get_priority_max -1", sched_get_priority_max(-1));
	R("sched_get_priority_min 99", sched_get_priority_min(99));
	R("sched_get_priority_max FIFO", sched_get_priority_max(SCHED_FIFO));
	R("sched_get_priority_min RR", sched_get_priority_min(SCHED_RR));
	R("sched_get_priority_max BATCH", sched_get_priority_max(SCHED_BATCH));
	R("sched_get_priority_min DEADLINE", sched_get_priority_min(6));
	struct timespec ts;
	R("sched_rr_get_interval pid -1", sched_rr_get_interval(-1, &ts));
	R("sched_rr_get_interval no such pid", sched_rr_get_interval(999999, &ts));
	R("sched_rr_get_interval bad ptr", syscall(SYS_sched_rr_get_interval, 0, BAD));
	cpu_set_t cs;
	CPU_ZERO(&cs);
	R("sched_setaffinity empty", sched_setaffinity(0, sizeof cs, &cs));
	CPU_SET(0, &cs);
	R("sched_setaffinity no such pid", sched_setaffinity(999999, sizeof cs, &cs));
	R("sched_setaffinity bad ptr", syscall(SYS_sched_setaffinity, 0, sizeof cs, BAD));
	R("sched_setaffinity len 0", syscall(SYS_sched_setaffinity, 0, 0, &cs));
	R("sched_setaffinity pid -1", sched_setaffinity(-1, sizeof cs, &cs));
	CPU_ZERO(&cs);
	CPU_SET(1000, &cs);
	R("sched_setaffinity only CPU 1000", sched_setaffinity(0, sizeof cs, &cs));
	R("sched_getaffinity len 0", syscall(SYS_sched_getaffinity, 0, 0, &cs));
	R("sched_getaffinity len 7", syscall(SYS_sched_getaffinity, 0, 7, &cs));
	R("sched_getaffinity len 128", syscall(SYS_sched_getaffinity, 0, 128, &cs));
	R("sched_getaffinity no such pid", syscall(SYS_sched_getaffinity, 999999, 128, &cs));
	R("sched_getaffinity pid -1", syscall(SYS_sched_getaffinity, -1, 128, &cs));
	R("sched_getaffinity bad ptr", syscall(SYS_sched_getaffinity, 0, 128, BAD));
	unsigned cpu;
	R("getcpu bad cpu", syscall(SYS_getcpu, BAD, NULL, NULL));
	R("getcpu bad node", syscall(SYS_getcpu, &cpu, BAD, NULL));
	R("getcpu NULL NULL", syscall(SYS_getcpu, NULL, NULL, NULL));
	struct sched_attr at = {.size = sizeof at};
	R("sched_setattr no such pid", syscall(SYS_sched_setattr, 999999, &at, 0));
	R("sched_setattr pid -1", syscall(SYS_sched_setattr, -1, &at, 0));
	R("sched_setattr bad ptr", syscall(SYS_sched_setattr, 0, BAD, 0));
	R("sched_setattr NULL", syscall(SYS_sched_setattr, 0, NULL, 0));
	R("sched_setattr bad flags", syscall(SYS_sched_setattr, 0, &at, 1));
	R("sched_getattr pid -1", syscall(SYS_sched_getattr, -1, &at, sizeof at, 0));
	R("sched_getattr bad ptr", syscall(SYS_sched_getattr, 0, BAD, sizeof at, 0));
	/* priorities */
	R("setpriority bad which", setpriority(7, 0, 0));
	R("setpriority no such pgrp", setpriority(PRIO_PGRP, 999999, 0));
	R("setpriority no such user", setpriority(PRIO_USER, 999999, 0));
	R("getpriority no such user", getpriority(PRIO_USER, 999999));
	R("getpriority no such pgrp", getpriority(PRIO_PGRP, 999999));
	R("ioprio_set no such pid", syscall(SYS_ioprio_set, 1, 999999, 0));
	R("ioprio_set bad which", syscall(SYS_ioprio_set, 9, 0, 0));
	R("ioprio_set no such pgrp", syscall(SYS_ioprio_set, 2, 999999, 0));
	R("ioprio_get no such pgrp", syscall(SYS_ioprio_get, 2, 999999));
	if (!root)
		R("ioprio_set RT as a user", syscall(SYS_ioprio_set, 1, 0, (1 << 13) | 4));
	/* pidfd */
	R("pidfd_open bad flags", syscall(SYS_pidfd_open, kid, 1));
	R("pidfd_open pid 0", syscall(SYS_pidfd_open, 0, 0));
	R("pidfd_open pid -1", syscall(SYS_pidfd_open, -1, 0));
	R("pidfd_open no such pid", syscall(SYS_pidfd_open, 999999, 0));
	R("pidfd_open no such pid bad flags", syscall(SYS_pidfd_open, 999999, 1));
	int pfd = syscall(SYS_pidfd_open, kid, 0);
	siginfo_t si = {.si_signo = SIGUSR1, .si_code = SI_QUEUE};
	R("pidfd_send_signal bad flags", syscall(SYS_pidfd_send_signal, pfd, 0, NULL, 0x100));
	R("pidfd_send_signal bad fd", syscall(SYS_pidfd_send_signal, 999, 0, NULL, 0));
	R("pidfd_send_signal not a pidfd", syscall(SYS_pidfd_send_signal, 1, 0, NULL, 0));
	R("pidfd_send_signal sig 65", syscall(SYS_pidfd_send_signal, pfd, 65, NULL, 0));
	R("pidfd_send_signal bad info", syscall(SYS_pidfd_send_signal, pfd, SIGUSR1, BAD, 0));
	R("pidfd_send_signal signo mismatch", syscall(SYS_pidfd_send_signal, pfd, SIGUSR2, &si, 0));
	si.si_code = SI_USER;
	R("pidfd_send_signal SI_USER other", syscall(SYS_pidfd_send_signal, pfd, SIGUSR1, &si, 0));
	R("pidfd_send_signal sig 0", syscall(SYS_pidfd_send_signal, pfd, 0, NULL, 0));
	R("pidfd_getfd bad flags", syscall(SYS_pidfd_getfd, pfd, 0, 1));
	R("pidfd_getfd bad pidfd", syscall(SYS_pidfd_getfd, 999, 0, 0));
	R("pidfd_getfd not a pidfd", syscall(SYS_pidfd_getfd, 1, 0, 0));
	R("pidfd_getfd bad target fd", syscall(SYS_pidfd_getfd, pfd, 999, 0));
	R("pidfd_getfd", syscall(SYS_pidfd_getfd, pfd, 1, 0) >= 0);
	kill(kid, SIGKILL);
	waitpid(kid, NULL, 0);
	R("pidfd_send_signal reaped", syscall(SYS_pidfd_send_signal, pfd, 0, NULL, 0));
	R("pidfd_getfd reaped", syscall(SYS_pidfd_getfd, pfd, 1, 0));
	if (root) {
		/* a user's pidfd on a root process */
		pid_t c = fork();
		if (c == 0) {
			int fd = syscall(SYS_pidfd_open, getppid(), 0);
			setgid(1000); setuid(1000);
			R("as a user: pidfd_send_signal to root", syscall(SYS_pidfd_send_signal, fd, SIGUSR1, NULL, 0));
			R("as a user: pidfd_getfd from root", syscall(SYS_pidfd_getfd, fd, 1, 0));
			_exit(0);
		}
		waitpid(c, NULL, 0);
	}
	if (root) {
		/* a user's scheduling calls on a root process */
		pid_t c = fork();
		if (c == 0) {
			setgid(1000); setuid(1000);
			pid_t pp = getppid();
			cpu_set_t one;
			CPU_ZERO(&one);
			CPU_SET(0, &one);
			struct sched_param p0 = {0};
			struct sched_attr a0 = {.size = sizeof a0};
			R("as a user: sched_setaffinity of root's", sched_setaffinity(pp, sizeof one, &one));
			R("as a user: sched_getaffinity of root's", syscall(SYS_sched_getaffinity, pp, sizeof one, &one));
			R("as a user: sched_setscheduler of root's", sched_setscheduler(pp, SCHED_OTHER, &p0));
			R("as a user: sched_setparam of root's", sched_setparam(pp, &p0));
			R("as a user: sched_setattr of root's", syscall(SYS_sched_setattr, pp, &a0, 0));
			R("as a user: setpriority of root's", setpriority(PRIO_PROCESS, pp, 0));
			R("as a user: ioprio_set of root's", syscall(SYS_ioprio_set, 1, pp, 2 << 13));
			R("as a user: getpriority of root's", getpriority(PRIO_PROCESS, pp) >= 0);
			_exit(0);
		}
		waitpid(c, NULL, 0);
	}
	/* namespaces */
	R("unshare bad flags", unshare(0x10));
	R("unshare THREAD (one thread)", unshare(CLONE_THREAD));
	R("unshare VM|SIGHAND (one thread)", unshare(CLONE_VM | CLONE_SIGHAND));
	if (!root) {
		R("unshare NEWUTS as a user", unshare(CLONE_NEWUTS));
		R("unshare NEWNS as a user", unshare(CLONE_NEWNS));
	}
	int nsfd = open("/proc/self/ns/uts", O_RDONLY);
	int dfd = open(dir, O_RDONLY);
	R("setns bad fd", setns(999, 0));
	R("setns not a namespace", setns(dfd, 0));
	R("setns wrong type", setns(nsfd, CLONE_NEWNET));
	R("setns bad type", setns(nsfd, 0x10));
	if (!root)
		R("setns as a user", setns(nsfd, CLONE_NEWUTS));
	R("setns pidfd reaped", setns(pfd, CLONE_NEWUTS));
	/* mount, umount2, pivot_root: only failures */
	char sub[64];
	snprintf(sub, sizeof sub, "%s/missing", dir);
	R("mount missing target", mount("none", sub, "tmpfs", 0, NULL));
	R("mount bad target", mount("none", BAD, "tmpfs", 0, NULL));
	R("mount bad fstype ptr", mount("none", dir, BAD, 0, NULL));
	R("mount unknown fstype", mount("none", dir, "nosuchfs", 0, NULL));
	R("mount REMOUNT not a mount point", mount("none", dir, NULL, MS_REMOUNT, NULL));
	R("mount MOVE not a mount point", mount(dir, dir, NULL, MS_MOVE, NULL));
	R("mount BIND missing source", mount(sub, dir, NULL, MS_BIND, NULL));
	R("umount2 missing", umount2(sub, 0));
	R("umount2 bad path", umount2(BAD, 0));
	R("umount2 not a mount point", umount2(dir, 0));
	R("umount2 bad flags", umount2(dir, 0x100));
	R("umount2 EXPIRE|DETACH", umount2(dir, MNT_EXPIRE | MNT_DETACH));
	R("umount2 EXPIRE|FORCE", umount2(dir, MNT_EXPIRE | MNT_FORCE));
	R("pivot_root missing", syscall(SYS_pivot_root, sub, sub));
	R("pivot_root not a directory", syscall(SYS_pivot_root, "/etc/passwd", "/etc/passwd"));
	R("pivot_root bad path", syscall(SYS_pivot_root, BAD, dir));
	/* fadvise64 */
	int p[2];
	pipe(p);
	char path[64];
	snprintf(path, sizeof path, "%s/f", dir);
	int fd = open(path, O_CREAT | O_RDWR, 0644);
	R("fadvise64 bad fd", syscall(SYS_fadvise64, 999, 0, 0, POSIX_FADV_NORMAL));
	R("fadvise64 pipe", syscall(SYS_fadvise64, p[0], 0, 0, POSIX_FADV_NORMAL));
	R("fadvise64 pipe bad advice", syscall(SYS_fadvise64, p[0], 0, 0, 99));
	R("fadvise64 bad advice", syscall(SYS_fadvise64, fd, 0, 0, 99));
	R("fadvise64 negative len", syscall(SYS_fadvise64, fd, 0, -1L, POSIX_FADV_NORMAL));
	R("fadvise64 negative offset", syscall(SYS_fadvise64, fd, -1L, 0, POSIX_FADV_NORMAL));
	R("fadvise64 DONTNEED", syscall(SYS_fadvise64, fd, 0, 0, POSIX_FADV_DONTNEED));
	int op = open(path, O_PATH);
	R("fadvise64 O_PATH", syscall(SYS_fadvise64, op, 0, 0, POSIX_FADV_NORMAL));
	int sv[2];
	socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	R("fadvise64 socket", syscall(SYS_fadvise64, sv[0], 0, 0, POSIX_FADV_NORMAL));
	R("fadvise64 directory", syscall(SYS_fadvise64, dfd, 0, 0, POSIX_FADV_WILLNEED));
	R("fadvise64 /proc file", syscall(SYS_fadvise64, open("/proc/self/status", O_RDONLY), 0, 0, POSIX_FADV_DONTNEED));
	/* NUMA memory policies (this host has one node) */
	unsigned long nm[20] = {1}, got[20];
	int mode = -1;
	char *m = mmap(NULL, 3 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	munmap(m + 4096, 4096);
	R("set_mempolicy bad mode", syscall(SYS_set_mempolicy, 7, nm, 65));
	R("set_mempolicy STATIC|RELATIVE", syscall(SYS_set_mempolicy, 2 | (3 << 14), nm, 65));
	R("set_mempolicy NUMA_BALANCING INTERLEAVE", syscall(SYS_set_mempolicy, 3 | (1 << 13), nm, 65));
	R("set_mempolicy maxnode past a page", syscall(SYS_set_mempolicy, 2, nm, 4096 * 8 + 2));
	R("set_mempolicy bad mask", syscall(SYS_set_mempolicy, 2, BAD, 65));
	R("set_mempolicy BIND no nodes", syscall(SYS_set_mempolicy, 2, NULL, 0));
	R("set_mempolicy DEFAULT with nodes", syscall(SYS_set_mempolicy, 0, nm, 65));
	R("set_mempolicy LOCAL with nodes", syscall(SYS_set_mempolicy, 4, nm, 65));
	nm[0] = 2;
	R("set_mempolicy BIND node 1 only", syscall(SYS_set_mempolicy, 2, nm, 65));
	R("set_mempolicy BIND node 1 relative", syscall(SYS_set_mempolicy, 2 | (1 << 14), nm, 65));
	R("get_mempolicy", syscall(SYS_get_mempolicy, &mode, got, 65, 0, 0));
	printf("  mode %#x nodes %#lx\n", mode, got[0]);
	nm[0] = 0;
	nm[17] = 1;
	R("set_mempolicy node past MAX_NUMNODES", syscall(SYS_set_mempolicy, 2, nm, 18 * 64 + 1));
	nm[17] = 0;
	R("set_mempolicy PREFERRED no nodes", syscall(SYS_set_mempolicy, 1, nm, 65));
	R("get_mempolicy", syscall(SYS_get_mempolicy, &mode, got, 65, 0, 0));
	printf("  mode %#x nodes %#lx\n", mode, got[0]);
	nm[0] = 1;
	R("set_mempolicy INTERLEAVE", syscall(SYS_set_mempolicy, 3, nm, 65));
	R("get_mempolicy", syscall(SYS_get_mempolicy, &mode, got, 65, 0, 0));
	printf("  mode %#x nodes %#lx\n", mode, got[0]);
	R("get_mempolicy NODE (interleave)", syscall(SYS_get_mempolicy, &mode, NULL, 0, 0, 1));
	printf("  node %d\n", mode);
	R("set_mempolicy DEFAULT", syscall(SYS_set_mempolicy, 0, NULL, 0));
	R("get_mempolicy NODE (default)", syscall(SYS_get_mempolicy, &mode, NULL, 0, 0, 1));
	R("get_mempolicy bad flags", syscall(SYS_get_mempolicy, &mode, NULL, 0, 0, 8));
	R("get_mempolicy addr without ADDR", syscall(SYS_get_mempolicy, &mode, NULL, 0, m, 0));
	R("get_mempolicy ADDR unmapped", syscall(SYS_get_mempolicy, &mode, NULL, 0, m + 4096, 2));
	R("get_mempolicy ADDR|NODE", syscall(SYS_get_mempolicy, &mode, NULL, 0, m, 3));
	R("get_mempolicy MEMS_ALLOWED|NODE", syscall(SYS_get_mempolicy, &mode, NULL, 0, 0, 5));
	R("get_mempolicy MEMS_ALLOWED", syscall(SYS_get_mempolicy, &mode, got, 65, 0, 4));
	printf("  nodes %#lx\n", got[0]);
	R("get_mempolicy maxnode 0", syscall(SYS_get_mempolicy, &mode, got, 0, 0, 0));
	R("get_mempolicy bad mask", syscall(SYS_get_mempolicy, &mode, BAD, 65, 0, 0));
	R("get_mempolicy bad policy", syscall(SYS_get_mempolicy, BAD, NULL, 0, 0, 0));
	R("get_mempolicy mask past a page", syscall(SYS_get_mempolicy, &mode, got, 4096 * 8 + 2, 0, 0));
	R("mbind bad mode", syscall(SYS_mbind, m, 4096, 9, nm, 65, 0));
	R("mbind bad flags", syscall(SYS_mbind, m, 4096, 2, nm, 65, 8));
	R("mbind MOVE_ALL", syscall(SYS_mbind, m, 4096, 2, nm, 65, 4) == 0 ? 0 : -1);
	R("mbind unaligned", syscall(SYS_mbind, m + 1, 4096, 2, nm, 65, 0));
	R("mbind wraps", syscall(SYS_mbind, m, -4096L, 2, nm, 65, 0));
	R("mbind len 0", syscall(SYS_mbind, m, 0, 2, NULL, 0, 0));
	R("mbind BIND no nodes", syscall(SYS_mbind, m, 4096, 2, NULL, 0, 0));
	R("mbind over a hole", syscall(SYS_mbind, m, 3 * 4096, 2, nm, 65, 0));
	R("mbind unmapped", syscall(SYS_mbind, m + 4096, 4096, 2, nm, 65, 0));
	R("mbind bad mask", syscall(SYS_mbind, m, 4096, 2, BAD, 65, 0));
	R("mbind BIND node 0", syscall(SYS_mbind, m, 4096, 2, nm, 65, 0));
	R("mbind DEFAULT", syscall(SYS_mbind, m, 4096, 0, NULL, 0, 1));
	/* the clock-adjusting calls' checks */
	struct timex tx = {0};
	R("adjtimex bad ptr", syscall(SYS_adjtimex, BAD));
	R("clock_adjtime bad clock", syscall(SYS_clock_adjtime, 99, &tx));
	R("clock_adjtime bad ptr", syscall(SYS_clock_adjtime, CLOCK_REALTIME, BAD));
	R("clock_adjtime MONOTONIC", syscall(SYS_clock_adjtime, CLOCK_MONOTONIC, &tx));
	R("clock_adjtime CPU clock", syscall(SYS_clock_adjtime, CLOCK_PROCESS_CPUTIME_ID, &tx));
	R("clock_settime bad ptr", syscall(SYS_clock_settime, CLOCK_REALTIME, BAD));
	R("settimeofday bad tv", syscall(SYS_settimeofday, BAD, NULL));
	R("settimeofday bad tz", syscall(SYS_settimeofday, NULL, BAD));
	snprintf(path, sizeof path, "rm -rf %s", dir);
	system(path);
	return 0;
}
`

func TestErrorsSched(t *testing.T) {
	t.Parallel()
	prog := compileC(t, "errorssched", errorsSchedC)
	diff(t, []string{prog})
	diffAsUser(t, prog)
}
