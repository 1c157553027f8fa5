package tests

import "testing"

// execveatC runs execveat in its forms: fexecve (AT_EMPTY_PATH on a
// descriptor, O_PATH included), a path relative to a directory
// descriptor, AT_SYMLINK_NOFOLLOW, and scripts reached through a
// descriptor ("/dev/fd/N" in their argv; ENOENT when close-on-exec). The
// child shows its command name and AT_EXECFN.
const execveatC = `
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;
static char self[4096];
static char dir[] = "/tmp/gbfexecXXXXXX";

static void report(const char *what, long r) {
	if (r < 0) printf("%s: %s\n", what, strerrorname_np(errno));
	else printf("%s: %ld\n", what, r);
}

/* Runs execveat in a child and reports how it went. */
static void try(const char *what, int dirfd, const char *path, char *const argv[], int flags) {
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		long r = syscall(SYS_execveat, dirfd, path, argv, environ, flags);
		report(what, r);
		fflush(stdout);
		_exit(99);
	}
	int st;
	waitpid(pid, &st, 0);
	printf("%s: status %d\n", what, WEXITSTATUS(st));
}

static void child(void) {
	char comm[64] = "", exe[4096] = "";
	int fd = open("/proc/self/comm", O_RDONLY);
	long n = read(fd, comm, sizeof comm - 1);
	if (n > 0) comm[n - 1] = 0;
	close(fd);
	readlink("/proc/self/exe", exe, sizeof exe - 1);
	const char *fn = (const char *)getauxval(AT_EXECFN);
	printf("  child: comm=%s execfn=%s exe-is-self=%d\n", comm, fn, strcmp(exe, self) == 0);
	fflush(stdout);
}

int main(int argc, char **argv) {
	readlink("/proc/self/exe", self, sizeof self - 1);
	if (argc > 1 && strcmp(argv[1], "child") == 0) { child(); return 0; }
	if (!mkdtemp(dir)) { perror("mkdtemp"); return 1; }
	char *cargv[] = {"fx", "child", NULL};
	int fd = open(self, O_RDONLY);
	try("fexecve", fd, "", cargv, AT_EMPTY_PATH);
	try("empty path without AT_EMPTY_PATH", fd, "", cargv, 0);
	try("bad flags", fd, "", cargv, 0x10000);
	int pfd = open(self, O_PATH);
	try("O_PATH fd", pfd, "", cargv, AT_EMPTY_PATH);
	char *slash = strrchr(self, '/');
	*slash = 0;
	int dfd = open(self, O_RDONLY | O_DIRECTORY);
	*slash = '/';
	try("relative to dirfd", dfd, slash + 1, cargv, 0);
	try("file as dirfd", fd, "x", cargv, 0);
	char link[4200];
	snprintf(link, sizeof link, "%s/link", dir);
	symlink(self, link);
	chdir(dir);
	try("symlink followed", AT_FDCWD, "link", cargv, 0);
	try("symlink, AT_SYMLINK_NOFOLLOW", AT_FDCWD, "link", cargv, AT_SYMLINK_NOFOLLOW);
	try("cwd, AT_EMPTY_PATH", AT_FDCWD, "", cargv, AT_EMPTY_PATH);
	int lfd = open(link, O_PATH | O_NOFOLLOW);
	try("O_PATH of symlink", lfd, "", cargv, AT_EMPTY_PATH);

	char script[4200];
	snprintf(script, sizeof script, "%s/s", dir);
	int s = open(script, O_CREAT | O_WRONLY, 0755);
	dprintf(s, "#!/bin/sh\ncase $0 in /tmp/*) n=DIR/${0##*/};; *) n=$0;; esac\necho \"  script: \\$0=$n args=$*\"\n");
	close(s);
	char *sargv[] = {"s", "a1", NULL};
	s = open(script, O_RDONLY);
	try("script by fd", s, "", sargv, AT_EMPTY_PATH);
	int ddir = open(dir, O_RDONLY | O_DIRECTORY);
	printf("(fds: script %d, dir %d)\n", s, ddir);
	try("script relative to dirfd", ddir, "s", sargv, 0);
	try("script by absolute path with dirfd", ddir, script, sargv, 0);
	int sc = open(script, O_RDONLY | O_CLOEXEC);
	try("script by close-on-exec fd", sc, "", sargv, AT_EMPTY_PATH);
	unlink(script); unlink(link); chdir("/"); rmdir(dir);
	return 0;
}
`

func TestExecveat(t *testing.T) {
	diff(t, []string{compileC(t, "execveat", execveatC)})
}

