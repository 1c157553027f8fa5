package tests

import (
	"strings"
	"testing"
)

const locksC = `#include <stdio.h>
#include <fcntl.h>
#include <unistd.h>
#include <errno.h>
#include <string.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/wait.h>
static const char *e(int r) { return r < 0 ? (errno == EAGAIN ? "EAGAIN" : errno == EWOULDBLOCK ? "EWOULDBLOCK" : strerror(errno)) : "ok"; }
int main(void) {
	char path[] = "/tmp/gblockXXXXXX"; int fd = mkstemp(path);
	write(fd, "0123456789", 10);
	struct flock l = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 2, .l_len = 4};
	printf("parent lock 2-6: %s\n", e(fcntl(fd, F_SETLK, &l)));
	int p[2]; pipe(p);
	pid_t c = fork();
	if (c == 0) {
		int fd2 = open(path, O_RDWR);
		struct flock t = {.l_type = F_RDLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 3};
		printf("child trylock 0-3: %s\n", e(fcntl(fd2, F_SETLK, &t)));
		t.l_start = 6; t.l_len = 2;
		printf("child trylock 6-8: %s\n", e(fcntl(fd2, F_SETLK, &t)));
		struct flock q = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 0};
		fcntl(fd2, F_GETLK, &q);
		printf("getlk: type=%s start=%ld len=%ld pid_is_parent=%d\n", q.l_type == F_WRLCK ? "WR" : "?", (long)q.l_start, (long)q.l_len, q.l_pid == getppid());
		fflush(stdout);
		write(p[1], "x", 1);
		t.l_type = F_WRLCK; t.l_start = 3; t.l_len = 1;
		printf("child waits for 3: %s\n", e(fcntl(fd2, F_SETLKW, &t)));
		printf("flock ex nb: %s\n", e(flock(fd2, LOCK_EX | LOCK_NB)));
		fflush(stdout);
		_exit(0);
	}
	char x; read(p[0], &x, 1);
	usleep(100000);
	printf("parent closes\n"); fflush(stdout);
	int fd3 = open(path, O_RDONLY); close(fd3); /* closing any fd drops the process's locks */
	wait(0);
	int f1 = open(path, O_RDONLY), f2 = open(path, O_RDONLY);
	printf("flock sh f1: %s\n", e(flock(f1, LOCK_SH)));
	printf("flock ex f2 nb: %s\n", e(flock(f2, LOCK_EX | LOCK_NB)));
	close(f1);
	printf("flock ex f2 after close f1: %s\n", e(flock(f2, LOCK_EX | LOCK_NB)));
	unlink(path);
	return 0;
}
`

// TestFileLocks: POSIX record locks between two processes (conflict,
// non-overlapping ranges, F_GETLK naming the holder, F_SETLKW waiting
// until the holder closes any descriptor of the file), and flock shared vs
// exclusive locks owned by open file descriptions.
func TestFileLocks(t *testing.T) {
	t.Parallel()
	prog := compileC(t, "locks", locksC, "-dynamic")
	native, _ := diff(t, []string{prog})
	if native.Code != 0 || len(native.Stdout) < 100 {
		t.Errorf("native run looks wrong: %s", native)
	}
}

const tmpfileC = `#define _GNU_SOURCE
#include <stdio.h>
#include <fcntl.h>
#include <unistd.h>
#include <errno.h>
#include <string.h>
#include <dirent.h>
#include <stdlib.h>
int main(void) {
	char dir[] = "/tmp/gbtmpfXXXXXX"; mkdtemp(dir);
	int fd = open(dir, O_TMPFILE | O_RDWR, 0600);
	printf("open O_TMPFILE: %s\n", fd < 0 ? strerror(errno) : "ok");
	write(fd, "hidden", 6);
	char b[16] = {0}; pread(fd, b, 15, 0); printf("read back: %s\n", b);
	DIR *d = opendir(dir); int n = 0; struct dirent *e; while ((e = readdir(d))) n++; closedir(d);
	printf("entries in dir: %d\n", n);
	printf("O_TMPFILE|O_RDONLY: %s\n", open(dir, O_TMPFILE | O_RDONLY, 0600) < 0 ? strerror(errno) : "ok");
	rmdir(dir);
	return 0;
}
`

