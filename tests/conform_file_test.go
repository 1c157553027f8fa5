package tests

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"testing"
)

// conformFileC: fsync on FIFOs and devices (EINVAL), O_PATH descriptors
// refused by fsync, ioctl, socket calls and epoll_ctl (EBADF), pwrite on
// an O_APPEND file appending, the fcntl owner, signal and lease commands,
// and RLIMIT_FSIZE (a write cut at the limit, EFBIG and SIGXFSZ past it).
// Linux: fs/sync.c, fs/fcntl.c, fs/locks.c, mm/filemap.c
const conformFileC = `#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/wait.h>

#define R(what, expr) do { errno = 0; long _r = (long)(expr); \
	printf("%-36s = %ld %s\n", what, _r, _r < 0 ? strerror(errno) : ""); fflush(stdout); } while (0)

static int xfsz;
static void onxfsz(int s) { (void)s; xfsz++; }

int main(int argc, char **argv) {
	char dir[] = "/tmp/conform-file-XXXXXX", path[64], buf[64];
	if (!mkdtemp(dir)) { perror("mkdtemp"); return 1; }
	/* fsync and fdatasync only on regular files and directories */
	snprintf(path, sizeof path, "%s/fifo", dir);
	mkfifo(path, 0600);
	int ff = open(path, O_RDWR | O_NONBLOCK);
	R("fsync FIFO", fsync(ff));
	R("fdatasync FIFO", fdatasync(ff));
	R("lseek FIFO", lseek(ff, 0, SEEK_SET));
	R("read empty FIFO O_RDWR|O_NONBLOCK", read(ff, buf, sizeof buf));
	R("write FIFO", write(ff, "abc", 3));
	R("read FIFO", read(ff, buf, sizeof buf));
	int p[2], sv[2];
	pipe(p);
	socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	int dn = open("/dev/null", O_RDWR);
	R("fsync pipe", fsync(p[0]));
	R("fsync socket", fsync(sv[0]));
	R("fsync /dev/null", fsync(dn));
	R("fdatasync /dev/null", fdatasync(dn));
	int dfd = open(dir, O_RDONLY | O_DIRECTORY);
	R("fsync directory", fsync(dfd));
	R("fsync bad fd", fsync(999));
	/* O_PATH descriptors are EBADF to calls that need an open file */
	int op = open(dir, O_PATH);
	R("fsync O_PATH", fsync(op));
	R("ioctl FIONREAD O_PATH", ioctl(op, FIONREAD, &argc));
	R("ioctl FIOCLEX O_PATH", ioctl(op, FIOCLEX));
	R("accept O_PATH", accept(op, NULL, NULL));
	R("getsockopt O_PATH", getsockopt(op, SOL_SOCKET, SO_TYPE, buf, (socklen_t[]){4}));
	int ep = epoll_create1(0);
	struct epoll_event ev = {.events = EPOLLIN};
	R("epoll_ctl ADD O_PATH", epoll_ctl(ep, EPOLL_CTL_ADD, op, &ev));
	int epp = open("/proc/self/fd/0", O_PATH);
	R("epoll_ctl on O_PATH epoll", epoll_ctl(epp, EPOLL_CTL_ADD, p[0], &ev));
	/* pwrite on an O_APPEND file appends and leaves the offset alone */
	snprintf(path, sizeof path, "%s/app", dir);
	int fd = open(path, O_CREAT | O_RDWR | O_APPEND, 0644);
	write(fd, "abcdef", 6);
	lseek(fd, 2, SEEK_SET);
	R("pwrite O_APPEND at 0", pwrite(fd, "XY", 2, 0));
	R("offset after", lseek(fd, 0, SEEK_CUR));
	struct iovec iov = {"Z", 1};
	R("pwritev O_APPEND at 1", pwritev(fd, &iov, 1, 1));
	memset(buf, 0, sizeof buf);
	pread(fd, buf, sizeof buf - 1, 0);
	printf("content %s\n", buf);
	/* owners, signals and leases */
	struct f_owner_ex ox = {.type = 7, .pid = 7};
	R("F_GETOWN fresh", fcntl(fd, F_GETOWN));
	R("F_GETOWN_EX fresh", fcntl(fd, F_GETOWN_EX, &ox));
	printf("  type %d pid %d\n", ox.type, ox.pid);
	R("F_SETOWN self", fcntl(fd, F_SETOWN, getpid()));
	printf("  F_GETOWN is self %d\n", fcntl(fd, F_GETOWN) == getpid());
	fcntl(fd, F_GETOWN_EX, &ox);
	printf("  ex type %d self %d\n", ox.type, ox.pid == getpid());
	R("F_SETOWN -pgrp", fcntl(fd, F_SETOWN, -getpgrp()));
	printf("  F_GETOWN is -pgrp %d\n", fcntl(fd, F_GETOWN) == -getpgrp());
	fcntl(fd, F_GETOWN_EX, &ox);
	printf("  ex type %d pgrp %d\n", ox.type, ox.pid == getpgrp());
	R("F_SETOWN no such pid", fcntl(fd, F_SETOWN, 999999));
	ox.type = 9; ox.pid = 0;
	R("F_SETOWN_EX bad type", fcntl(fd, F_SETOWN_EX, &ox));
	ox.type = F_OWNER_TID; ox.pid = getpid();
	R("F_SETOWN_EX tid", fcntl(fd, F_SETOWN_EX, &ox));
	printf("  F_GETOWN is tid %d\n", fcntl(fd, F_GETOWN) == getpid());
	R("F_SETOWN_EX bad pointer", fcntl(fd, F_SETOWN_EX, (void *)8));
	R("F_GETOWN_EX bad pointer", fcntl(fd, F_GETOWN_EX, (void *)8));
	R("F_SETOWN 0", fcntl(fd, F_SETOWN, 0));
	R("F_GETOWN", fcntl(fd, F_GETOWN));
	R("F_GETSIG", fcntl(fd, F_GETSIG));
	R("F_SETSIG USR1", fcntl(fd, F_SETSIG, SIGUSR1));
	R("F_GETSIG", fcntl(fd, F_GETSIG));
	R("F_SETSIG 65", fcntl(fd, F_SETSIG, 65));
	R("F_GETLEASE", fcntl(fd, F_GETLEASE));
	R("F_SETLEASE RDLCK on O_RDWR", fcntl(fd, F_SETLEASE, F_RDLCK));
	R("F_SETLEASE bad type", fcntl(fd, F_SETLEASE, 7));
	R("F_SETLEASE UNLCK", fcntl(fd, F_SETLEASE, F_UNLCK));
	int ro = open(path, O_RDONLY);
	R("F_SETLEASE pipe", fcntl(p[0], F_SETLEASE, F_UNLCK));
	R("F_GETLEASE pipe", fcntl(p[0], F_GETLEASE));
	close(fd);
	R("F_SETLEASE RDLCK", fcntl(ro, F_SETLEASE, F_RDLCK));
	R("F_GETLEASE", fcntl(ro, F_GETLEASE));
	R("F_SETLEASE UNLCK", fcntl(ro, F_SETLEASE, F_UNLCK));
	R("F_GETLEASE", fcntl(ro, F_GETLEASE));
	close(ro);
	/* RLIMIT_FSIZE: writes stop at the limit; past it EFBIG and SIGXFSZ */
	signal(SIGXFSZ, onxfsz);
	snprintf(path, sizeof path, "%s/lim", dir);
	fd = open(path, O_CREAT | O_RDWR | O_TRUNC, 0644);
	struct rlimit rl = {10, RLIM_INFINITY};
	setrlimit(RLIMIT_FSIZE, &rl);
	R("write 6", write(fd, "012345", 6));
	R("write 6 more (cut)", write(fd, "abcdef", 6));
	R("write past limit", write(fd, "x", 1));
	printf("  SIGXFSZ %d\n", xfsz);
	R("pwrite at 8", pwrite(fd, "PQRS", 4, 8));
	R("pwrite at 10", pwrite(fd, "PQRS", 4, 10));
	R("pwrite at 100", pwrite(fd, "PQRS", 4, 100));
	printf("  SIGXFSZ %d\n", xfsz);
	R("write to pipe", write(p[1], "0123456789abcdef", 16));
	R("write to /dev/null", write(dn, "0123456789abcdef", 16));
	struct stat st;
	fstat(fd, &st);
	printf("size %ld\n", (long)st.st_size);
	close(fd);
	pid_t c = fork();
	if (c == 0) {
		signal(SIGXFSZ, SIG_DFL);
		int f2 = open(path, O_WRONLY | O_APPEND);
		write(f2, "y", 1);
		_exit(0);
	}
	int ws;
	waitpid(c, &ws, 0);
	printf("default SIGXFSZ kills: %d sig %d\n", WIFSIGNALED(ws), WIFSIGNALED(ws) ? WTERMSIG(ws) : 0);
	rl.rlim_cur = RLIM_INFINITY;
	setrlimit(RLIMIT_FSIZE, &rl);
	unlink(path);
	snprintf(path, sizeof path, "%s/app", dir); unlink(path);
	snprintf(path, sizeof path, "%s/fifo", dir); unlink(path);
	rmdir(dir);
	return 0;
}
`