// affinityC records CPU sets: what sched_getaffinity copies (the host's
// cpumask size), that a set sticks and is inherited by fork, which sets
// and pids are refused; and sched_rr_get_interval's checks.
const affinityC = `
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void show(const char *what, long r) {
	if (r < 0) printf("%s: %s\n", what, strerrorname_np(errno));
	else printf("%s: %ld\n", what, r);
}

int main(void) {
	unsigned long m[128], one = 1, none = 0, beyond = 1UL << 63;
	for (int len = 0; len <= 1024; len = len ? len * 2 : 4)
		printf("get len %d: %ld\n", len, syscall(SYS_sched_getaffinity, 0, len, m));
	long n = syscall(SYS_sched_getaffinity, 0, sizeof m, m);
	printf("mask %lx (%ld bytes)\n", m[0], n);
	show("set {0}", syscall(SYS_sched_setaffinity, 0, sizeof one, &one));
	syscall(SYS_sched_getaffinity, 0, sizeof m, m);
	printf("mask now %lx\n", m[0]);
	fflush(stdout);
	if (fork() == 0) {
		syscall(SYS_sched_getaffinity, 0, sizeof m, m);
		printf("child mask %lx\n", m[0]);
		_exit(0);
	}
	wait(NULL);
	show("set {}", syscall(SYS_sched_setaffinity, 0, sizeof none, &none));
	show("set {63}", syscall(SYS_sched_setaffinity, 0, sizeof beyond, &beyond));
	show("set len 0", syscall(SYS_sched_setaffinity, 0, 0, &one));
	show("set len 4", syscall(SYS_sched_setaffinity, 0, 4, &one));
	show("get pid -1", syscall(SYS_sched_getaffinity, -1, sizeof m, m));
	show("set pid -1", syscall(SYS_sched_setaffinity, -1, sizeof one, &one));
	show("get missing pid", syscall(SYS_sched_getaffinity, 99999, sizeof m, m));
	show("get bad pointer", syscall(SYS_sched_getaffinity, 0, sizeof m, (void *)8));
	show("set bad pointer", syscall(SYS_sched_setaffinity, 0, 8, (void *)8));
	struct timespec ts;
	show("rr_get_interval", syscall(SYS_sched_rr_get_interval, 0, &ts));
	printf("interval below 1s: %d\n", ts.tv_sec == 0);
	show("rr_get_interval pid -1", syscall(SYS_sched_rr_get_interval, -1, &ts));
	show("rr_get_interval missing pid", syscall(SYS_sched_rr_get_interval, 99999, &ts));
	show("rr_get_interval bad pointer", syscall(SYS_sched_rr_get_interval, 0, (void *)8));
	return 0;
}
`

func TestSchedAffinity(t *testing.T) {
	diff(t, []string{compileC(t, "affinity", affinityC)})
}

// fcntlMiscC: F_NOTIFY's argument is 32 bits wide and removing a watch
// always works (CPython's test_fcntl_64_bit); a file is ENOTDIR; an
// O_PATH descriptor takes only the descriptor commands.
const fcntlMiscC = `
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static void show(const char *what, long r) {
	if (r < 0) printf("%s: %s\n", what, strerrorname_np(errno));
	else printf("%s: %ld\n", what, r);
}

int main(void) {
	int d = open("/tmp", O_RDONLY | O_DIRECTORY), f = open("/proc/self/exe", O_RDONLY);
	show("F_NOTIFY multishot only", fcntl(d, F_NOTIFY, DN_MULTISHOT));
	show("F_NOTIFY 0", fcntl(d, F_NOTIFY, 0));
	show("F_NOTIFY 0 on a file", fcntl(f, F_NOTIFY, 0));
	show("F_NOTIFY on a file", fcntl(f, F_NOTIFY, DN_CREATE));
	int p = open("/tmp", O_PATH);
	show("O_PATH F_GETFL", fcntl(p, F_GETFL));
	show("O_PATH F_GETFD", fcntl(p, F_GETFD));
	show("O_PATH F_SETFD", fcntl(p, F_SETFD, FD_CLOEXEC));
	show("O_PATH F_DUPFD", fcntl(p, F_DUPFD, 200));
	show("O_PATH F_SETFL", fcntl(p, F_SETFL, O_NONBLOCK));
	show("O_PATH F_NOTIFY", fcntl(p, F_NOTIFY, 0));
	struct flock fl = {.l_type = F_RDLCK};
	show("O_PATH F_GETLK", fcntl(p, F_GETLK, &fl));
	show("O_PATH F_GET_SEALS", fcntl(p, F_GET_SEALS));
	return 0;
}
`

func TestFcntlMisc(t *testing.T) {
	diff(t, []string{compileC(t, "fcntlmisc", fcntlMiscC)})
}
