package tests

import "testing"

// errorsFS3C: the ERRORS of splice, tee, vmsplice, sendfile,
// copy_file_range, flock, memfd_create and the seals (MFD_EXEC,
// MFD_NOEXEC_SEAL, F_SEAL_EXEC), ETXTBSY for opening or truncating a
// running executable, inotify, pipe and pipe2, in Linux's order of checks.
// Linux: fs/splice.c, fs/read_write.c, fs/locks.c, mm/memfd.c,
// fs/notify/inotify/inotify_user.c, fs/pipe.c
const errorsFS3C = `#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/file.h>
#include <sys/inotify.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>

#define R(what, expr) do { errno = 0; long _r = (long)(expr); \
	printf("%-40s = %ld %s\n", what, _r, _r < 0 ? strerror(errno) : ""); fflush(stdout); } while (0)
#define S(...) syscall(__VA_ARGS__)
#define BAD ((void *)8)
static long C(long fd) { if (fd >= 0) { close(fd); return 0; } return fd; }

static char d[64];
static char *P(const char *rel) { static char b[8][PATH_MAX]; static int i; i = (i + 1) % 8; snprintf(b[i], sizeof b[i], "%s/%s", d, rel); return b[i]; }

int main(int argc, char **argv) {
	if (argc > 2) { /* the running executable: report, then wait to be killed */
		write(atoi(argv[2]), "r", 1);
		pause();
		return 0;
	}
	strcpy(d, "/dev/shm/errfs3-XXXXXX");
	if (!mkdtemp(d)) { perror("mkdtemp"); return 1; }
	signal(SIGPIPE, SIG_IGN);
	int uid = getuid();
	char buf[4096];
	int fd = open(P("file"), O_CREAT | O_RDWR, 0644);
	write(fd, "hello world", 11);
	close(open(P("file2"), O_CREAT | O_RDWR, 0644));
	int rofd = open(P("file"), O_RDONLY);
	int wofd = open(P("file2"), O_WRONLY);
	int apfd = open(P("file2"), O_WRONLY | O_APPEND);
	int opfd = open(P("file"), O_PATH);
	mkdir(P("dir"), 0755);
	int dirfd = open(P("dir"), O_RDONLY | O_DIRECTORY);
	int p[2], q[2], sv[2];
	pipe(p); pipe(q);
	socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	loff_t off;
	printf("uid %d\n", uid);

	/* splice, tee, vmsplice */
	R("splice bad in", splice(99, NULL, p[1], NULL, 4, 0));
	R("splice bad out", splice(rofd, NULL, 99, NULL, 4, 0));
	R("splice no pipe", splice(rofd, NULL, wofd, NULL, 4, 0));
	R("splice bad flags", splice(rofd, NULL, p[1], NULL, 4, 0x100));
	off = 0;
	R("splice off_in on pipe", splice(p[0], &off, wofd, NULL, 4, 0));
	R("splice off_out on pipe", splice(rofd, NULL, p[1], &off, 4, 0));
	off = -1;
	R("splice negative off", splice(rofd, &off, p[1], NULL, 4, 0));
	R("splice bad off ptr", splice(rofd, BAD, p[1], NULL, 4, 0));
	R("splice same pipe", splice(p[0], NULL, p[1], NULL, 4, 0));
	R("splice O_WRONLY in", splice(wofd, NULL, p[1], NULL, 4, 0));
	R("splice O_RDONLY out", splice(p[0], NULL, rofd, NULL, 4, SPLICE_F_NONBLOCK));
	R("splice pipe read end out", splice(rofd, NULL, p[0], NULL, 4, 0));
	R("splice dir in", splice(dirfd, NULL, p[1], NULL, 4, 0));
	R("splice O_PATH in", splice(opfd, NULL, p[1], NULL, 4, 0));
	R("splice O_APPEND out", (write(q[1], "ab", 2), splice(q[0], NULL, apfd, NULL, 2, 0)));
	R("splice len 0", splice(rofd, NULL, p[1], NULL, 0, 0));
	R("splice empty pipe NONBLOCK", splice(q[0], NULL, wofd, NULL, 4, SPLICE_F_NONBLOCK));
	R("splice ok", splice(rofd, NULL, p[1], NULL, 4, 0));
	read(p[0], buf, sizeof buf);
	R("tee bad fd", tee(99, q[1], 4, 0));
	R("tee not pipe in", tee(rofd, q[1], 4, 0));
	R("tee not pipe out", tee(p[0], wofd, 4, 0));
	R("tee same pipe", tee(p[0], p[1], 4, 0));
	R("tee bad flags", tee(p[0], q[1], 4, 0x100));
	R("tee wrong ends", tee(p[1], q[0], 4, 0));
	R("tee empty NONBLOCK", tee(p[0], q[1], 4, SPLICE_F_NONBLOCK));
	R("tee len 0", tee(p[0], q[1], 0, 0));
	{
		struct iovec iov = {"abcd", 4};
		R("vmsplice bad fd", vmsplice(99, &iov, 1, 0));
		R("vmsplice not pipe", vmsplice(wofd, &iov, 1, 0));
		R("vmsplice bad flags", vmsplice(p[1], &iov, 1, 0x100));
		R("vmsplice iovcnt 1025", S(SYS_vmsplice, p[1], &iov, 1025, 0));
		R("vmsplice bad iov", S(SYS_vmsplice, p[1], BAD, 1, 0));
		struct iovec riov = {buf, 4};
		R("vmsplice empty read end NONBLOCK", vmsplice(p[0], &riov, 1, SPLICE_F_NONBLOCK));
		R("vmsplice ok", vmsplice(p[1], &iov, 1, 0));
		iov.iov_base = buf;
		R("vmsplice read", vmsplice(p[0], &iov, 1, 0));
		R("vmsplice O_PATH", vmsplice(opfd, &iov, 1, 0));
		R("vmsplice socket", vmsplice(sv[0], &iov, 1, 0));
	}

	/* sendfile */
	R("sendfile bad in", sendfile(wofd, 99, NULL, 4));
	R("sendfile bad out", sendfile(99, rofd, NULL, 4));
	R("sendfile O_WRONLY in", sendfile(wofd, wofd, NULL, 4));
	R("sendfile O_RDONLY out", sendfile(rofd, rofd, NULL, 4));
	off = -1;
	R("sendfile negative off", sendfile(wofd, rofd, &off, 4));
	R("sendfile bad off ptr", sendfile(wofd, rofd, BAD, 4));
	R("sendfile O_APPEND out", sendfile(apfd, rofd, NULL, 4));
	R("sendfile dir in", sendfile(wofd, dirfd, NULL, 4));
	R("sendfile O_PATH in", sendfile(wofd, opfd, NULL, 4));
	R("sendfile socket in", sendfile(wofd, sv[0], NULL, 4));
	off = 0;
	R("sendfile pipe in with off", (write(q[1], "xy", 2), sendfile(wofd, q[0], &off, 2)));
	R("sendfile pipe in", sendfile(wofd, q[0], NULL, 2));
	R("sendfile len 0", sendfile(wofd, rofd, NULL, 0));
	R("sendfile to pipe", sendfile(p[1], rofd, NULL, 4));
	R("sendfile to socket", sendfile(sv[0], rofd, NULL, 4));
	off = 0x7ffffffffffffff0LL;
	R("sendfile huge off", sendfile(wofd, rofd, &off, 100));
	read(p[0], buf, sizeof buf);

	/* copy_file_range */
	R("cfr bad in", copy_file_range(99, NULL, wofd, NULL, 4, 0));
	R("cfr bad out", copy_file_range(rofd, NULL, 99, NULL, 4, 0));
	R("cfr bad flags", copy_file_range(rofd, NULL, wofd, NULL, 4, 1));
	R("cfr O_WRONLY in", copy_file_range(wofd, NULL, wofd, NULL, 4, 0));
	R("cfr O_RDONLY out", copy_file_range(rofd, NULL, rofd, NULL, 4, 0));
	R("cfr O_APPEND out", copy_file_range(rofd, NULL, apfd, NULL, 4, 0));
	R("cfr dir in", copy_file_range(dirfd, NULL, wofd, NULL, 4, 0));
	R("cfr dir out", copy_file_range(rofd, NULL, dirfd, NULL, 4, 0));
	R("cfr pipe in", copy_file_range(p[0], NULL, wofd, NULL, 4, 0));
	R("cfr pipe out", copy_file_range(rofd, NULL, p[1], NULL, 4, 0));
	off = -1;
	R("cfr negative off_in", copy_file_range(rofd, &off, wofd, NULL, 4, 0));
	R("cfr bad off ptr", copy_file_range(rofd, BAD, wofd, NULL, 4, 0));
	{
		loff_t a = 0, b = 2;
		R("cfr same file overlap", copy_file_range(fd, &a, fd, &b, 4, 0));
		a = 0; b = 100;
		R("cfr same file disjoint", copy_file_range(fd, &a, fd, &b, 4, 0));
		a = 0x7ffffffffffffff0LL; b = 0;
		R("cfr huge in off", copy_file_range(rofd, &a, wofd, &b, 100, 0));
		a = 0; b = 0x7ffffffffffffff0LL;
		R("cfr huge out off", copy_file_range(rofd, &a, wofd, &b, 100, 0));
		R("cfr len 0", copy_file_range(rofd, NULL, wofd, NULL, 0, 0));
		R("cfr O_PATH in", copy_file_range(opfd, NULL, wofd, NULL, 4, 0));
	}
	ftruncate(fd, 11);

	/* flock */
	R("flock bad fd", flock(99, LOCK_SH));
	R("flock bad op", flock(fd, 0));
	R("flock bad op bad fd", flock(99, 0));
	R("flock bad op 3", flock(fd, LOCK_SH | LOCK_EX));
	R("flock bad op NB only", flock(fd, LOCK_NB));
	R("flock bad op 0x20", flock(fd, 0x20));
	R("flock O_PATH", flock(opfd, LOCK_SH));
	R("flock EX", flock(fd, LOCK_EX));
	R("flock EX other NB", flock(rofd, LOCK_EX | LOCK_NB));
	R("flock SH other NB", flock(rofd, LOCK_SH | LOCK_NB));
	R("flock UN", flock(fd, LOCK_UN));
	R("flock SH other NB now", flock(rofd, LOCK_SH | LOCK_NB));
	R("flock pipe", flock(p[0], LOCK_EX));
	R("flock socket", flock(sv[0], LOCK_EX));
	R("flock dir", flock(dirfd, LOCK_EX));
	R("flock UN unlocked", flock(wofd, LOCK_UN));

	/* memfd_create and seals */
	{
		char name[300];
		memset(name, 'm', sizeof name); name[250] = 0;
		R("memfd bad flags", S(SYS_memfd_create, "m", 0x100));
		R("memfd long name", S(SYS_memfd_create, name, 0));
		name[249] = 0;
		R("memfd name 249", C(S(SYS_memfd_create, name, 0)));
		R("memfd bad name", S(SYS_memfd_create, BAD, 0));
		R("memfd NULL name", S(SYS_memfd_create, NULL, 0));
		R("memfd size bits without HUGETLB", S(SYS_memfd_create, "m", 21 << 26));
		R("memfd EXEC|NOEXEC_SEAL", S(SYS_memfd_create, "m", 0x10 | 0x8));
		int m = memfd_create("m", MFD_CLOEXEC);
		R("F_ADD_SEALS no sealing", fcntl(m, F_ADD_SEALS, F_SEAL_WRITE));
		R("F_GET_SEALS no sealing", fcntl(m, F_GET_SEALS));
		close(m);
		m = memfd_create("m", MFD_ALLOW_SEALING);
		write(m, "0123456789", 10);
		R("F_ADD_SEALS bad seal", fcntl(m, F_ADD_SEALS, 0x1000));
		R("F_ADD_SEALS SHRINK", fcntl(m, F_ADD_SEALS, F_SEAL_SHRINK));
		R("ftruncate shrink sealed", ftruncate(m, 5));
		R("ftruncate grow", ftruncate(m, 20));
		R("F_ADD_SEALS GROW", fcntl(m, F_ADD_SEALS, F_SEAL_GROW));
		R("write past end GROW", pwrite(m, "x", 1, 20));
		R("write inside GROW", pwrite(m, "x", 1, 0));
		void *map = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, m, 0);
		R("F_ADD_SEALS WRITE with shared map", fcntl(m, F_ADD_SEALS, F_SEAL_WRITE));
		munmap(map, 4096);
		R("F_ADD_SEALS WRITE", fcntl(m, F_ADD_SEALS, F_SEAL_WRITE));
		R("write sealed", write(m, "x", 1));
		R("mmap shared write sealed", mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, m, 0) == MAP_FAILED ? -1 : 0);
		R("F_ADD_SEALS SEAL", fcntl(m, F_ADD_SEALS, F_SEAL_SEAL));
		R("F_ADD_SEALS after SEAL", fcntl(m, F_ADD_SEALS, F_SEAL_GROW));
		R("F_GET_SEALS", fcntl(m, F_GET_SEALS));
		int ro = open("/proc/self/fd/0", O_RDONLY); close(ro);
		snprintf(buf, sizeof buf, "/proc/self/fd/%d", m);
		ro = open(buf, O_RDONLY);
		R("F_ADD_SEALS on O_RDONLY", fcntl(ro, F_ADD_SEALS, F_SEAL_SEAL));
		close(ro); close(m);
		m = memfd_create("m", MFD_ALLOW_SEALING);
		R("F_ADD_SEALS FUTURE_WRITE", fcntl(m, F_ADD_SEALS, F_SEAL_FUTURE_WRITE));
		R("write FUTURE_WRITE", write(m, "x", 1));
		close(m);
		R("F_ADD_SEALS pipe", fcntl(p[0], F_ADD_SEALS, F_SEAL_SEAL));
		R("F_GET_SEALS pipe", fcntl(p[0], F_GET_SEALS));
	}

	{
		/* MFD_EXEC, MFD_NOEXEC_SEAL and F_SEAL_EXEC */
		struct stat st;
		int m = memfd_create("m", 0);
		fstat(m, &st);
		printf("memfd mode %o seals %d\n", st.st_mode & 07777, fcntl(m, F_GET_SEALS));
		close(m);
		m = memfd_create("m", 0x8);
		fstat(m, &st);
		printf("NOEXEC_SEAL mode %o seals %d\n", st.st_mode & 07777, fcntl(m, F_GET_SEALS));
		R("fchmod +x NOEXEC_SEAL", fchmod(m, 0755));
		R("F_ADD_SEALS NOEXEC_SEAL", fcntl(m, F_ADD_SEALS, F_SEAL_WRITE));
		close(m);
		m = memfd_create("m", 0x10);
		fstat(m, &st);
		printf("EXEC mode %o seals %d\n", st.st_mode & 07777, fcntl(m, F_GET_SEALS));
		close(m);
		m = memfd_create("m", MFD_ALLOW_SEALING);
		R("F_ADD_SEALS EXEC", fcntl(m, F_ADD_SEALS, 0x20));
		R("fchmod -x after SEAL_EXEC", fchmod(m, 0644));
		R("fchmod same x after SEAL_EXEC", fchmod(m, 0777));
		close(m);
	}
	{
		/* a running executable: ETXTBSY for writes and truncation */
		char exe[96];
		snprintf(exe, sizeof exe, "%s/exe", d);
		int out = open(exe, O_CREAT | O_WRONLY, 0755), src = open("/proc/self/exe", O_RDONLY);
		ssize_t n;
		while ((n = read(src, buf, sizeof buf)) > 0) write(out, buf, n);
		close(src); close(out);
		int ready[2];
		pipe(ready);
		pid_t c = fork();
		if (c == 0) {
			char wfd[16];
			snprintf(wfd, sizeof wfd, "%d", ready[1]);
			execl(exe, exe, "running", wfd, (char *)0);
			_exit(127);
		}
		close(ready[1]);
		read(ready[0], buf, 1);
		close(ready[0]);
		R("open running exe O_WRONLY", C(open(exe, O_WRONLY)));
		R("open running exe O_RDWR|O_TRUNC", C(open(exe, O_RDWR | O_TRUNC)));
		R("truncate running exe", truncate(exe, 0));
		R("open running exe O_RDONLY", C(open(exe, O_RDONLY)));
		kill(c, SIGKILL);
		waitpid(c, NULL, 0);
		R("truncate after exit", truncate(exe, 0));
		unlink(exe);
	}

	/* inotify */
	{
		R("inotify_init1 bad flags", inotify_init1(0x1));
		int in = inotify_init1(IN_NONBLOCK);
		R("add_watch bad fd", inotify_add_watch(99, d, IN_ALL_EVENTS));
		R("add_watch not inotify", inotify_add_watch(fd, d, IN_ALL_EVENTS));
		R("add_watch mask 0", inotify_add_watch(in, d, 0));
		R("add_watch mask 0 bad fd", inotify_add_watch(99, d, 0));
		R("add_watch bad mask bits", inotify_add_watch(in, d, 0x00010000) >= 0 ? 0 : -1);
		R("add_watch missing", inotify_add_watch(in, P("missing"), IN_ALL_EVENTS));
		R("add_watch bad path", inotify_add_watch(in, BAD, IN_ALL_EVENTS));
		R("add_watch ONLYDIR file", inotify_add_watch(in, P("file"), IN_ALL_EVENTS | IN_ONLYDIR));
		R("add_watch MASK_ADD|MASK_CREATE", inotify_add_watch(in, d, IN_MODIFY | IN_MASK_ADD | IN_MASK_CREATE));
		int w = inotify_add_watch(in, d, IN_MODIFY);
		R("add_watch ok", w > 0);
		R("add_watch MASK_CREATE existing", inotify_add_watch(in, d, IN_MODIFY | IN_MASK_CREATE));
		R("add_watch again", inotify_add_watch(in, d, IN_CREATE) == w);
		R("add_watch DONT_FOLLOW dangling", (symlink("nowhere", P("dl")), inotify_add_watch(in, P("dl"), IN_ALL_EVENTS | IN_DONT_FOLLOW) > 0));
		R("add_watch dangling", inotify_add_watch(in, P("dl"), IN_ALL_EVENTS));
		R("add_watch empty", inotify_add_watch(in, "", IN_ALL_EVENTS));
		R("add_watch O_PATH inotify", inotify_add_watch(opfd, d, IN_ALL_EVENTS));
		R("rm_watch bad wd", inotify_rm_watch(in, 9999));
		R("rm_watch negative wd", inotify_rm_watch(in, -1));
		R("rm_watch bad fd", inotify_rm_watch(99, w));
		R("rm_watch not inotify", inotify_rm_watch(fd, w));
		R("rm_watch ok", inotify_rm_watch(in, w));
		R("rm_watch again", inotify_rm_watch(in, w));
		close(open(P("made"), O_CREAT | O_WRONLY, 0644));
		inotify_add_watch(in, d, IN_CREATE);
		close(open(P("made2"), O_CREAT | O_WRONLY, 0644));
		R("read inotify small buf", read(in, buf, 4));
		R("read inotify bad buf", S(SYS_read, in, BAD, 64));
		R("read inotify", read(in, buf, sizeof buf) > 0);
		R("read inotify empty", read(in, buf, sizeof buf));
		R("write inotify", write(in, "x", 1));
		R("lseek inotify", lseek(in, 0, SEEK_SET));
		if (uid) {
			chmod(P("dir"), 0);
			R("add_watch no read permission", inotify_add_watch(in, P("dir"), IN_ALL_EVENTS));
			R("add_watch below no search", (chmod(P("dir"), 0600), inotify_add_watch(in, P("dir/x"), IN_ALL_EVENTS)));
			chmod(P("dir"), 0755);
		}
		close(in);
	}

	/* pipe, pipe2 */
	R("pipe bad pointer", S(SYS_pipe, BAD));
	R("pipe NULL", S(SYS_pipe, NULL));
	R("pipe2 bad flags", S(SYS_pipe2, q, 0x1));
	R("pipe2 bad flags O_RDWR", S(SYS_pipe2, q, O_RDWR));
	R("pipe2 O_NOTIFICATION_PIPE", S(SYS_pipe2, q, 0x80));
	R("pipe2 bad pointer", S(SYS_pipe2, BAD, 0));
	R("pipe2 bad pointer bad flags", S(SYS_pipe2, BAD, 0x1));
	{
		int r[2];
		R("pipe2 read-only pointer", S(SYS_pipe2, "ro", 0));
		struct rlimit rl, lo = {30, 30};
		getrlimit(RLIMIT_NOFILE, &rl);
		setrlimit(RLIMIT_NOFILE, &lo);
		int last = 0, n;
		while ((n = dup(0)) >= 0) last = n;
		close(last);
		R("pipe one slot free", pipe(r));
		R("pipe2 one slot free", pipe2(r, 0));
		R("pipe2 bad flags one slot free", pipe2(r, 0x1));
		R("pipe2 bad pointer one slot free", S(SYS_pipe2, BAD, 0));
		R("memfd takes the last slot", S(SYS_memfd_create, "m", 0));
		R("memfd bad name no slot free", S(SYS_memfd_create, BAD, 0));
		R("memfd bad flags no slot free", S(SYS_memfd_create, "m", 0x100));
		R("inotify_init1 no slot free", inotify_init1(0));
		R("inotify_init1 bad flags no slot free", inotify_init1(1));
		R("dup no slot free", dup(0));
		R("F_DUPFD_CLOEXEC no slot free", fcntl(0, F_DUPFD_CLOEXEC, 0));
		for (int i = 3; i < last; i++) if (i > 20) close(i);
		setrlimit(RLIMIT_NOFILE, &rl);
	}

	const char *files[] = {"file", "file2", "dl", "made", "made2", NULL};
	for (int i = 0; files[i]; i++) unlink(P(files[i]));
	rmdir(P("dir"));
	R("rmdir tmpdir", rmdir(d));
	return 0;
}
`

func TestErrorsFS3(t *testing.T) {
	t.Parallel()
	prog := compileC(t, "errorsfs3", errorsFS3C)
	diff(t, []string{prog})
	diffAsUser(t, prog)
}