func TestConformFile(t *testing.T) {
	t.Parallel()
	prog := compileC(t, "conformfile", conformFileC)
	diff(t, []string{prog})
	diffAsUser(t, prog)
}

// conformDeadlockC: F_SETLKW that would wait for a process waiting for
// the caller is EDEADLK; the other waiter gets its lock once the caller
// lets go. Linux: fs/locks.c (posix_locks_deadlock)
const conformDeadlockC = `#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>

static int lk(int fd, int type, int start, int cmd) {
	struct flock fl = {.l_type = type, .l_whence = SEEK_SET, .l_start = start, .l_len = 1};
	return fcntl(fd, cmd, &fl);
}

/* sleeping waits until pid sleeps in the kernel */
static void sleeping(pid_t pid) {
	char path[64], buf[256];
	snprintf(path, sizeof path, "/proc/%d/stat", pid);
	for (int i = 0; i < 1000; i++) {
		FILE *f = fopen(path, "r");
		if (!f) break;
		int n = fread(buf, 1, sizeof buf - 1, f);
		fclose(f);
		buf[n > 0 ? n : 0] = 0;
		char *rp = strrchr(buf, ')');
		if (rp && rp[2] == 'S') return;
		usleep(10000);
	}
	printf("never slept\n");
}

int main(void) {
	char path[] = "/tmp/conform-deadlock-XXXXXX";
	int fd = mkstemp(path);
	write(fd, "01234567", 8);
	int go[2], done[2];
	pipe(go);
	pipe(done);
	lk(fd, F_WRLCK, 0, F_SETLK);
	pid_t c = fork();
	if (c == 0) {
		lk(fd, F_WRLCK, 1, F_SETLK);
		write(done[1], "x", 1);
		errno = 0;
		int r = lk(fd, F_WRLCK, 0, F_SETLKW); /* waits for the parent */
		printf("child's F_SETLKW on byte 0 = %d %s\n", r, r ? strerror(errno) : "");
		fflush(stdout);
		_exit(0);
	}
	char x;
	read(done[0], &x, 1);
	sleeping(c);
	errno = 0;
	int r = lk(fd, F_WRLCK, 1, F_SETLKW);
	printf("parent's F_SETLKW on byte 1 = %d %s\n", r, r ? strerror(errno) : "");
	r = lk(fd, F_RDLCK, 1, F_SETLK);
	printf("F_SETLK (no wait) = %d %s\n", r, r ? strerror(errno) : "");
	lk(fd, F_UNLCK, 0, F_SETLK);
	waitpid(c, NULL, 0);
	unlink(path);
	return 0;
}
`

