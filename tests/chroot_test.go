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
