package tests

import "testing"

// chrootC changes root in a child: paths (absolute, "..", symlinks) then
// resolve inside the new root; getcwd names a working directory left
// outside it "(unreachable)..."; only root may chroot.
const chrootC = `
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static char dir[] = "/tmp/gbchrootXXXXXX";

static void show(const char *what, long r) {
	if (r < 0) printf("%s: %s\n", what, strerrorname_np(errno));
	else printf("%s: %ld\n", what, r);
}

/* getcwd(2) (glibc's getcwd turns "(unreachable)..." into ENOENT) with
   the temporary directory's random name taken out. */
static void cwd(const char *what) {
	char b[4096], out[4096];
	if (syscall(SYS_getcwd, b, sizeof b) < 0) { show(what, -1); return; }
	char *p = strstr(b, dir);
	if (p) snprintf(out, sizeof out, "%.*sDIR%s", (int)(p - b), b, p + strlen(dir));
	else snprintf(out, sizeof out, "%s", b);
	printf("%s: %s\n", what, out);
}

static void cat(const char *path) {
	char b[64] = "";
	int fd = open(path, O_RDONLY);
	if (fd < 0) { printf("open %s: %s\n", path, strerrorname_np(errno)); return; }
	long n = read(fd, b, sizeof b - 1);
	printf("open %s: %.*s", path, (int)n, b);
	close(fd);
}

int main(void) {
	if (!mkdtemp(dir) || chdir(dir)) { perror("mkdtemp"); return 1; }
	mkdir("sub", 0755);
	mkdir("sub/d", 0755);
	int fd = open("sub/hello", O_CREAT | O_WRONLY, 0644);
	write(fd, "hi\n", 3); close(fd);
	symlink("/hello", "sub/d/abs");
	symlink("../../hello", "sub/d/rel");
	fd = open("outside", O_CREAT | O_WRONLY, 0644);
	write(fd, "out\n", 4); close(fd);

	show("chroot missing", chroot("nope"));
	show("chroot file", chroot("sub/hello"));
	show("chroot bad pointer", chroot((char *)8));
	fflush(stdout);
	if (fork() == 0) {
		show("chroot", chroot("sub"));
		cwd("cwd outside root");
		cat("/hello");
		cat("/../../hello");
		cat("/d/abs");
		cat("/d/rel");
		cat("outside");
		show("exec /bin/sh", execl("/bin/sh", "sh", "-c", "true", (char *)0));
		show("chdir /", chdir("/"));
		cwd("cwd at root");
		show("chdir d", chdir("d"));
		cwd("cwd below root");
		show("chdir ../..", chdir("../.."));
		cwd("cwd after ../..");
		show("chroot again", chroot("d"));
		cwd("cwd above new root");
		cat("/abs");
		fflush(stdout);
		if (fork() == 0) {
			show("setuid", setuid(65534));
			show("chroot unprivileged", chroot("/"));
			fflush(stdout);
			_exit(0);
		}
		wait(NULL);
		fflush(stdout);
		_exit(0);
	}
	wait(NULL);
	cwd("parent cwd");
	cat("sub/hello");
	unlink("sub/d/abs"); unlink("sub/d/rel"); rmdir("sub/d"); unlink("sub/hello");
	rmdir("sub"); unlink("outside"); chdir("/"); rmdir(dir);
	return 0;
}
`

func TestChroot(t *testing.T) {
	diff(t, []string{compileC(t, "chroot", chrootC)})
}