func TestConformLockDeadlock(t *testing.T) {
	t.Parallel()
	prog := compileC(t, "conformdeadlock", conformDeadlockC)
	diff(t, []string{prog})
}

// conformSeekC: SEEK_DATA and SEEK_HOLE on tmpfs find the pages that
// hold data. Linux: mm/shmem.c (shmem_file_llseek)
const conformSeekC = `#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define R(what, expr) do { errno = 0; long _r = (long)(expr); \
	printf("%-40s = %ld %s\n", what, _r, _r < 0 ? strerror(errno) : ""); } while (0)

int main(void) {
	/* tmpfs knows its holes page by page */
	int fd = open("/dev/shm/conform-seek", O_CREAT | O_RDWR | O_TRUNC, 0600);
	unlink("/dev/shm/conform-seek");
	pwrite(fd, "x", 1, 100000);
	pwrite(fd, "y", 1, 10);
	R("SEEK_DATA 0", lseek(fd, 0, SEEK_DATA));
	R("SEEK_HOLE 0", lseek(fd, 0, SEEK_HOLE));
	R("SEEK_DATA 5000", lseek(fd, 5000, SEEK_DATA));
	R("SEEK_HOLE 99000", lseek(fd, 99000, SEEK_HOLE));
	R("SEEK_DATA 99000", lseek(fd, 99000, SEEK_DATA));
	R("position", lseek(fd, 0, SEEK_CUR));
	R("SEEK_DATA at size", lseek(fd, 100001, SEEK_DATA));
	R("SEEK_HOLE at size", lseek(fd, 100001, SEEK_HOLE));
	R("SEEK_DATA negative", lseek(fd, -1, SEEK_DATA));
	ftruncate(fd, 200000);
	R("SEEK_DATA past the last page", lseek(fd, 102400, SEEK_DATA));
	R("SEEK_HOLE in the grown tail", lseek(fd, 150000, SEEK_HOLE));
	char page[8192];
	memset(page, 'd', sizeof page);
	int dense = open("/dev/shm/conform-dense", O_CREAT | O_RDWR | O_TRUNC, 0600);
	unlink("/dev/shm/conform-dense");
	write(dense, page, 5000);
	R("dense SEEK_HOLE", lseek(dense, 0, SEEK_HOLE));
	R("dense SEEK_DATA 4999", lseek(dense, 4999, SEEK_DATA));
	return 0;
}
`

