package tests

import "testing"

// errorsFS2C: the ERRORS of the stat family, getdents, the xattr calls,
// dup/dup2/dup3, fcntl (F_DUPFD_QUERY and F_CREATED_QUERY too), close,
// close_range, ioctl's generic commands
// (FIONREAD, FIOQSIZE, FIGETBSZ, FICLONE, FIBMAP, FIFREEZE...),
// read/write and their positioned and vector forms (preadv2/pwritev2
// flags, RWF_APPEND and RWF_NOAPPEND), open's access mode 3, and lseek,
// in Linux's order of checks.
// Linux: fs/stat.c, fs/readdir.c, fs/xattr.c, fs/file.c, fs/fcntl.c,
// fs/ioctl.c, fs/read_write.c, lib/iov_iter.c
const errorsFS2C = `#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/close_range.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/xattr.h>
#include <termios.h>
#include <linux/fs.h>

#define R(what, expr) do { errno = 0; long _r = (long)(expr); \
	printf("%-40s = %ld %s\n", what, _r, _r < 0 ? strerror(errno) : ""); fflush(stdout); } while (0)
#define S(...) syscall(__VA_ARGS__)
#define BAD ((void *)8)
static long C(long fd) { if (fd >= 0) { close(fd); return 0; } return fd; }

static char d[64];
static char *P(const char *rel) { static char b[8][PATH_MAX]; static int i; i = (i + 1) % 8; snprintf(b[i], sizeof b[i], "%s/%s", d, rel); return b[i]; }

int main(void) {
	strcpy(d, "/dev/shm/errfs2-XXXXXX");
	if (!mkdtemp(d)) { perror("mkdtemp"); return 1; }
	signal(SIGPIPE, SIG_IGN);
	int uid = getuid();
	char buf[4096];
	static char big[70000];
	struct stat st;
	int fd = open(P("file"), O_CREAT | O_RDWR, 0644);
	write(fd, "hello world", 11);
	mkdir(P("dir"), 0755);
	symlink("file", P("sl"));
	symlink("loop", P("loop"));
	mkfifo(P("fifo"), 0644);
	mkdir(P("noexec"), 0600);
	int dirfd = open(d, O_RDONLY | O_DIRECTORY);
	int rofd = open(P("file"), O_RDONLY);
	int wofd = open(P("file"), O_WRONLY);
	int opfd = open(P("file"), O_PATH);
	int pp[2]; pipe(pp);
	printf("uid %d\n", uid);

	/* stat, lstat, fstat, newfstatat, statx */
	R("stat missing", stat(P("missing"), &st));
	R("stat file/x", stat(P("file/x"), &st));
	R("stat file/", stat(P("file/"), &st));
	R("stat loop", stat(P("loop"), &st));
	R("lstat loop", lstat(P("loop"), &st));
	R("stat empty", stat("", &st));
	R("stat bad path", S(SYS_stat, BAD, &st));
	R("stat bad buf", S(SYS_stat, P("file"), BAD));
	R("stat noexec/x", stat(P("noexec/x"), &st));
	R("lstat bad buf", S(SYS_lstat, P("sl"), BAD));
	R("fstat bad fd", fstat(99, &st));
	R("fstat bad buf", S(SYS_fstat, fd, BAD));
	R("fstat bad fd bad buf", S(SYS_fstat, 99, BAD));
	R("fstat O_PATH", fstat(opfd, &st));
	R("newfstatat bad flags", S(SYS_newfstatat, dirfd, "file", &st, 1));
	R("newfstatat bad dirfd", S(SYS_newfstatat, 99, "file", &st, 0));
	R("newfstatat file dirfd", S(SYS_newfstatat, fd, "x", &st, 0));
	R("newfstatat empty", S(SYS_newfstatat, fd, "", &st, 0));
	R("newfstatat EMPTY_PATH", S(SYS_newfstatat, fd, "", &st, AT_EMPTY_PATH));
	R("newfstatat EMPTY_PATH bad fd", S(SYS_newfstatat, 99, "", &st, AT_EMPTY_PATH));
	R("newfstatat NULL EMPTY_PATH", S(SYS_newfstatat, fd, NULL, &st, AT_EMPTY_PATH));
	{
		struct statx sx;
		R("statx bad flags", statx(dirfd, "file", 0x10000000, STATX_BASIC_STATS, &sx));
		R("statx FORCE|DONT sync", statx(dirfd, "file", AT_STATX_FORCE_SYNC | AT_STATX_DONT_SYNC, STATX_BASIC_STATS, &sx));
		R("statx reserved mask", statx(dirfd, "file", 0, 0x80000000U, &sx));
		R("statx missing", statx(dirfd, "missing", 0, STATX_BASIC_STATS, &sx));
		R("statx empty", statx(dirfd, "", 0, STATX_BASIC_STATS, &sx));
		R("statx bad buf", S(SYS_statx, dirfd, "file", 0, STATX_BASIC_STATS, BAD));
		R("statx bad path", S(SYS_statx, dirfd, BAD, 0, STATX_BASIC_STATS, &sx));
		R("statx bad dirfd", statx(99, "file", 0, STATX_BASIC_STATS, &sx));
		R("statx NULL path EMPTY_PATH", S(SYS_statx, fd, NULL, AT_EMPTY_PATH, STATX_BASIC_STATS, &sx));
		R("statx NULL path", S(SYS_statx, fd, NULL, 0, STATX_BASIC_STATS, &sx));
		R("statx bad flags bad dirfd", statx(99, "file", 0x10000000, STATX_BASIC_STATS, &sx));
	}

	/* getdents, getdents64 */
	R("getdents64 bad fd", S(SYS_getdents64, 99, buf, sizeof buf));
	R("getdents64 file", S(SYS_getdents64, fd, buf, sizeof buf));
	R("getdents64 small buf", S(SYS_getdents64, dirfd, buf, 8));
	R("getdents64 bad buf", S(SYS_getdents64, dirfd, BAD, sizeof buf));
	R("getdents file", S(SYS_getdents, fd, buf, sizeof buf));
	R("getdents O_PATH", S(SYS_getdents, opfd, buf, sizeof buf));
	R("getdents64 pipe", S(SYS_getdents64, pp[0], buf, sizeof buf));

	/* xattrs */
	R("setxattr missing", setxattr(P("missing"), "user.a", "v", 1, 0));
	R("setxattr bad namespace", setxattr(P("file"), "foo.a", "v", 1, 0));
	R("setxattr no namespace", setxattr(P("file"), "a", "v", 1, 0));
	R("setxattr empty name", setxattr(P("file"), "", "v", 1, 0));
	R("setxattr user. only", setxattr(P("file"), "user.", "v", 1, 0));
	memset(buf, 'x', 300); buf[300] = 0; memcpy(buf, "user.", 5);
	R("setxattr long name", setxattr(P("file"), buf, "v", 1, 0));
	R("setxattr bad flags", setxattr(P("file"), "user.a", "v", 1, 4));
	R("setxattr REPLACE missing", setxattr(P("file"), "user.a", "v", 1, XATTR_REPLACE));
	R("setxattr ok", setxattr(P("file"), "user.a", "v", 1, 0));
	R("setxattr CREATE exists", setxattr(P("file"), "user.a", "v", 1, XATTR_CREATE));
	R("setxattr CREATE|REPLACE", setxattr(P("file"), "user.a", "v", 1, XATTR_CREATE | XATTR_REPLACE));
	R("setxattr too big", S(SYS_setxattr, P("file"), "user.b", big, 65537, 0));
	R("setxattr bad value", S(SYS_setxattr, P("file"), "user.b", BAD, 4, 0));
	R("setxattr bad name ptr", S(SYS_setxattr, P("file"), BAD, "v", 1, 0));
	R("setxattr bad path", S(SYS_setxattr, BAD, "user.b", "v", 1, 0));
	R("setxattr NULL value 0", setxattr(P("file"), "user.z", NULL, 0, 0));
	R("lsetxattr user on symlink", lsetxattr(P("sl"), "user.a", "v", 1, 0));
	R("setxattr user on fifo", setxattr(P("fifo"), "user.a", "v", 1, 0));
	R("setxattr trusted", setxattr(P("file"), "trusted.a", "v", 1, 0));
	R("setxattr security", setxattr(P("file"), "security.a", "v", 1, 0));
	R("setxattr system bogus", setxattr(P("file"), "system.bogus", "v", 1, 0));
	R("fsetxattr bad fd", fsetxattr(99, "user.a", "v", 1, 0));
	R("fsetxattr O_PATH", fsetxattr(opfd, "user.a", "v", 1, 0));
	R("fsetxattr O_RDONLY", fsetxattr(rofd, "user.r", "v", 1, 0));
	R("fsetxattr pipe", fsetxattr(pp[0], "user.a", "v", 1, 0));
	R("getxattr missing file", getxattr(P("missing"), "user.a", buf, sizeof buf));
	R("getxattr missing attr", getxattr(P("file"), "user.nope", buf, sizeof buf));
	R("getxattr size 0", getxattr(P("file"), "user.a", NULL, 0));
	R("getxattr small", getxattr(P("file"), "user.a", buf, 0) >= 0 ? getxattr(P("file"), "user.b", buf, 0) : -2);
	setxattr(P("file"), "user.long", "0123456789", 10, 0);
	R("getxattr small buffer", getxattr(P("file"), "user.long", buf, 4));
	R("getxattr bad buf", S(SYS_getxattr, P("file"), "user.long", BAD, 64));
	R("getxattr bad namespace", getxattr(P("file"), "foo.a", buf, sizeof buf));
	R("getxattr empty name", getxattr(P("file"), "", buf, sizeof buf));
	R("getxattr long name", getxattr(P("file"), buf + 0, buf, sizeof buf));
	R("lgetxattr symlink", lgetxattr(P("sl"), "user.a", buf, sizeof buf));
	R("getxattr via symlink", getxattr(P("sl"), "user.a", buf, sizeof buf));
	R("fgetxattr bad fd", fgetxattr(99, "user.a", buf, sizeof buf));
	R("fgetxattr O_PATH", fgetxattr(opfd, "user.a", buf, sizeof buf));
	R("fgetxattr WRONLY", fgetxattr(wofd, "user.a", buf, sizeof buf));
	R("fgetxattr pipe", fgetxattr(pp[0], "user.a", buf, sizeof buf));
	R("listxattr missing", listxattr(P("missing"), buf, sizeof buf));
	R("listxattr size 0", listxattr(P("file"), NULL, 0));
	R("listxattr small", listxattr(P("file"), buf, 3));
	R("listxattr bad buf", S(SYS_listxattr, P("file"), BAD, 64));
	R("llistxattr symlink", llistxattr(P("sl"), buf, sizeof buf));
	R("flistxattr bad fd", flistxattr(99, buf, sizeof buf));
	R("flistxattr O_PATH", flistxattr(opfd, buf, sizeof buf));
	R("removexattr missing attr", removexattr(P("file"), "user.nope"));
	R("removexattr missing file", removexattr(P("missing"), "user.a"));
	R("removexattr bad namespace", removexattr(P("file"), "foo.a"));
	R("removexattr empty", removexattr(P("file"), ""));
	R("lremovexattr symlink", lremovexattr(P("sl"), "user.a"));
	R("lremovexattr missing", lremovexattr(P("missing"), "user.a"));
	R("fremovexattr bad fd", fremovexattr(99, "user.a"));
	R("fremovexattr O_PATH", fremovexattr(opfd, "user.a"));
	R("removexattr ok", removexattr(P("file"), "user.a"));
	R("removexattr again", removexattr(P("file"), "user.a"));
	if (uid) {
		R("setxattr not owner", setxattr("/dev/null", "user.a", "v", 1, 0));
		R("getxattr no search", getxattr(P("noexec/x"), "user.a", buf, sizeof buf));
	}

	/* dup, dup2, dup3, fcntl, close, close_range */
	R("dup bad fd", dup(99));
	R("dup -1", dup(-1));
	R("dup O_PATH", C(dup(opfd)));
	R("dup2 bad old", dup2(99, 50));
	R("dup2 negative new", dup2(fd, -1));
	R("dup2 huge new", dup2(fd, 1 << 30));
	R("dup2 same", dup2(fd, fd) == fd);
	R("dup2 bad same", dup2(99, 99));
	R("dup3 same", dup3(fd, fd, 0));
	R("dup3 bad flags", dup3(fd, 50, 1));
	R("dup3 bad old", dup3(99, 50, 0));
	R("dup3 negative new", dup3(fd, -1, 0));
	R("dup3 bad same", dup3(99, 99, 0));
	R("fcntl bad fd", fcntl(99, F_GETFD));
	R("fcntl bad cmd", fcntl(fd, 9999));
	R("fcntl bad cmd bad fd", fcntl(99, 9999));
	R("F_DUPFD negative", fcntl(fd, F_DUPFD, -1));
	R("F_DUPFD huge", fcntl(fd, F_DUPFD, 1 << 30));
	R("F_SETFL O_PATH", fcntl(opfd, F_SETFL, O_NONBLOCK));
	R("F_GETFL file", fcntl(fd, F_GETFL));
	R("F_GETFL O_PATH", fcntl(opfd, F_GETFL));
	R("F_GETFL pipe", fcntl(pp[1], F_GETFL));
	R("F_GETFL dir", fcntl(dirfd, F_GETFL));
	R("F_GETLK bad ptr", fcntl(fd, F_GETLK, BAD));
	{
		struct flock fl = {.l_type = 9, .l_whence = SEEK_SET};
		R("F_SETLK bad type", fcntl(fd, F_SETLK, &fl));
		fl.l_type = F_RDLCK; fl.l_whence = 7;
		R("F_SETLK bad whence", fcntl(fd, F_SETLK, &fl));
		fl.l_whence = SEEK_SET; fl.l_start = -5;
		R("F_SETLK negative start", fcntl(fd, F_SETLK, &fl));
		fl.l_start = 0;
		R("F_SETLK RDLCK on O_WRONLY", fcntl(wofd, F_SETLK, &fl));
		fl.l_type = F_WRLCK;
		R("F_SETLK WRLCK on O_RDONLY", fcntl(rofd, F_SETLK, &fl));
		fl.l_pid = 1;
		R("F_OFD_SETLK with pid", fcntl(fd, F_OFD_SETLK, &fl));
	}
	R("F_SETPIPE_SZ file", fcntl(fd, F_SETPIPE_SZ, 4096));
	R("F_GETPIPE_SZ file", fcntl(fd, F_GETPIPE_SZ));
	R("F_SETPIPE_SZ huge", fcntl(pp[0], F_SETPIPE_SZ, 1 << 30));
	R("F_ADD_SEALS file", fcntl(fd, F_ADD_SEALS, F_SEAL_SEAL));
	R("F_GET_SEALS file", fcntl(fd, F_GET_SEALS));
	{
		int dd = dup(fd), cf = open(P("created"), O_CREAT | O_EXCL | O_RDWR, 0644);
		R("F_DUPFD_QUERY same", fcntl(fd, 1027, dd));
		R("F_DUPFD_QUERY other", fcntl(fd, 1027, rofd));
		R("F_DUPFD_QUERY bad fd", fcntl(fd, 1027, 99));
		R("F_DUPFD_QUERY O_PATH", fcntl(opfd, 1027, opfd));
		R("F_CREATED_QUERY created", fcntl(cf, 1028));
		R("F_CREATED_QUERY opened", fcntl(rofd, 1028));
		R("F_CREATED_QUERY dup of created", fcntl(dup2(cf, dd), 1028));
		R("F_CREATED_QUERY O_PATH", fcntl(opfd, 1028));
		close(dd); close(cf);
		unlink(P("created"));
	}
	R("close bad fd", close(99));
	R("close -1", close(-1));
	R("close_range first > last", S(SYS_close_range, 10, 5, 0));
	R("close_range bad flags", S(SYS_close_range, 50, 60, 8));
	R("close_range empty", S(SYS_close_range, 500, 600, 0));
	{
		struct rlimit rl, lo = {12, 12};
		getrlimit(RLIMIT_NOFILE, &rl);
		setrlimit(RLIMIT_NOFILE, &lo);
		int n, last = 0;
		while ((n = dup(fd)) >= 0) last = n;
		R("dup table full", dup(fd));
		R("F_DUPFD table full", fcntl(fd, F_DUPFD, 0));
		R("dup2 to limit", dup2(fd, 12));
		R("dup bad fd table full", dup(99));
		R("pipe table full", pipe(pp + 0) == 0 ? 0 : -1);
		for (int i = 3; i <= last; i++) if (i != fd && i != dirfd && i != rofd && i != wofd && i != opfd && i != pp[0] && i != pp[1]) close(i);
		setrlimit(RLIMIT_NOFILE, &rl);
	}

	/* ioctl */
	R("ioctl bad fd", ioctl(99, FIONREAD, buf));
	R("ioctl TCGETS file", ioctl(fd, TCGETS, buf));
	R("ioctl TCGETS pipe", ioctl(pp[0], TCGETS, buf));
	R("ioctl FIONREAD bad ptr", ioctl(pp[0], FIONREAD, BAD));
	R("ioctl FIONREAD file", ioctl(fd, FIONREAD, buf));
	R("ioctl unknown on file", ioctl(fd, 0x12345678, buf));
	R("ioctl unknown on pipe", ioctl(pp[0], 0x12345678, buf));
	R("ioctl FIONBIO bad ptr", ioctl(fd, FIONBIO, BAD));
	R("ioctl FIOCLEX", ioctl(fd, FIOCLEX));
	R("ioctl FIONCLEX", ioctl(fd, FIONCLEX));
	R("ioctl FIOASYNC bad ptr", ioctl(fd, FIOASYNC, BAD));
	R("ioctl FIGETBSZ", ioctl(fd, FIGETBSZ, buf));
	R("ioctl FIOQSIZE dir", ioctl(dirfd, FIOQSIZE, buf) >= 0 ? 0 : -1);
	R("ioctl TIOCGWINSZ dir", ioctl(dirfd, TIOCGWINSZ, buf));
	R("ioctl FIONREAD dir", ioctl(dirfd, FIONREAD, buf));
	R("ioctl FIGETBSZ dir", ioctl(dirfd, FIGETBSZ, buf));
	{
		int g = open(P("clone"), O_CREAT | O_RDWR, 0644);
		struct file_clone_range cr = {.src_fd = fd};
		R("FICLONE", ioctl(g, FICLONE, fd));
		R("FICLONE bad src", ioctl(g, FICLONE, 99));
		R("FICLONE O_PATH src", ioctl(g, FICLONE, opfd));
		R("FICLONE dir src", ioctl(g, FICLONE, dirfd));
		R("FICLONE pipe src", ioctl(g, FICLONE, pp[0]));
		R("FICLONE to O_RDONLY", ioctl(rofd, FICLONE, fd));
		int pf = open("/proc/self/stat", O_RDONLY);
		R("FICLONE across mounts", ioctl(g, FICLONE, pf));
		close(pf);
		R("FICLONERANGE", ioctl(g, FICLONERANGE, &cr));
		R("FICLONERANGE bad ptr", ioctl(g, FICLONERANGE, BAD));
		R("FIBMAP", ioctl(fd, FIBMAP, buf));
		R("FIFREEZE", ioctl(dirfd, FIFREEZE, 0));
		R("FITHAW", ioctl(dirfd, FITHAW, 0));
		close(g);
		unlink(P("clone"));
	}

	/* read, write, pread64, pwrite64, readv, writev, preadv, pwritev, preadv2, pwritev2 */
	R("read bad fd", read(99, buf, 4));
	R("read O_WRONLY", read(wofd, buf, 4));
	R("read O_PATH", read(opfd, buf, 4));
	R("read dir", read(dirfd, buf, 4));
	R("read bad buf", S(SYS_read, rofd, BAD, 4));
	R("read count 0 bad buf", S(SYS_read, rofd, BAD, 0));
	R("read count 0 bad fd", read(99, buf, 0));
	R("read count 0 O_WRONLY", read(wofd, buf, 0));
	R("read count 0 dir", read(dirfd, buf, 0));
	R("read huge count", S(SYS_read, rofd, buf, (size_t)-1));
	lseek(rofd, 0, SEEK_SET);
	fcntl(pp[0], F_SETFL, O_NONBLOCK);
	R("read empty pipe nonblock", read(pp[0], buf, 4));
	R("read pipe bad buf", (write(pp[1], "ab", 2), S(SYS_read, pp[0], BAD, 4)));
	read(pp[0], buf, 4);
	R("write bad fd", write(99, "x", 1));
	R("write O_RDONLY", write(rofd, "x", 1));
	R("write O_PATH", write(opfd, "x", 1));
	R("write bad buf", S(SYS_write, wofd, BAD, 4));
	R("write count 0 bad buf", S(SYS_write, wofd, BAD, 0));
	R("write count 0 O_RDONLY", write(rofd, buf, 0));
	R("write dir", write(dirfd, "x", 1));
	{
		int q[2]; pipe(q); close(q[0]);
		R("write pipe no reader", write(q[1], "x", 1));
		R("write pipe no reader count 0", write(q[1], "x", 0));
		close(q[1]);
		pipe2(q, O_NONBLOCK);
		memset(buf, 'p', sizeof buf);
		long tot = 0, n;
		while ((n = write(q[1], buf, sizeof buf)) > 0) tot += n;
		printf("pipe filled %ld\n", tot);
		R("write full pipe nonblock", write(q[1], buf, 1));
		close(q[0]); close(q[1]);
	}
	R("pread bad fd", pread(99, buf, 4, 0));
	R("pread negative", pread(rofd, buf, 4, -1));
	R("pread pipe", pread(pp[0], buf, 4, 0));
	R("pread pipe negative", pread(pp[0], buf, 4, -1));
	R("pread O_WRONLY", pread(wofd, buf, 4, 0));
	R("pread dir", pread(dirfd, buf, 4, 0));
	R("pread bad buf", S(SYS_pread64, rofd, BAD, 4, 0));
	R("pread past end", pread(rofd, buf, 4, 1000));
	R("pread huge offset", pread(rofd, buf, 4, 0x7fffffffffffffffLL));
	R("pwrite bad fd", pwrite(99, "x", 1, 0));
	R("pwrite negative", pwrite(wofd, "x", 1, -1));
	R("pwrite pipe", pwrite(pp[1], "x", 1, 0));
	R("pwrite O_RDONLY", pwrite(rofd, "x", 1, 0));
	R("pwrite huge offset", pwrite(wofd, "x", 1, 0x7fffffffffffffffLL));
	R("pwrite bad buf", S(SYS_pwrite64, wofd, BAD, 4, 0));
	{
		struct iovec iov[2] = {{buf, 4}, {buf + 4, 4}};
		R("readv bad fd", readv(99, iov, 2));
		R("readv iovcnt -1", S(SYS_readv, rofd, iov, -1));
		R("readv iovcnt 1025", S(SYS_readv, rofd, iov, 1025));
		R("readv iovcnt 0", readv(rofd, iov, 0));
		R("readv bad iov", S(SYS_readv, rofd, BAD, 2));
		R("readv bad iov 0", S(SYS_readv, rofd, BAD, 0));
		struct iovec big[2] = {{buf, SSIZE_MAX}, {buf, SSIZE_MAX}};
		R("readv len overflow", readv(rofd, big, 2));
		struct iovec neg[1] = {{buf, (size_t)-1}};
		R("readv negative len", readv(rofd, neg, 1));
		R("readv O_WRONLY", readv(wofd, iov, 2));
		R("readv O_WRONLY iovcnt -1", S(SYS_readv, wofd, iov, -1));
		struct iovec bb[2] = {{BAD, 4}, {buf, 4}};
		lseek(rofd, 0, SEEK_SET);
		R("readv bad base", readv(rofd, bb, 2));
		R("writev bad fd", writev(99, iov, 2));
		R("writev iovcnt 1025", S(SYS_writev, wofd, iov, 1025));
		R("writev O_RDONLY", writev(rofd, iov, 2));
		R("writev len overflow", writev(wofd, big, 2));
		R("writev bad base", writev(wofd, bb, 2));
		R("writev bad iov", S(SYS_writev, wofd, BAD, 2));
		R("preadv negative", preadv(rofd, iov, 2, -1));
		R("preadv pipe", preadv(pp[0], iov, 2, 0));
		R("preadv iovcnt 1025", S(SYS_preadv, rofd, iov, 1025, 0, 0));
		R("pwritev negative", pwritev(wofd, iov, 2, -1));
		R("pwritev pipe", pwritev(pp[1], iov, 2, 0));
		R("preadv2 bad flags", preadv2(rofd, iov, 2, 0, 0x10000000));
		R("preadv2 NOWAIT file", preadv2(rofd, iov, 2, 0, RWF_NOWAIT));
		R("preadv2 HIPRI", preadv2(rofd, iov, 2, 0, RWF_HIPRI));
		R("preadv2 -1 offset pipe", preadv2(pp[0], iov, 2, -1, 0));
		R("preadv2 -1 offset NOWAIT pipe", preadv2(pp[0], iov, 2, -1, RWF_NOWAIT));
		R("preadv2 -2 offset", preadv2(rofd, iov, 2, -2, 0));
		R("preadv2 bad fd bad flags", preadv2(99, iov, 2, 0, 0x10000000));
		R("pwritev2 bad flags", pwritev2(wofd, iov, 2, 0, 0x10000000));
		R("pwritev2 APPEND pipe", pwritev2(pp[1], iov, 1, -1, RWF_APPEND));
		R("pwritev2 DSYNC", pwritev2(wofd, iov, 1, 0, RWF_DSYNC));
		R("pwritev2 NOWAIT", pwritev2(wofd, iov, 1, 0, RWF_NOWAIT));
		R("pwritev2 -2 offset", pwritev2(wofd, iov, 1, -2, 0));
		read(pp[0], buf, sizeof buf);
	}

	{
		/* access mode 3: read and write permission, a file for neither */
		int a3;
		R("open acc 3", C(a3 = open(P("file"), 3)));
		a3 = open(P("file"), 3);
		R("read acc 3", read(a3, buf, 1));
		R("write acc 3", write(a3, "x", 1));
		R("F_GETFL acc 3", fcntl(a3, F_GETFL) & 3);
		R("ioctl FIONREAD acc 3", ioctl(a3, FIONREAD, buf));
		close(a3);
		chmod(P("file"), 0444);
		R("open acc 3 on 0444", C(open(P("file"), 3)));
		R("open O_RDONLY|O_TRUNC on 0444", C(open(P("file"), O_RDONLY | O_TRUNC)));
		chmod(P("file"), 0644);
		R("open acc 3 on dir", C(open(P("dir"), 3)));
		int ap = open(P("file"), O_RDONLY | O_APPEND);
		R("write O_RDONLY|O_APPEND", write(ap, "x", 1));
		close(ap);
	}

	{
		/* pwritev2's RWF_APPEND and RWF_NOAPPEND */
		int w = open(P("app"), O_CREAT | O_RDWR | O_TRUNC, 0644);
		write(w, "0123456789", 10);
		lseek(w, 2, SEEK_SET);
		struct iovec v = {"AB", 2};
		R("pwritev2 APPEND at 0", pwritev2(w, &v, 1, 0, RWF_APPEND));
		R("  offset after", lseek(w, 0, SEEK_CUR));
		R("pwritev2 APPEND at -1", pwritev2(w, &v, 1, -1, RWF_APPEND));
		R("  offset after", lseek(w, 0, SEEK_CUR));
		close(w);
		w = open(P("app"), O_RDWR | O_APPEND);
		R("pwritev2 NOAPPEND at 1", pwritev2(w, &v, 1, 1, RWF_NOAPPEND));
		R("pwrite O_APPEND at 1", pwrite(w, "CD", 2, 1));
		lseek(w, 5, SEEK_SET);
		R("pwritev2 NOAPPEND at -1", pwritev2(w, &v, 1, -1, RWF_NOAPPEND));
		R("  offset after", lseek(w, 0, SEEK_CUR));
		memset(buf, 0, 64);
		pread(w, buf, 63, 0);
		printf("  content %s\n", buf);
		close(w);
		unlink(P("app"));
	}

	/* lseek */
	R("lseek bad fd", lseek(99, 0, SEEK_SET));
	R("lseek bad whence", lseek(fd, 0, 7));
	R("lseek negative", lseek(fd, -1, SEEK_SET));
	R("lseek negative CUR", lseek(fd, -100, SEEK_END));
	R("lseek pipe", lseek(pp[0], 0, SEEK_CUR));
	R("lseek pipe bad whence", lseek(pp[0], 0, 7));
	R("lseek SEEK_DATA past end", lseek(fd, 100, SEEK_DATA));
	R("lseek SEEK_HOLE past end", lseek(fd, 100, SEEK_HOLE));
	R("lseek SEEK_DATA negative", lseek(fd, -1, SEEK_DATA));
	R("lseek dir", lseek(dirfd, 0, SEEK_SET));
	R("lseek dir END", lseek(dirfd, 0, SEEK_END));
	R("lseek O_PATH", lseek(opfd, 0, SEEK_SET));
	R("lseek overflow", lseek(fd, 0x7fffffffffffffffLL, SEEK_END));
	R("lseek bad fd bad whence", lseek(99, 0, 7));

	const char *files[] = {"file", "sl", "loop", "fifo", NULL};
	for (int i = 0; files[i]; i++) unlink(P(files[i]));
	rmdir(P("dir")); rmdir(P("noexec"));
	R("rmdir tmpdir", rmdir(d));
	return 0;
}
`

func TestErrorsFS2(t *testing.T) {
	t.Parallel()
	prog := compileC(t, "errorsfs2", errorsFS2C)
	diff(t, []string{prog})
	diffAsUser(t, prog)
}