// chrootErrC: chroot's errors in Linux's order (ENAMETOOLONG, ENOENT,
// ENOTDIR, EACCES before EPERM for an ordinary user), /proc/PID/root and
// cwd of a chrooted process seen from outside, and what an escape can
// reach: ".." and symlinks stop at the new root; a descriptor opened
// before the chroot still reaches outside, exactly as on Linux.
const chrootErrC = `
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <grp.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char dir[] = "/tmp/gbchroot2XXXXXX";

static void show(const char *what, long r) {
	if (r < 0) printf("%s: %s\n", what, strerrorname_np(errno));
	else printf("%s: %ld\n", what, r);
}

static void link_of(const char *what, const char *path) {
	char b[4096];
	long n = readlink(path, b, sizeof b - 1);
	if (n < 0) { show(what, -1); return; }
	b[n] = 0;
	char *p = strstr(b, dir);
	if (p) printf("%s: %.*sDIR%s\n", what, (int)(p - b), b, p + strlen(dir));
	else printf("%s: %s\n", what, b);
}

static void cat(const char *path) {
	char b[64] = "";
	int fd = open(path, O_RDONLY);
	if (fd < 0) { printf("open %s: %s\n", path, strerrorname_np(errno)); return; }
	long n = read(fd, b, sizeof b - 1);
	printf("open %s: %.*s", path, (int)n, b);
	close(fd);
}

int main(void) {
	if (!mkdtemp(dir) || chdir(dir)) { perror("mkdtemp"); return 1; }
	chmod(dir, 0755);
	mkdir("root", 0755);
	mkdir("root/in", 0755);
	mkdir("locked", 0700);
	mkdir("locked/inner", 0755);
	int fd = open("secret", O_CREAT | O_WRONLY, 0644);
	write(fd, "secret\n", 7); close(fd);
	fd = open("root/in/f", O_CREAT | O_WRONLY, 0644);
	write(fd, "inside\n", 7); close(fd);
	symlink("/../../../secret", "root/in/up");
	symlink("../../secret", "root/in/rel");

	char *longp = malloc(PATH_MAX + 10);
	memset(longp, 'a', PATH_MAX + 9); longp[PATH_MAX + 9] = 0;
	show("chroot PATH_MAX+", chroot(longp));
	char name[300]; memset(name, 'b', 299); name[299] = 0;
	show("chroot NAME_MAX+", chroot(name));
	show("chroot ENOENT", chroot("root/missing"));
	show("chroot ENOTDIR", chroot("secret/x"));
	show("chroot file", chroot("secret"));
	show("chroot empty", chroot(""));
	fflush(stdout);

	if (fork() == 0) {
		/* As an ordinary user: search permission first, then EPERM. */
		setgroups(0, NULL);
		setgid(1000);
		setuid(1000);
		show("user chroot locked/inner", chroot("locked/inner"));
		show("user chroot root", chroot("root"));
		fflush(stdout);
		_exit(0);
	}
	wait(NULL);

	int p1[2], p2[2];
	pipe(p1); pipe(p2);
	pid_t pid = fork();
	if (pid == 0) {
		int out = open(".", O_RDONLY | O_DIRECTORY);
		show("chroot root", chroot("root"));
		show("chdir /", chdir("/"));
		fflush(stdout);
		char c = 0;
		write(p1[1], &c, 1);
		read(p2[0], &c, 1);
		cat("/in/f");
		cat("/in/up");
		cat("/in/rel");
		cat("/../secret");
		/* A directory fd from outside still reaches outside, as on Linux. */
		int s = openat(out, "secret", O_RDONLY);
		show("openat outside fd", s >= 0 ? 0 : -1);
		/* fchdir to it and walk up: Linux lets that escape too... */
		show("fchdir outside", fchdir(out));
		cat("secret");
		/* ...but ".." never rises above the new root from inside it. */
		show("chdir /in", chdir("/in"));
		show("chdir ../../..", chdir("../../.."));
		link_of("cwd after ..", "/proc/self/cwd");
		cat("in/f");
		fflush(stdout);
		_exit(0);
	}
	char c;
	read(p1[0], &c, 1);
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/root", pid);
	link_of("child's /proc/PID/root", path);
	snprintf(path, sizeof path, "/proc/%d/cwd", pid);
	link_of("child's /proc/PID/cwd", path);
	fflush(stdout);
	write(p2[1], &c, 1);
	wait(NULL);
	unlink("root/in/up"); unlink("root/in/rel"); unlink("root/in/f"); rmdir("root/in"); rmdir("root");
	rmdir("locked/inner"); rmdir("locked"); unlink("secret"); chdir("/"); rmdir(dir);
	return 0;
}
`

func TestChrootErrors(t *testing.T) {
	diff(t, []string{compileC(t, "chrooterr", chrootErrC)})
}