func TestConformSeekHole(t *testing.T) {
	t.Parallel()
	prog := compileC(t, "conformseek", conformSeekC)
	diff(t, []string{prog})
}

// TestConformStdoutFile: with its stdout a regular file, the guest's cat
// (which tries copy_file_range first) writes what it reads, as natively.
func TestConformStdoutFile(t *testing.T) {
	t.Parallel()
	script := `f=$(mktemp /tmp/conform-stdout-XXXXXX); echo hello > $f; cat $f; rm $f`
	out := func(argv ...string) string {
		t.Helper()
		f, err := os.CreateTemp("", "conform-stdout-")
		if err != nil {
			t.Fatal(err)
		}
		defer os.Remove(f.Name())
		defer f.Close()
		ctx, cancel := context.WithTimeout(context.Background(), runTimeout)
		defer cancel()
		cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
		cmd.Stdout = f
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Run(); err != nil {
			t.Fatalf("%q: %v\n%s", argv, err, stderr.String())
		}
		b, err := os.ReadFile(f.Name())
		if err != nil {
			t.Fatal(err)
		}
		return string(b) + stderr.String()
	}
	native := out("/bin/sh", "-c", script)
	gb := out(glassboxBin, "run", "--", "/bin/sh", "-c", script)
	if native != gb {
		t.Errorf("stdout file: native %q, glassbox %q", native, gb)
	}
}
