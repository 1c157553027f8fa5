package tests

import "testing"

// errorsCredC: the set*id calls, setgroups, getgroups, getres*id,
// capget, capset, prctl, arch_prctl, the resource limits, getrusage,
// times, sysinfo, uname, getrandom, the robust-list calls, sethostname
// and setdomainname. Whatever would change the process's credentials is
// done in a child; sethostname and setdomainname only fail.
// Linux: kernel/sys.c, kernel/groups.c, kernel/capability.c,
// arch/x86/kernel/process_64.c, drivers/char/random.c,
// kernel/futex/syscalls.c
const errorsCredC = errorsHdr + `#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/sysinfo.h>
#include <sys/times.h>
#include <sys/utsname.h>
#include <asm/prctl.h>

static void child(void (*fn)(void)) {
	pid_t c = fork();
	if (c == 0) { fn(); fflush(stdout); _exit(0); }
	waitpid(c, NULL, 0);
}

static void ids(void) {
	R("setuid -1", setuid(-1));
	R("setgid -1", setgid(-1));
	R("setreuid -1 -1", setreuid(-1, -1));
	R("setresuid -1 -1 -1", setresuid(-1, -1, -1));
	R("setuid 0", setuid(0));
	R("setgid 0", setgid(0));
	R("setreuid 0 -1", setreuid(0, -1));
	R("setreuid -1 0", setreuid(-1, 0));
	R("setregid 0 -1", setregid(0, -1));
	R("setresuid 0 -1 -1", setresuid(0, -1, -1));
	R("setresuid -1 -1 0", setresuid(-1, -1, 0));
	R("setresgid 0 0 0", setresgid(0, 0, 0));
	R("setresgid -1 -1 2000", setresgid(-1, -1, 2000));
	R("setfsuid 2000 (returns the old)", setfsuid(2000));
	R("setfsuid -1 (query)", setfsuid(-1));
	R("setfsgid 2000 (returns the old)", setfsgid(2000));
	R("setfsgid -1 (query)", setfsgid(-1));
	gid_t g[2] = {0, 1};
	R("setgroups 2", setgroups(2, g));
	R("setgroups 65537", setgroups(65537, g));
	R("setgroups -1", syscall(SYS_setgroups, -1, g));
	R("setgroups bad list", setgroups(2, BAD));
	R("setgroups 0", setgroups(0, NULL));
	R("getgroups -1", syscall(SYS_getgroups, -1, g));
	R("getgroups 0 bad list", getgroups(0, BAD));
	R("getgroups after", getgroups(2, g));
	/* dropped to 1000: the set*id calls may only choose among the ids held */
	R("setresuid 1000 1000 0", setresuid(1000, 1000, 0));
	R("setuid 0 (saved 0)", setuid(0));
	R("setresuid 1000 1000 1000", setresuid(1000, 1000, 1000));
	R("setuid 0 now", setuid(0));
	R("setreuid 1000 0", setreuid(1000, 0));
	R("setgroups as a user", setgroups(0, NULL));
	R("setgroups 65537 as a user", setgroups(65537, g));
}

static void oddids(void) {
	gid_t bad = -1;
	R("setgroups gid -1", setgroups(1, &bad));
	R("setresgid 4294967294 -1 -1", setresgid(4294967294u, -1, -1));
	R("setreuid -1 4294967294", setreuid(-1, 4294967294u));
	uid_t r, e, s;
	getresuid(&r, &e, &s);
	printf("  uids %u %u %u\n", r, e, s);
	R("setuid 0 (saved 0)", setuid(0));
	getresuid(&r, &e, &s);
	printf("  uids %u %u %u\n", r, e, s);
	R("setfsuid 4294967294", setfsuid(4294967294u));
	R("setfsuid -1 (query)", setfsuid(-1));
}

static void groups(void) {
	gid_t g[3] = {5, 6, 7};
	setgroups(3, g);
	R("getgroups 1 of 3", getgroups(1, g));
	R("getgroups 3 bad list", getgroups(3, BAD));
	R("getgroups 3", getgroups(3, g));
}

static void limits(void) {
	struct rlimit rl = {100, 50};
	R("setrlimit cur > max", setrlimit(RLIMIT_NOFILE, &rl));
	rl.rlim_cur = 10;
	R("setrlimit bad resource", syscall(SYS_setrlimit, 99, &rl));
	R("setrlimit bad resource bad ptr", syscall(SYS_setrlimit, 99, BAD));
	R("setrlimit bad ptr", syscall(SYS_setrlimit, RLIMIT_NOFILE, BAD));
	rl.rlim_cur = rl.rlim_max = 1UL << 30;
	R("setrlimit NOFILE past nr_open", setrlimit(RLIMIT_NOFILE, &rl));
	getrlimit(RLIMIT_CORE, &rl);
	rl.rlim_cur = 0;
	R("setrlimit CORE lower", setrlimit(RLIMIT_CORE, &rl));
	rl.rlim_max = 0;
	R("setrlimit CORE lower hard", setrlimit(RLIMIT_CORE, &rl));
	rl.rlim_max = 1;
	R("setrlimit CORE raise hard", setrlimit(RLIMIT_CORE, &rl));
	struct rlimit64 { uint64_t cur, max; } n = {0, 0}, o;
	R("prlimit64 bad resource", syscall(SYS_prlimit64, 0, 99, NULL, &o));
	R("prlimit64 no such pid", syscall(SYS_prlimit64, 999999, RLIMIT_CORE, NULL, &o));
	R("prlimit64 no such pid bad resource", syscall(SYS_prlimit64, 999999, 99, NULL, &o));
	R("prlimit64 bad new", syscall(SYS_prlimit64, 0, 99, BAD, &o));
	R("prlimit64 no such pid bad new", syscall(SYS_prlimit64, 999999, RLIMIT_CORE, BAD, &o));
	R("prlimit64 bad old", syscall(SYS_prlimit64, 0, RLIMIT_CORE, NULL, BAD));
	R("prlimit64 bad old with new", syscall(SYS_prlimit64, 0, RLIMIT_CORE, &n, BAD));
	n.cur = 5;
	R("prlimit64 cur > max", syscall(SYS_prlimit64, 0, RLIMIT_CORE, &n, NULL));
	R("prlimit64 to parent", syscall(SYS_prlimit64, getppid(), RLIMIT_CORE, NULL, &o));
}

static void prctls(void) {
	int root = geteuid() == 0;
	R("prctl unknown option", prctl(0x12345678, 0, 0, 0, 0));
	R("PR_SET_NAME bad ptr", prctl(PR_SET_NAME, BAD, 0, 0, 0));
	R("PR_GET_NAME bad ptr", prctl(PR_GET_NAME, BAD, 0, 0, 0));
	R("PR_SET_DUMPABLE 2", prctl(PR_SET_DUMPABLE, 2, 0, 0, 0));
	R("PR_SET_DUMPABLE 0", prctl(PR_SET_DUMPABLE, 0, 0, 0, 0));
	R("PR_GET_DUMPABLE", prctl(PR_GET_DUMPABLE, 0, 0, 0, 0));
	R("PR_SET_KEEPCAPS 2", prctl(PR_SET_KEEPCAPS, 2, 0, 0, 0));
	R("PR_GET_KEEPCAPS", prctl(PR_GET_KEEPCAPS, 0, 0, 0, 0));
	R("PR_CAPBSET_READ 99", prctl(PR_CAPBSET_READ, 99, 0, 0, 0));
	R("PR_CAPBSET_READ -1", prctl(PR_CAPBSET_READ, -1, 0, 0, 0));
	R("PR_CAPBSET_READ CAP_CHOWN", prctl(PR_CAPBSET_READ, CAP_CHOWN, 0, 0, 0));
	R("PR_CAPBSET_DROP 99", prctl(PR_CAPBSET_DROP, 99, 0, 0, 0));
	if (!root)
		R("PR_CAPBSET_DROP as a user", prctl(PR_CAPBSET_DROP, CAP_CHOWN, 0, 0, 0));
	R("PR_SET_NO_NEW_PRIVS 2", prctl(PR_SET_NO_NEW_PRIVS, 2, 0, 0, 0));
	R("PR_SET_NO_NEW_PRIVS 0", prctl(PR_SET_NO_NEW_PRIVS, 0, 0, 0, 0));
	R("PR_SET_NO_NEW_PRIVS extra arg", prctl(PR_SET_NO_NEW_PRIVS, 1, 1, 0, 0));
	R("PR_GET_NO_NEW_PRIVS extra arg", prctl(PR_GET_NO_NEW_PRIVS, 1, 0, 0, 0));
	R("PR_GET_SECUREBITS", prctl(PR_GET_SECUREBITS, 0, 0, 0, 0));
	if (!root)
		R("PR_SET_SECUREBITS as a user", prctl(PR_SET_SECUREBITS, 0, 0, 0, 0));
	R("PR_SET_TIMING 1", prctl(PR_SET_TIMING, 1, 0, 0, 0));
	R("PR_GET_TIMING", prctl(PR_GET_TIMING, 0, 0, 0, 0));
	R("PR_SET_ENDIAN", prctl(PR_SET_ENDIAN, 0, 0, 0, 0));
	R("PR_GET_ENDIAN", prctl(PR_GET_ENDIAN, BAD, 0, 0, 0));
	R("PR_SET_FPEMU", prctl(PR_SET_FPEMU, 0, 0, 0, 0));
	R("PR_GET_FPEXC", prctl(PR_GET_FPEXC, BAD, 0, 0, 0));
	R("PR_SET_UNALIGN", prctl(PR_SET_UNALIGN, 0, 0, 0, 0));
	R("PR_MCE_KILL 5", prctl(PR_MCE_KILL, 5, 0, 0, 0));
	R("PR_MCE_KILL CLEAR extra", prctl(PR_MCE_KILL, PR_MCE_KILL_CLEAR, 1, 0, 0));
	R("PR_MCE_KILL_GET extra", prctl(PR_MCE_KILL_GET, 1, 0, 0, 0));
	R("PR_SET_PTRACER no such pid", prctl(PR_SET_PTRACER, 999999, 0, 0, 0));
	R("PR_SET_TSC 3", prctl(PR_SET_TSC, 3, 0, 0, 0));
	R("PR_GET_TSC bad ptr", prctl(PR_GET_TSC, BAD, 0, 0, 0));
	R("PR_GET_TID_ADDRESS bad ptr", prctl(PR_GET_TID_ADDRESS, BAD, 0, 0, 0));
	R("PR_GET_CHILD_SUBREAPER bad ptr", prctl(PR_GET_CHILD_SUBREAPER, BAD, 0, 0, 0));
	R("PR_SET_PDEATHSIG bad", prctl(PR_SET_PDEATHSIG, -1, 0, 0, 0));
	R("PR_CAP_AMBIENT bad op", prctl(PR_CAP_AMBIENT, 9, 0, 0, 0));
	R("PR_CAP_AMBIENT_IS_SET 99", prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, 99, 0, 0));
	R("PR_CAP_AMBIENT_IS_SET extra", prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, CAP_CHOWN, 1, 0));
	R("PR_CAP_AMBIENT_RAISE", prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_CHOWN, 0, 0));
	R("PR_CAP_AMBIENT_CLEAR_ALL extra", prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 1, 0, 0));
	R("PR_SET_MM as such", prctl(PR_SET_MM, 99, 0, 0, 0));
	R("PR_SET_THP_DISABLE 2 extra", prctl(PR_SET_THP_DISABLE, 1, 0, 1, 0));
	R("PR_GET_THP_DISABLE extra", prctl(PR_GET_THP_DISABLE, 1, 0, 0, 0));
	R("PR_SET_IO_FLUSHER", prctl(PR_SET_IO_FLUSHER, 2, 0, 0, 0));
	R("PR_GET_IO_FLUSHER extra", prctl(PR_GET_IO_FLUSHER, 1, 0, 0, 0));
	R("PR_SET_CHILD_SUBREAPER ok", prctl(PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0));
	R("PR_TASK_PERF_EVENTS_DISABLE", prctl(PR_TASK_PERF_EVENTS_DISABLE, 0, 0, 0, 0));
	R("PR_TASK_PERF_EVENTS_ENABLE", prctl(PR_TASK_PERF_EVENTS_ENABLE, 0, 0, 0, 0));
	R("PR_MCE_KILL_GET", prctl(PR_MCE_KILL_GET, 0, 0, 0, 0));
	R("PR_MCE_KILL CLEAR", prctl(PR_MCE_KILL, PR_MCE_KILL_CLEAR, 0, 0, 0));
	R("PR_MCE_KILL SET EARLY", prctl(PR_MCE_KILL, PR_MCE_KILL_SET, PR_MCE_KILL_EARLY, 0, 0));
	R("PR_MCE_KILL_GET", prctl(PR_MCE_KILL_GET, 0, 0, 0, 0));
	R("PR_MCE_KILL SET bad policy", prctl(PR_MCE_KILL, PR_MCE_KILL_SET, 7, 0, 0));
	int tsc = -1;
	R("PR_GET_TSC", prctl(PR_GET_TSC, &tsc, 0, 0, 0));
	printf("  tsc %d\n", tsc);
	R("PR_SET_PTRACER 0", prctl(PR_SET_PTRACER, 0, 0, 0, 0));
	R("PR_SET_PTRACER ANY", prctl(PR_SET_PTRACER, PR_SET_PTRACER_ANY, 0, 0, 0));
	R("PR_SET_PTRACER self", prctl(PR_SET_PTRACER, getpid(), 0, 0, 0));
	int *tida = (int *)1;
	R("PR_GET_TID_ADDRESS", prctl(PR_GET_TID_ADDRESS, &tida, 0, 0, 0));
	printf("  set %d\n", tida != (int *)1);
	R("PR_SET_MM_MAP_SIZE", prctl(PR_SET_MM, PR_SET_MM_MAP_SIZE, &tsc, 0, 0));
	printf("  size %d\n", tsc);
	R("PR_SET_MM arg5", prctl(PR_SET_MM, 99, 0, 0, 1));
	R("PR_SET_MM arg4", prctl(PR_SET_MM, PR_SET_MM_START_CODE, 0, 1, 0));
	R("PR_SET_MDWE 0", prctl(65, 0, 0, 0, 0));
	R("PR_SET_MDWE bad bits", prctl(65, 4, 0, 0, 0));
	R("PR_SET_MDWE NO_INHERIT alone", prctl(65, 2, 0, 0, 0));
	R("PR_SET_MDWE extra", prctl(65, 0, 1, 0, 0));
	R("PR_GET_MDWE", prctl(66, 0, 0, 0, 0));
	R("PR_GET_MDWE extra", prctl(66, 1, 0, 0, 0));
	R("PR_GET_AUXV bad ptr", prctl(0x41555856, BAD, 64, 0, 0));
	R("PR_GET_AUXV extra", prctl(0x41555856, &tsc, 4, 1, 0));
	R("PR_GET_AUXV size 0", prctl(0x41555856, NULL, 0, 0, 0) > 0);
	R("PR_SCHED_CORE", prctl(62, 0, 0, 0, 0));
	R("PR_GET_MEMORY_MERGE", prctl(68, 0, 0, 0, 0));
	R("PR_SET_SYSCALL_USER_DISPATCH bad", prctl(59, 7, 0, 0, 0));
	R("PR_GET_SPECULATION_CTRL bad which", prctl(PR_GET_SPECULATION_CTRL, 99, 0, 0, 0));
	R("PR_SET_SPECULATION_CTRL bad which", prctl(PR_SET_SPECULATION_CTRL, 99, 0, 0, 0));
	R("PR_PAC_RESET_KEYS (arm64)", prctl(54, 0, 0, 0, 0));
	R("PR_SET_TAGGED_ADDR_CTRL (arm64)", prctl(55, 0, 0, 0, 0));
	R("PR_GET_TAGGED_ADDR_CTRL (arm64)", prctl(56, 0, 0, 0, 0));
	R("PR_SET_FP_MODE (mips)", prctl(45, 0, 0, 0, 0));
	R("PR_SVE_GET_VL (arm64)", prctl(51, 0, 0, 0, 0));
	R("PR_RISCV_V_GET_CONTROL", prctl(70, 0, 0, 0, 0));
	R("PR_GET_SHADOW_STACK_STATUS bad ptr", prctl(74, BAD, 0, 0, 0));
}

int main(void) {
	initbad();
	int root = geteuid() == 0;
	if (root) {
		child(ids);
		child(groups);
		child(oddids);
	} else {
		R("setuid 0", setuid(0));
		R("setuid -1", setuid(-1));
		R("setgid 0", setgid(0));
		R("setreuid 0 -1", setreuid(0, -1));
		R("setregid -1 0", setregid(-1, 0));
		R("setresuid 0 0 0", setresuid(0, 0, 0));
		R("setresgid -1 -1 0", setresgid(-1, -1, 0));
		R("setresuid -1 -1 1000", setresuid(-1, -1, 1000));
		R("setfsuid 0 (returns the old)", setfsuid(0));
		R("setfsuid -1 (query)", setfsuid(-1));
		R("setgroups", setgroups(0, NULL));
		R("setgroups 65537", setgroups(65537, NULL));
		R("getgroups 1 bad list", getgroups(1, BAD));
	}
	uid_t u;
	R("getresuid bad ruid", syscall(SYS_getresuid, BAD, &u, &u));
	R("getresuid bad suid", syscall(SYS_getresuid, &u, &u, BAD));
	R("getresgid bad egid", syscall(SYS_getresgid, &u, BAD, &u));
	/* capget and capset */
	struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
	struct __user_cap_data_struct d[2];
	R("capget bad header", syscall(SYS_capget, BAD, d));
	R("capget bad data", syscall(SYS_capget, &h, BAD));
	R("capget NULL data", syscall(SYS_capget, &h, NULL));
	h.version = 0x1234;
	R("capget bad version", syscall(SYS_capget, &h, d));
	printf("  version written back %#x\n", h.version);
	h.version = _LINUX_CAPABILITY_VERSION_3;
	h.pid = -1;
	R("capget pid -1", syscall(SYS_capget, &h, d));
	h.pid = 0;
	R("capset bad header", syscall(SYS_capset, BAD, d));
	R("capset bad data", syscall(SYS_capset, &h, BAD));
	pid_t kid = fork();
	if (kid == 0) { pause(); _exit(0); }
	h.pid = kid;
	syscall(SYS_capget, &(struct __user_cap_header_struct){_LINUX_CAPABILITY_VERSION_3, 0}, d);
	R("capset other process", syscall(SYS_capset, &h, d));
	h.pid = 999999;
	R("capset no such process", syscall(SYS_capset, &h, d));
	h.pid = getpid();
	R("capset own pid", syscall(SYS_capset, &h, d));
	h.pid = 0;
	R("capget other process", syscall(SYS_capget, &(struct __user_cap_header_struct){_LINUX_CAPABILITY_VERSION_3, kid}, d));
	kill(kid, SIGKILL);
	waitpid(kid, NULL, 0);
	/* limits */
	struct rlimit rl;
	R("getrlimit bad resource", syscall(SYS_getrlimit, 99, &rl));
	R("getrlimit bad resource bad ptr", syscall(SYS_getrlimit, 99, BAD));
	R("getrlimit bad ptr", syscall(SYS_getrlimit, RLIMIT_NOFILE, BAD));
	child(limits);
	if (root) {
		/* a user's limits on a root process: EPERM */
		pid_t c = fork();
		if (c == 0) {
			setgid(1000); setuid(1000);
			struct rlimit64 { uint64_t cur, max; } o;
			R("prlimit64 on root's process", syscall(SYS_prlimit64, getppid(), RLIMIT_CORE, NULL, &o));
			R("get_robust_list of root's process", syscall(SYS_get_robust_list, getppid(), &o, &o));
			_exit(0);
		}
		waitpid(c, NULL, 0);
	}
	/* usage and system information */
	struct rusage ru;
	R("getrusage bad who", getrusage(5, &ru));
	R("getrusage bad who bad ptr", getrusage(5, BAD));
	R("getrusage bad ptr", getrusage(RUSAGE_SELF, BAD));
	R("getrusage THREAD", getrusage(RUSAGE_THREAD, &ru));
	R("getrusage CHILDREN bad ptr", getrusage(RUSAGE_CHILDREN, BAD));
	R("times bad ptr", syscall(SYS_times, BAD));
	R("times NULL", syscall(SYS_times, NULL) > 0);
	R("sysinfo bad ptr", syscall(SYS_sysinfo, BAD));
	R("uname bad ptr", syscall(SYS_uname, BAD));
	char buf[16];
	R("getrandom bad flags", syscall(SYS_getrandom, buf, 16, 0x100));
	R("getrandom RANDOM|INSECURE", syscall(SYS_getrandom, buf, 16, 1 | 4));
	R("getrandom bad buffer", syscall(SYS_getrandom, BAD, 16, 0));
	R("getrandom bad flags bad buffer", syscall(SYS_getrandom, BAD, 16, 0x100));
	R("getrandom 0 bytes", syscall(SYS_getrandom, BAD, 0, 0));
	R("getrandom INSECURE", syscall(SYS_getrandom, buf, 16, 4));
	R("getrandom NONBLOCK", syscall(SYS_getrandom, buf, 16, 1));
	/* robust lists */
	void *head;
	size_t len;
	R("set_robust_list len 23", syscall(SYS_set_robust_list, &head, 23));
	R("set_robust_list len 25", syscall(SYS_set_robust_list, &head, 25));
	R("get_robust_list no such pid", syscall(SYS_get_robust_list, 999999, &head, &len));
	R("get_robust_list bad head", syscall(SYS_get_robust_list, 0, BAD, &len));
	R("get_robust_list bad len", syscall(SYS_get_robust_list, 0, &head, BAD));
	R("get_robust_list", syscall(SYS_get_robust_list, 0, &head, &len));
	printf("  len %zu\n", len);
	/* host names: nothing here may succeed as root */
	R("sethostname len 65", sethostname("x", 65));
	R("sethostname len -1", syscall(SYS_sethostname, "x", -1));
	R("setdomainname len 65", setdomainname("x", 65));
	R("setdomainname len -1", syscall(SYS_setdomainname, "x", -1));
	if (root) {
		R("sethostname bad name", sethostname(BAD, 5));
		R("setdomainname bad name", setdomainname(BAD, 5));
	} else {
		R("sethostname", sethostname("x", 1));
		R("setdomainname", setdomainname("x", 1));
	}
	/* arch_prctl */
	unsigned long v;
	R("arch_prctl bad code", syscall(SYS_arch_prctl, 0x9999, &v));
	R("arch_prctl GET_FS bad ptr", syscall(SYS_arch_prctl, ARCH_GET_FS, BAD));
	R("arch_prctl GET_GS bad ptr", syscall(SYS_arch_prctl, ARCH_GET_GS, BAD));
	R("arch_prctl SET_GS non-canonical", syscall(SYS_arch_prctl, ARCH_SET_GS, 1UL << 63));
	R("arch_prctl SET_FS non-canonical", syscall(SYS_arch_prctl, ARCH_SET_FS, 1UL << 63));
	R("arch_prctl GET_CPUID", syscall(SYS_arch_prctl, 0x1011, 0));
	child(prctls);
	return 0;
}
`

func TestErrorsCred(t *testing.T) {
	t.Parallel()
	prog := compileC(t, "errorscred", errorsCredC)
	diff(t, []string{prog})
	diffAsUser(t, prog)
}
