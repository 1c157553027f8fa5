package tests

import (
	"os"
	"testing"
)

// utsC sets the host and domain names when run as root (argv[1] ==
// "set"; only ever inside glassbox, where they are the sandbox's own),
// and shows what uname and /proc/sys/kernel report; unprivileged, both
// calls are EPERM.
const utsC = `
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

static void show(const char *what, long r) {
	if (r < 0) printf("%s: %s\n", what, strerrorname_np(errno));
	else printf("%s: %ld\n", what, r);
}

static void proc(const char *path) {
	char b[128] = "";
	int fd = open(path, O_RDONLY);
	long n = read(fd, b, sizeof b - 1);
	close(fd);
	printf("%s: %.*s", path, (int)(n > 0 ? n : 0), b);
}

int main(int argc, char **argv) {
	struct utsname u;
	if (argc > 1) {
		show("sethostname", sethostname("gbtest", 6));
		show("setdomainname", setdomainname("gbdomain", 8));
		show("sethostname 65 bytes", sethostname("0123456789012345678901234567890123456789012345678901234567890123456789", 65));
		show("sethostname -1", sethostname("x", (size_t)-1));
		show("sethostname bad pointer", sethostname((char *)8, 4));
		uname(&u);
		printf("uname: %s %s\n", u.nodename, u.domainname);
		proc("/proc/sys/kernel/hostname");
		proc("/proc/sys/kernel/domainname");
		fflush(stdout);
		if (fork() == 0) {
			uname(&u);
			printf("child: %s\n", u.nodename);
			fflush(stdout);
			_exit(0);
		}
		wait(NULL);
		return 0;
	}
	uname(&u);
	printf("domainname: %s\n", u.domainname);
	proc("/proc/sys/kernel/domainname");
	fflush(stdout);
	if (fork() == 0) {
		setuid(65534);
		show("sethostname unprivileged", sethostname("x", 1));
		show("setdomainname unprivileged", setdomainname("x", 1));
		fflush(stdout);
		_exit(0);
	}
	wait(NULL);
	return 0;
}
`

func TestUTSNames(t *testing.T) {
	bin := compileC(t, "uts", utsC)
	diff(t, []string{bin})
	before, _ := os.Hostname()
	r := runGlassbox(t, nil, []string{bin, "set"})
	expect(t, "sethostname inside glassbox", r, `sethostname: 0
setdomainname: 0
sethostname 65 bytes: EINVAL
sethostname -1: EINVAL
sethostname bad pointer: EFAULT
uname: gbtest gbdomain
/proc/sys/kernel/hostname: gbtest
/proc/sys/kernel/domainname: gbdomain
child: gbtest
`, 0)
	if after, _ := os.Hostname(); after != before {
		t.Errorf("the host's name changed from %q to %q", before, after)
	}
}
