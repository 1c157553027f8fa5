package tests

import (
	"os"
	"testing"
)

// capsC exercises capget/capset's rules, the bounding and ambient sets,
// securebits, and the capability checks behind a privileged port,
// O_NOATIME, DAC and chown, and the effect of setuid on the sets.
const capsC = `
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

static void show(const char *what, long r) {
	if (r < 0) printf("%s: %s\n", what, strerrorname_np(errno));
	else printf("%s: %ld\n", what, r);
}

static struct __user_cap_data_struct d[2];
static struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};

static long get(int pid) { h.version = _LINUX_CAPABILITY_VERSION_3; h.pid = pid; return syscall(SYS_capget, &h, d); }
static long set(void) { h.version = _LINUX_CAPABILITY_VERSION_3; h.pid = 0; return syscall(SYS_capset, &h, d); }

int main(int argc, char **argv) {
	const char *tmp = argc > 1 ? argv[1] : "/tmp";
	show("capget self", get(0));
	printf("eff %08x %08x prm %08x %08x inh %08x\n", d[0].effective, d[1].effective, d[0].permitted, d[1].permitted, d[0].inheritable);
	show("capget pid -1", get(-1));
	show("capget pid 999999", get(999999));
	h.version = 0x1234;
	show("capget bad version", syscall(SYS_capget, &h, d));
	printf("preferred version %x\n", h.version);
	h.version = 0x1234;
	show("capget probe", syscall(SYS_capget, &h, NULL));
	show("capset other pid", (h.version = _LINUX_CAPABILITY_VERSION_3, h.pid = getpid() + 1000, syscall(SYS_capset, &h, d)));

	/* Raise CAP_NET_ADMIN... outside the permitted set. */
	get(0);
	d[0].effective |= 1u << CAP_CHOWN; d[0].permitted |= 1u << CAP_CHOWN;
	show("capset raise chown", set());
	get(0);
	d[0].permitted &= ~(1u << CAP_CHOWN); d[0].effective &= ~(1u << CAP_CHOWN);
	show("capset drop chown", set());
	get(0);
	d[0].permitted |= 1u << CAP_CHOWN;
	show("capset raise chown again", set());
	get(0);
	d[0].effective |= 1u << CAP_CHOWN;
	show("capset eff outside prm", set());
	get(0);
	d[0].inheritable |= 1u << CAP_KILL;
	show("capset inh", set());

	show("bset read 0", prctl(PR_CAPBSET_READ, 0));
	show("bset read net_raw", prctl(PR_CAPBSET_READ, CAP_NET_RAW));
	show("bset read 40", prctl(PR_CAPBSET_READ, 40));
	show("bset read 41", prctl(PR_CAPBSET_READ, 41));
	show("bset drop sys_module", prctl(PR_CAPBSET_DROP, CAP_SYS_MODULE));
	show("bset read sys_module", prctl(PR_CAPBSET_READ, CAP_SYS_MODULE));
	show("bset drop 99", prctl(PR_CAPBSET_DROP, 99));
	show("ambient is_set kill", prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, CAP_KILL, 0, 0));
	show("ambient raise kill", prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_KILL, 0, 0));
	show("ambient raise setuid", prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_SETUID, 0, 0));
	show("ambient is_set kill", prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, CAP_KILL, 0, 0));
	show("ambient bad cap", prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, 77, 0, 0));
	show("ambient bad op", prctl(PR_CAP_AMBIENT, 9, 0, 0, 0));
	show("ambient clear_all", prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0));
	show("ambient clear_all arg", prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 1, 0, 0));
	show("securebits", prctl(PR_GET_SECUREBITS));
	show("keepcaps", prctl(PR_GET_KEEPCAPS));
	show("set keepcaps", prctl(PR_SET_KEEPCAPS, 1));
	show("securebits", prctl(PR_GET_SECUREBITS));

	/* Raising a hard limit needs CAP_SYS_RESOURCE (which this host's
	   bounding set may lack, as the sandbox's then does). */
	struct rlimit rl;
	getrlimit(RLIMIT_NOFILE, &rl);
	rl.rlim_max += 1;
	show("raise hard nofile", setrlimit(RLIMIT_NOFILE, &rl));
	int s = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(80), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	show("bind port 80", bind(s, (struct sockaddr *)&sa, sizeof sa));
	close(s);
	show("O_NOATIME /etc/passwd", open("/etc/passwd", O_RDONLY | O_NOATIME));
	char path[256];
	snprintf(path, sizeof path, "%s/capsfile", tmp);
	unlink(path);
	int fd = open(path, O_CREAT | O_WRONLY, 0);
	show("create mode 0", fd >= 0 ? 0 : -1);
	close(fd);
	show("O_NOATIME own file", open(path, O_RDONLY | O_NOATIME) >= 0 ? 0 : -1);
	show("open mode 0", open(path, O_RDONLY) >= 0 ? 0 : -1);
	show("chown own file to 0", chown(path, 0, 0));
	unlink(path);

	/* Drop the file capabilities: root becomes an ordinary owner. */
	get(0);
	unsigned fs = 1u << CAP_DAC_OVERRIDE | 1u << CAP_DAC_READ_SEARCH | 1u << CAP_FOWNER | 1u << CAP_CHOWN;
	d[0].effective &= ~fs;
	show("drop file caps", set());
	fd = open(path, O_CREAT | O_WRONLY, 0);
	close(fd);
	show("open mode 0 without dac_override", open(path, O_RDONLY) >= 0 ? 0 : -1);
	show("chown without cap_chown", chown(path, 1, 1));
	show("O_NOATIME /etc/passwd without fowner", open("/etc/passwd", O_RDONLY | O_NOATIME) >= 0 ? 0 : -1);
	show("setuid 1000", setuid(1000));
	get(0);
	printf("after setuid: eff %08x prm %08x\n", d[0].effective, d[0].permitted);
	show("setuid 0 back", setuid(0));
	unlink(path);
	return 0;
}
`

// TestCapabilities: as root and as uid 1000 the capability calls answer
// and enforce as on the host (whose bounding set the sandbox mirrors).
func TestCapabilities(t *testing.T) {
	prog := compileC(t, "caps", capsC)
	diff(t, []string{prog, "/tmp"})
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o1777); err != nil {
		t.Fatal(err)
	}
	diffAsUser(t, prog, dir)
}

// TestCapabilityStatus: the Cap lines of /proc/self/status of a fresh
// process, as root and as uid 1000.
func TestCapabilityStatus(t *testing.T) {
	diff(t, []string{"grep", "^Cap", "/proc/self/status"})
	diffShellAsUser(t, "grep ^Cap /proc/self/status")
}