// TestOTmpfile: open(O_TMPFILE) makes an unnamed file in a directory
// (readable and writable through its fd, absent from the listing); it
// needs write access (O_RDONLY is EINVAL).
func TestOTmpfile(t *testing.T) {
	t.Parallel()
	prog := compileC(t, "tmpfile", tmpfileC, "-dynamic")
	native, _ := diff(t, []string{prog})
	expect(t, "native", native, "open O_TMPFILE: ok\nread back: hidden\nentries in dir: 2\nO_TMPFILE|O_RDONLY: Invalid argument\n", 0)
}

const inotifyC = `#include <stdio.h>
#include <sys/inotify.h>
#include <unistd.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
int main(void) {
	char dir[] = "/tmp/gbinoXXXXXX"; mkdtemp(dir);
	int in = inotify_init1(IN_NONBLOCK);
	int wd = inotify_add_watch(in, dir, IN_CREATE | IN_DELETE | IN_MODIFY | IN_CLOSE_WRITE | IN_MOVED_FROM | IN_MOVED_TO);
	printf("wd=%d\n", wd);
	chdir(dir);
	int fd = open("f", O_CREAT | O_WRONLY, 0644); write(fd, "x", 1); close(fd);
	mkdir("d", 0755); rename("f", "g"); unlink("g"); rmdir("d");
	char buf[4096]; ssize_t n = read(in, buf, sizeof buf);
	for (char *p = buf; p < buf + n; ) {
		struct inotify_event *e = (struct inotify_event *)p;
		printf("mask=%#x%s name=%s\n", e->mask & ~IN_ISDIR, e->mask & IN_ISDIR ? " dir" : "", e->len ? e->name : "");
		p += sizeof *e + e->len;
	}
	printf("empty: %zd\n", read(in, buf, sizeof buf));
	chdir("/"); rmdir(dir);
	return 0;
}
`

// TestInotify: a watch on a directory reports create, modify, close-write,
// mkdir, both halves of a rename, unlink and rmdir, in order, with names.
func TestInotify(t *testing.T) {
	t.Parallel()
	prog := compileC(t, "inotify", inotifyC, "-dynamic")
	native, _ := diff(t, []string{prog})
	if native.Code != 0 || !strings.Contains(native.Stdout, "mask=0x40 name=f") {
		t.Errorf("native run looks wrong: %s", native)
	}
}

const execLockC = `#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>
#include <sys/wait.h>
static int held(const char *path) {
	int fd = open(path, O_RDWR);
	struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
	fcntl(fd, F_GETLK, &fl);
	close(fd);
	return fl.l_type != F_UNLCK;
}
int main(int argc, char **argv) {
	if (argc > 3) { /* after exec: let the child look again, then report */
		int st;
		write(atoi(argv[3]), "x", 1);
		wait(&st);
		printf("after exec: lock %s; kept fd %s\n", WEXITSTATUS(st) ? "still held" : "released", argv[2]);
		return 0;
	}
	char path[] = "/tmp/gbexeclockXXXXXX";
	int keep = mkstemp(path);
	int fd = open(path, O_RDWR | O_CLOEXEC);
	struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
	if (fcntl(fd, F_SETLK, &fl) != 0) { perror("F_SETLK"); return 1; }
	int before[2], after[2]; /* child -> parent: looked; exec'd parent -> child: look again */
	pipe(before);
	pipe(after);
	pid_t c = fork();
	if (c == 0) {
		char x;
		close(before[0]);
		close(after[1]);
		printf("before exec: lock %s\n", held(path) ? "held" : "free");
		fflush(stdout);
		write(before[1], "x", 1);
		read(after[0], &x, 1); /* the parent has exec'd */
		int h = held(path);
		unlink(path);
		_exit(h);
	}
	char x, kept[16], wfd[16];
	close(before[1]);
	close(after[0]);
	read(before[0], &x, 1);
	snprintf(kept, sizeof kept, "%d", fcntl(keep, F_GETFD));
	snprintf(wfd, sizeof wfd, "%d", after[1]);
	execl(argv[0], argv[0], "after", kept, wfd, (char *)0);
	perror("execl");
	return 1;
}
`

// TestExecDropsLocks: exec closes close-on-exec descriptors, and a
// process's POSIX locks on their files go with them (the descriptor
// without FD_CLOEXEC stays open).
func TestExecDropsLocks(t *testing.T) {
	t.Parallel()
	prog := compileC(t, "execlock", execLockC)
	native, _ := diff(t, []string{prog})
	if !strings.Contains(native.Stdout, "before exec: lock held\nafter exec: lock released") {
		t.Errorf("native run looks wrong: %s", native)
	}
}
