package tests

import "testing"

// errorsFSC: the ERRORS of the path calls (open, openat, creat, mkdir,
// rmdir, unlink, rename and RENAME_WHITEOUT, link, symlink, readlink,
// chmod, chown, utimes, access, truncate, mknod, chdir, getcwd, statfs,
// sync_file_range, fallocate, RLIMIT_FSIZE's EFBIG and SIGXFSZ for
// truncate and fallocate, calls in a removed directory), each case the
// errno and, where two apply, the one Linux checks first. Run as root and
// as uid 1000 (EACCES, EPERM); nothing outside its own directory is
// changed (cases that would succeed as root on the host's files run only
// as uid 1000).
// Linux: fs/namei.c, fs/open.c, fs/stat.c, fs/utimes.c, fs/sync.c
const errorsFSC = `#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/time.h>

#define R(what, expr) do { errno = 0; long _r = (long)(expr); \
	printf("%-40s = %ld %s\n", what, _r, _r < 0 ? strerror(errno) : ""); fflush(stdout); } while (0)
#define S(...) syscall(__VA_ARGS__)
#define BAD ((void *)8)
static long C(long fd) { if (fd >= 0) { close(fd); return 0; } return fd; }
#ifndef SYS_fchmodat2
#define SYS_fchmodat2 452
#endif

static char d[64];
static volatile int xfsz;
static void onxfsz(int s) { (void)s; xfsz++; }
static char *P(const char *rel) { static char b[8][PATH_MAX + 64]; static int i; i = (i + 1) % 8; snprintf(b[i], sizeof b[i], "%s/%s", d, rel); return b[i]; }



int main(void) {
	strcpy(d, "/dev/shm/errfs-XXXXXX");
	if (!mkdtemp(d)) { perror("mkdtemp"); return 1; }
	int uid = getuid();
	char longname[300], longpath[PATH_MAX + 16];
	memset(longname, 'n', 256); longname[256] = 0;
	memset(longpath, 'a', sizeof longpath - 1); longpath[sizeof longpath - 1] = 0;
	for (int i = 100; i < PATH_MAX + 10; i += 100) longpath[i] = '/';
	close(open(P("file"), O_CREAT | O_WRONLY, 0644));
	mkdir(P("dir"), 0755);
	mkdir(P("full"), 0755);
	close(open(P("full/x"), O_CREAT | O_WRONLY, 0644));
	symlink("file", P("sl"));
	symlink("nowhere", P("dangling"));
	symlink("loop", P("loop"));
	mkdir(P("ro"), 0555);
	mkdir(P("noexec"), 0644);
	close(open(P("nomode"), O_CREAT | O_WRONLY, 0));
	mkfifo(P("fifo"), 0644);
	int dirfd = open(d, O_RDONLY | O_DIRECTORY);
	int filefd = open(P("file"), O_RDONLY);
	printf("uid %d\n", uid);

	/* open, openat, creat */
	R("open missing", C(open(P("missing"), O_RDONLY)));
	R("open missing/x", C(open(P("missing/x"), O_RDONLY)));
	R("open empty", C(open("", O_RDONLY)));
	R("open file/x", C(open(P("file/x"), O_RDONLY)));
	R("open file/", C(open(P("file/"), O_RDONLY)));
	R("open file/ O_CREAT", C(open(P("file/"), O_RDONLY | O_CREAT, 0644)));
	R("open new/ O_CREAT", C(open(P("new/"), O_RDWR | O_CREAT, 0644)));
	R("open O_DIRECTORY file", C(open(P("file"), O_RDONLY | O_DIRECTORY)));
	R("open dir O_WRONLY", C(open(P("dir"), O_WRONLY)));
	R("open dir O_RDWR", C(open(P("dir"), O_RDWR)));
	R("open dir O_CREAT", C(open(P("dir"), O_RDONLY | O_CREAT, 0644)));
	R("open dir O_TRUNC", C(open(P("dir"), O_RDONLY | O_TRUNC)));
	R("open O_CREAT|O_EXCL exists", C(open(P("file"), O_RDWR | O_CREAT | O_EXCL, 0644)));
	R("open O_CREAT|O_EXCL dangling", C(open(P("dangling"), O_RDWR | O_CREAT | O_EXCL, 0644)));
	R("open O_CREAT|O_EXCL dir", C(open(P("dir"), O_RDWR | O_CREAT | O_EXCL, 0644)));
	R("open O_NOFOLLOW symlink", C(open(P("sl"), O_RDONLY | O_NOFOLLOW)));
	R("open O_NOFOLLOW|O_PATH symlink", open(P("sl"), O_PATH | O_NOFOLLOW) >= 0);
	R("open loop", C(open(P("loop"), O_RDONLY)));
	R("open loop/x", C(open(P("loop/x"), O_RDONLY)));
	R("open long name", C(open(P(longname), O_RDONLY)));
	R("open long name O_CREAT", C(open(P(longname), O_RDWR | O_CREAT, 0644)));
	R("open long path", C(open(longpath, O_RDONLY)));
	R("open NULL", C(S(SYS_open, NULL, O_RDONLY)));
	R("open bad pointer", C(S(SYS_open, BAD, O_RDONLY)));
	R("open O_TMPFILE O_RDONLY", C(open(d, O_TMPFILE | O_RDONLY, 0600)));
	R("open O_TMPFILE on file", C(open(P("file"), O_TMPFILE | O_RDWR, 0600)));
	R("open O_TMPFILE missing", C(open(P("missing"), O_TMPFILE | O_RDWR, 0600)));
	R("open O_CREAT|O_DIRECTORY", C(open(P("cd"), O_RDWR | O_CREAT | O_DIRECTORY, 0644)));
	R("open O_CREAT|O_DIRECTORY exists", C(open(P("dir"), O_RDONLY | O_CREAT | O_DIRECTORY, 0644)));
	R("open fifo O_WRONLY|O_NONBLOCK", C(open(P("fifo"), O_WRONLY | O_NONBLOCK)));
	R("open fifo O_RDONLY|O_NONBLOCK", open(P("fifo"), O_RDONLY | O_NONBLOCK) >= 0);
	if (uid) R("open O_NOATIME not owner", open("/etc/passwd", O_RDONLY | O_NOATIME) >= 0);
	R("open nomode", open(P("nomode"), O_RDONLY) >= 0);
	R("open nomode O_WRONLY", open(P("nomode"), O_WRONLY) >= 0);
	R("open noexec/x", C(open(P("noexec/x"), O_RDONLY)));
	R("open noexec/x O_CREAT", C(open(P("noexec/x"), O_RDWR | O_CREAT, 0644)));
	R("open ro/x O_CREAT", C(open(P("ro/x"), O_RDWR | O_CREAT, 0644)));
	if (uid) R("open /etc/passwd O_WRONLY", open("/etc/passwd", O_WRONLY) >= 0);
	R("openat bad dirfd", C(openat(99, "file", O_RDONLY)));
	R("openat -1 dirfd", C(openat(-1, "file", O_RDONLY)));
	R("openat bad dirfd abs path", openat(99, P("file"), O_RDONLY) >= 0);
	R("openat file dirfd", C(openat(filefd, "x", O_RDONLY)));
	R("openat file dirfd empty", C(openat(filefd, "", O_RDONLY)));
	R("openat dirfd rel", openat(dirfd, "file", O_RDONLY) >= 0);
	R("openat dirfd missing", C(openat(dirfd, "missing", O_RDONLY)));
	R("creat dir", C(creat(P("dir"), 0644)));
	R("creat missing/x", C(creat(P("missing/x"), 0644)));
	R("creat ro/x", C(creat(P("ro/x"), 0644)));
	R("open O_PATH|O_CREAT missing", C(open(P("pc"), O_PATH | O_CREAT, 0644)));
	R("open O_PATH|O_CREAT|O_DIRECTORY", C(open(d, O_PATH | O_CREAT | O_DIRECTORY, 0644)));
	R("open O_TMPFILE|O_CREAT", C(open(d, O_TMPFILE | O_CREAT | O_RDWR, 0644)));
	R("open O_TMPFILE O_RDONLY missing", C(open(P("missing"), O_TMPFILE | O_RDONLY, 0644)));
	{
		struct rlimit rl, lo = {6, 6};
		getrlimit(RLIMIT_NOFILE, &rl);
		setrlimit(RLIMIT_NOFILE, &lo);
		int last = 0, n;
		while ((n = open(P("file"), O_RDONLY)) >= 0) last = n;
		R("open past RLIMIT_NOFILE", C(open(P("file"), O_RDONLY)));
		R("open missing past RLIMIT_NOFILE", C(open(P("missing"), O_RDONLY)));
		for (int i = 6; i <= last; i++) close(i);
		for (int i = 3; i < 6; i++) if (i != dirfd && i != filefd) close(i);
		setrlimit(RLIMIT_NOFILE, &rl);
	}

	close(open(P("file"), O_CREAT | O_WRONLY, 0644));
	/* mkdir, mkdirat */
	R("mkdir exists file", mkdir(P("file"), 0755));
	R("mkdir exists dir", mkdir(P("dir"), 0755));
	R("mkdir dangling", mkdir(P("dangling"), 0755));
	R("mkdir missing/x", mkdir(P("missing/x"), 0755));
	R("mkdir file/x", mkdir(P("file/x"), 0755));
	R("mkdir ro/x", mkdir(P("ro/x"), 0755));
	R("mkdir noexec/x", mkdir(P("noexec/x"), 0755));
	R("mkdir long name", mkdir(P(longname), 0755));
	R("mkdir empty", mkdir("", 0755));
	R("mkdir bad pointer", S(SYS_mkdir, BAD, 0755));
	R("mkdir loop/x", mkdir(P("loop/x"), 0755));
	R("mkdir /", mkdir("/", 0755));
	R("mkdir dir/.", mkdir(P("dir/."), 0755));
	R("mkdirat bad dirfd", mkdirat(99, "x", 0755));
	R("mkdirat file dirfd", mkdirat(filefd, "x", 0755));
	R("mkdirat ok", mkdirat(dirfd, "made", 0755));
	R("mkdir trailing slash new", mkdir(P("made2/"), 0755));

	close(open(P("file"), O_CREAT | O_WRONLY, 0644));
	/* rmdir */
	R("rmdir non-empty", rmdir(P("full")));
	R("rmdir file", rmdir(P("file")));
	R("rmdir symlink to dir", rmdir(P("sl")));
	R("rmdir missing", rmdir(P("missing")));
	R("rmdir dir/.", rmdir(P("dir/.")));
	R("rmdir dir/..", rmdir(P("dir/..")));
	R("rmdir /", rmdir("/"));
	R("rmdir .", rmdir("."));
	R("rmdir empty", rmdir(""));
	R("rmdir bad pointer", S(SYS_rmdir, BAD));
	R("rmdir ro/.. child", rmdir(P("made")));
	R("rmdir made2", rmdir(P("made2")));
	mkdir(P("dir/sub"), 0755); chmod(P("dir"), 0555);
	R("rmdir in read-only dir", rmdir(P("dir/sub")));
	chmod(P("dir"), 0755); rmdir(P("dir/sub"));

	close(open(P("file"), O_CREAT | O_WRONLY, 0644));
	/* unlink, unlinkat */
	R("unlink dir", unlink(P("dir")));
	R("unlink missing", unlink(P("missing")));
	R("unlink file/x", unlink(P("file/x")));
	R("unlink file/", unlink(P("file/")));
	R("unlink dir/", unlink(P("dir/")));
	R("unlink /", unlink("/"));
	R("unlink .", unlink("."));
	R("unlink empty", unlink(""));
	R("unlink bad pointer", S(SYS_unlink, BAD));
	R("unlinkat bad flags", unlinkat(dirfd, "file", 1));
	R("unlinkat REMOVEDIR file", unlinkat(dirfd, "file", AT_REMOVEDIR));
	R("unlinkat REMOVEDIR non-empty", unlinkat(dirfd, "full", AT_REMOVEDIR));
	R("unlinkat bad dirfd", unlinkat(99, "file", 0));
	R("unlink full/x ro", (chmod(P("full"), 0555), unlink(P("full/x"))));
	chmod(P("full"), 0755);

	close(open(P("file"), O_CREAT | O_WRONLY, 0644));
	/* rename, renameat, renameat2 */
	R("rename missing", rename(P("missing"), P("x")));
	R("rename file over dir", rename(P("file"), P("dir")));
	R("rename dir over file", rename(P("dir"), P("file")));
	R("rename dir over non-empty", rename(P("dir"), P("full")));
	R("rename dir into itself", rename(P("dir"), P("dir/sub")));
	R("rename . ", rename(".", P("x")));
	R("rename to .", rename(P("file"), P("dir/.")));
	R("rename /", rename("/", P("x")));
	R("rename to missing/x", rename(P("file"), P("missing/x")));
	R("rename file to file/x", rename(P("file"), P("file/x")));
	R("rename file to self", rename(P("file"), P("file")));
	close(open(P("mv1"), O_CREAT | O_WRONLY, 0644));
	R("rename into ro", rename(P("mv1"), P("ro/x")));
	R("rename empty", rename("", P("x")));
	R("rename bad pointer", S(SYS_rename, BAD, P("x")));
	R("rename long name", rename(P("file"), P(longname)));
	R("renameat bad dirfd", renameat(99, "file", dirfd, "x"));
	R("renameat2 bad flags", S(SYS_renameat2, dirfd, "file", dirfd, "x", 8));
	R("renameat2 NOREPLACE|EXCHANGE", S(SYS_renameat2, dirfd, "file", dirfd, "x", RENAME_NOREPLACE | RENAME_EXCHANGE));
	R("renameat2 NOREPLACE exists", S(SYS_renameat2, dirfd, "file", dirfd, "dir", RENAME_NOREPLACE));
	R("renameat2 EXCHANGE missing", S(SYS_renameat2, dirfd, "file", dirfd, "missing", RENAME_EXCHANGE));
	R("renameat2 EXCHANGE file dir", S(SYS_renameat2, dirfd, "file", dirfd, "dir", RENAME_EXCHANGE));
	R("renameat2 EXCHANGE back", S(SYS_renameat2, dirfd, "file", dirfd, "dir", RENAME_EXCHANGE));
	close(open(P("wsrc"), O_CREAT | O_WRONLY, 0644));
	R("renameat2 WHITEOUT|EXCHANGE", S(SYS_renameat2, dirfd, "wsrc", dirfd, "file", RENAME_WHITEOUT | RENAME_EXCHANGE));
	R("renameat2 WHITEOUT missing", S(SYS_renameat2, dirfd, "missing", dirfd, "wo", RENAME_WHITEOUT));
	R("renameat2 WHITEOUT", S(SYS_renameat2, dirfd, "wsrc", dirfd, "wo", RENAME_WHITEOUT));
	{
		struct stat ws;
		R("lstat whiteout", lstat(P("wsrc"), &ws));
		printf("  whiteout chr %d rdev %lu mode %o\n", S_ISCHR(ws.st_mode), (unsigned long)ws.st_rdev, ws.st_mode & 07777);
		R("open whiteout", C(open(P("wsrc"), O_RDONLY)));
		R("unlink whiteout", unlink(P("wsrc")));
	}

	close(open(P("file"), O_CREAT | O_WRONLY, 0644));
	/* link, linkat */
	R("link exists", link(P("file"), P("sl")));
	R("link missing", link(P("missing"), P("x")));
	R("link dir", link(P("dir"), P("x")));
	R("link to missing/x", link(P("file"), P("missing/x")));
	R("link into ro", link(P("file"), P("ro/x")));
	R("link empty", link("", P("x")));
	R("linkat bad flags", linkat(dirfd, "file", dirfd, "x", 1));
	R("linkat EMPTY_PATH dirfd dir", linkat(dirfd, "", dirfd, "x", AT_EMPTY_PATH));
	R("linkat bad dirfd", linkat(99, "file", dirfd, "x", 0));
	if (uid) R("link not owner /etc/passwd", link("/etc/passwd", P("pw")));

	close(open(P("file"), O_CREAT | O_WRONLY, 0644));
	/* symlink, symlinkat */
	R("symlink exists", symlink("x", P("file")));
	R("symlink empty target", symlink("", P("x")));
	R("symlink missing/x", symlink("x", P("missing/x")));
	R("symlink into ro", symlink("x", P("ro/x")));
	R("symlink long target", symlink(longpath, P("x")));
	R("symlink bad target", S(SYS_symlink, BAD, P("x")));
	R("symlinkat bad dirfd", symlinkat("x", 99, "x"));

	close(open(P("file"), O_CREAT | O_WRONLY, 0644));
	/* readlink, readlinkat */
	char buf[256];
	R("readlink file", readlink(P("file"), buf, sizeof buf));
	R("readlink missing", readlink(P("missing"), buf, sizeof buf));
	R("readlink bufsiz 0", S(SYS_readlink, P("sl"), buf, 0));
	R("readlink bufsiz -1", S(SYS_readlink, P("sl"), buf, -1));
	R("readlink bufsiz 0 missing", S(SYS_readlink, P("missing"), buf, 0));
	R("readlink bufsiz 0 file", S(SYS_readlink, P("file"), buf, 0));
	R("readlink bad buf", S(SYS_readlink, P("sl"), BAD, 64));
	R("readlink bad path", S(SYS_readlink, BAD, buf, 64));
	R("readlink bad path bufsiz 0", S(SYS_readlink, BAD, buf, 0));
	R("readlink file/x", readlink(P("file/x"), buf, sizeof buf));
	R("readlink empty", readlink("", buf, sizeof buf));
	R("readlink short buf", readlink(P("sl"), buf, 2));
	R("readlink loop/x", readlink(P("loop/x"), buf, sizeof buf));
	R("readlinkat bad dirfd", readlinkat(99, "sl", buf, sizeof buf));
	R("readlinkat dirfd empty", readlinkat(dirfd, "", buf, sizeof buf));
	{
		int sfd = open(P("sl"), O_PATH | O_NOFOLLOW);
		R("readlinkat O_PATH symlink empty", readlinkat(sfd, "", buf, sizeof buf));
		close(sfd);
	}

	close(open(P("file"), O_CREAT | O_WRONLY, 0644));
	/* chmod, fchmod, fchmodat */
	R("chmod missing", chmod(P("missing"), 0644));
	{ struct stat rs; stat("/", &rs); R("chmod / to its mode", chmod("/", rs.st_mode & 07777)); }
	R("chmod file/x", chmod(P("file/x"), 0644));
	R("chmod bad pointer", S(SYS_chmod, BAD, 0644));
	R("fchmod bad fd", fchmod(99, 0644));
	{
		int op = open(P("file"), O_PATH);
		R("fchmod O_PATH", fchmod(op, 0644));
		close(op);
	}
	R("fchmodat bad flags", S(SYS_fchmodat2, dirfd, "file", 0644, 1));
	R("fchmodat2 NOFOLLOW symlink", S(SYS_fchmodat2, dirfd, "sl", 0644, AT_SYMLINK_NOFOLLOW));
	R("fchmodat2 NOFOLLOW file", S(SYS_fchmodat2, dirfd, "file", 0644, AT_SYMLINK_NOFOLLOW));
	R("fchmodat bad dirfd", S(SYS_fchmodat, 99, "file", 0644));
	
	close(open(P("file"), O_CREAT | O_WRONLY, 0644));
	/* chown, fchown, lchown, fchownat */
	R("chown missing", chown(P("missing"), 0, 0));
	R("chown to root", chown(P("file"), 0, 0));
	R("chown to self", chown(P("file"), uid, getgid()));
	R("chown -1 -1", chown(P("file"), -1, -1));
	R("chown /", chown("/", uid, -1));
	R("lchown dangling", lchown(P("dangling"), uid, -1));
	R("chown dangling", chown(P("dangling"), uid, -1));
	R("fchown bad fd", fchown(99, 0, 0));
	R("fchownat bad flags", fchownat(dirfd, "file", 0, 0, 1));
	R("fchownat empty no flag", fchownat(dirfd, "", -1, -1, 0));
	R("fchownat EMPTY_PATH", fchownat(filefd, "", -1, -1, AT_EMPTY_PATH));
	R("chown group other", chown(P("file"), -1, 4));

	close(open(P("file"), O_CREAT | O_WRONLY, 0644));
	/* utime, utimes, utimensat, futimesat */
	{
		struct timespec ts[2] = {{1, 0}, {2, 0}};
		struct timeval tv[2] = {{1, 0}, {2, 0}};
		R("utimensat missing", utimensat(dirfd, "missing", ts, 0));
		R("utimensat bad flags", utimensat(dirfd, "file", ts, 1));
		ts[0].tv_nsec = 1000000000;
		R("utimensat bad nsec", utimensat(dirfd, "file", ts, 0));
		ts[0].tv_nsec = -1;
		R("utimensat negative nsec", utimensat(dirfd, "file", ts, 0));
		ts[0].tv_nsec = UTIME_OMIT; ts[1].tv_nsec = UTIME_OMIT;
		R("utimensat OMIT OMIT", utimensat(dirfd, "file", ts, 0));
		ts[0].tv_nsec = 0; ts[1].tv_nsec = 0;
		if (uid) R("utimensat times /", utimensat(AT_FDCWD, "/", ts, 0));
		if (uid) R("utimensat NULL /", utimensat(AT_FDCWD, "/", NULL, 0));
		if (uid) R("utimensat NOW NOW /", utimensat(AT_FDCWD, "/", (struct timespec[]){{0, UTIME_NOW}, {0, UTIME_NOW}}, 0));
		R("utimensat NULL path NOFOLLOW", S(SYS_utimensat, filefd, NULL, NULL, AT_SYMLINK_NOFOLLOW));
		R("utimensat NULL path bad fd", S(SYS_utimensat, 99, NULL, NULL, 0));
		R("utimensat bad times ptr", S(SYS_utimensat, dirfd, "file", BAD, 0));
		R("utimensat bad dirfd", utimensat(99, "file", ts, 0));
		R("utimes missing", utimes(P("missing"), tv));
		tv[0].tv_usec = 1000000;
		R("utimes bad usec", utimes(P("file"), tv));
		tv[0].tv_usec = 0;
		if (uid) R("utimes /", utimes("/", tv));
		R("utime missing", S(SYS_utime, P("missing"), NULL));
		if (uid) R("utime / NULL", S(SYS_utime, "/", NULL));
		R("futimesat bad dirfd", S(SYS_futimesat, 99, "file", NULL));
	}

	close(open(P("file"), O_CREAT | O_WRONLY, 0644));
	/* access, faccessat, faccessat2 */
	R("access bad mode", access(P("file"), 8));
	R("access bad mode missing", access(P("missing"), 8));
	R("access missing", access(P("missing"), F_OK));
	R("access file/x", access(P("file/x"), F_OK));
	R("access nomode R_OK", access(P("nomode"), R_OK));
	R("access nomode X_OK", access(P("nomode"), X_OK));
	R("access file X_OK", access(P("file"), X_OK));
	R("access dir X_OK", access(P("dir"), X_OK));
	R("access noexec/x", access(P("noexec/x"), F_OK));
	R("access ro W_OK", access(P("ro"), W_OK));
	R("access bad pointer", S(SYS_access, BAD, F_OK));
	R("faccessat bad dirfd", S(SYS_faccessat, 99, "file", F_OK));
	R("faccessat2 bad flags", S(SYS_faccessat2, dirfd, "file", F_OK, 1));
	R("faccessat2 EACCESS nomode", S(SYS_faccessat2, dirfd, "nomode", R_OK, AT_EACCESS));
	R("faccessat2 NOFOLLOW dangling", S(SYS_faccessat2, dirfd, "dangling", F_OK, AT_SYMLINK_NOFOLLOW));
	R("faccessat2 dangling", S(SYS_faccessat2, dirfd, "dangling", F_OK, 0));
	R("faccessat2 EMPTY_PATH", S(SYS_faccessat2, filefd, "", R_OK, AT_EMPTY_PATH));
	R("faccessat2 empty", S(SYS_faccessat2, filefd, "", R_OK, 0));

	close(open(P("file"), O_CREAT | O_WRONLY, 0644));
	/* truncate, ftruncate */
	R("truncate dir", truncate(P("dir"), 0));
	R("truncate negative", truncate(P("file"), -1));
	R("truncate missing", truncate(P("missing"), 0));
	R("truncate missing negative", truncate(P("missing"), -1));
	R("truncate nomode", truncate(P("nomode"), 0));
	R("truncate fifo", truncate(P("fifo"), 0));
	if (uid) R("truncate /etc/passwd", truncate("/etc/passwd", 0));
	R("truncate bad pointer", S(SYS_truncate, BAD, 0));
	R("ftruncate bad fd", ftruncate(99, 0));
	R("ftruncate bad fd negative", ftruncate(99, -1));
	R("ftruncate O_RDONLY", ftruncate(filefd, 0));
	R("ftruncate dir", ftruncate(dirfd, 0));
	{
		int pp[2]; pipe(pp);
		R("ftruncate pipe", ftruncate(pp[1], 0));
		close(pp[0]); close(pp[1]);
		int w = open(P("file"), O_WRONLY);
		R("ftruncate negative", ftruncate(w, -1));
		R("ftruncate 10", ftruncate(w, 10));
		close(w);
	}

	close(open(P("file"), O_CREAT | O_WRONLY, 0644));
	/* mknod, mknodat */
	R("mknod exists", mknod(P("file"), S_IFIFO | 0644, 0));
	R("mknod dir type", mknod(P("nd"), S_IFDIR | 0755, 0));
	R("mknod bad type", mknod(P("nd"), 0170000 | 0644, 0));
	R("mknod missing/x", mknod(P("missing/x"), S_IFIFO | 0644, 0));
	R("mknod ro/x", mknod(P("ro/x"), S_IFIFO | 0644, 0));
	R("mknod chr null", mknod(P("null"), S_IFCHR | 0644, makedev(1, 3)));
	R("mknod sock", mknod(P("sock"), S_IFSOCK | 0644, 0));
	R("mknod reg", mknod(P("reg"), 0644, 0));
	R("mknodat bad dirfd", mknodat(99, "x", S_IFIFO | 0644, 0));

	close(open(P("file"), O_CREAT | O_WRONLY, 0644));
	/* chdir, fchdir, getcwd */
	R("chdir missing", chdir(P("missing")));
	R("chdir file", chdir(P("file")));
	R("chdir noexec", chdir(P("noexec")));
	R("chdir empty", chdir(""));
	R("chdir bad pointer", S(SYS_chdir, BAD));
	R("chdir loop", chdir(P("loop")));
	R("fchdir bad fd", fchdir(99));
	R("fchdir file", fchdir(filefd));
	R("getcwd size 0", S(SYS_getcwd, buf, 0));
	R("getcwd size 1", S(SYS_getcwd, buf, 1));
	R("getcwd bad buf", S(SYS_getcwd, BAD, 64));
	mkdir(P("gone"), 0755);
	chdir(P("gone"));
	rmdir(P("gone"));
	R("getcwd removed", S(SYS_getcwd, buf, sizeof buf));
	R("chdir .. from removed", chdir(".."));
	chdir("/");

	close(open(P("file"), O_CREAT | O_WRONLY, 0644));
	/* statfs, fstatfs */
	{
		char sb[256];
		R("statfs missing", S(SYS_statfs, P("missing"), sb));
		R("statfs file/x", S(SYS_statfs, P("file/x"), sb));
		R("statfs bad buf", S(SYS_statfs, P("file"), BAD));
		R("statfs bad path", S(SYS_statfs, BAD, sb));
		R("fstatfs bad fd", S(SYS_fstatfs, 99, sb));
		R("fstatfs bad buf", S(SYS_fstatfs, filefd, BAD));
	}

	close(open(P("file"), O_CREAT | O_WRONLY, 0644));
	/* fsync family, sync_file_range, fallocate, syncfs */
	{
		int w = open(P("file"), O_RDWR);
		int pp[2]; pipe(pp);
		R("sync_file_range bad flags", sync_file_range(w, 0, 0, 8));
		R("sync_file_range negative", sync_file_range(w, -1, 0, 0));
		R("sync_file_range negative len", sync_file_range(w, 0, -1, 0));
		R("sync_file_range pipe", sync_file_range(pp[0], 0, 0, 0));
		R("sync_file_range bad fd", sync_file_range(99, 0, 0, 0));
		R("sync_file_range ok", sync_file_range(w, 0, 0, SYNC_FILE_RANGE_WRITE));
		R("fallocate bad fd", fallocate(99, 0, 0, 10));
		R("fallocate len 0", fallocate(w, 0, 0, 0));
		R("fallocate negative", fallocate(w, 0, -1, 10));
		R("fallocate O_RDONLY", fallocate(filefd, 0, 0, 10));
		R("fallocate pipe", fallocate(pp[1], 0, 0, 10));
		R("fallocate dir", fallocate(dirfd, 0, 0, 10));
		R("fallocate bad mode", fallocate(w, 0x100, 0, 10));
		R("fallocate PUNCH without KEEP", fallocate(w, FALLOC_FL_PUNCH_HOLE, 0, 10));
		R("fallocate COLLAPSE", fallocate(w, FALLOC_FL_COLLAPSE_RANGE, 0, 4096));
		R("fallocate huge", fallocate(w, 0, 0x7fffffffffffffffLL, 10));
		R("syncfs bad fd", syncfs(99));
		R("fsync bad fd", fsync(99));
		R("fdatasync bad fd", fdatasync(99));
		close(w); close(pp[0]); close(pp[1]);
	}


	/* more ELOOP, ENAMETOOLONG, ENOTDIR and ownership cases */
	close(open(P("file"), O_CREAT | O_WRONLY, 0644));
	R("truncate loop", truncate(P("loop"), 0));
	R("truncate long name", truncate(P(longname), 0));
	R("truncate long path", truncate(longpath, 0));
	R("truncate file/x", truncate(P("file/x"), 0));
	R("statfs loop", S(SYS_statfs, P("loop"), buf));
	R("statfs long path", S(SYS_statfs, longpath, buf));
	R("chdir long name", chdir(P(longname)));
	R("rename loop/x", rename(P("loop/x"), P("x")));
	R("rename to loop/x", rename(P("file"), P("loop/x")));
	R("rename long path", rename(longpath, P("x")));
	R("link loop", link(P("loop/x"), P("x")));
	R("link long name", link(P("file"), P(longname)));
	R("symlink file/x", symlink("x", P("file/x")));
	R("symlink long name", symlink("x", P(longname)));
	R("chmod loop", chmod(P("loop"), 0644));
	R("chmod long name", chmod(P(longname), 0644));
	R("chown loop", chown(P("loop"), -1, -1));
	R("lchown missing", lchown(P("missing"), -1, -1));
	R("lchown file/x", lchown(P("file/x"), -1, -1));
	R("lchown bad pointer", S(SYS_lchown, BAD, -1, -1));
	R("utimensat loop", utimensat(AT_FDCWD, P("loop"), NULL, 0));
	R("utimensat long name", utimensat(AT_FDCWD, P(longname), NULL, 0));
	R("access loop", access(P("loop"), F_OK));
	R("access long name", access(P(longname), F_OK));
	R("access long path", access(longpath, F_OK));
	R("unlink loop/x", unlink(P("loop/x")));
	R("unlink long name", unlink(P(longname)));
	R("rmdir loop/x", rmdir(P("loop/x")));
	R("rmdir long name", rmdir(P(longname)));
	R("mknod long name", mknod(P(longname), S_IFIFO | 0644, 0));
	R("mknod bad pointer", S(SYS_mknod, BAD, S_IFIFO | 0644, 0));
	if (uid) {
		int dn = open("/dev/null", O_RDONLY);
		R("fchmod not owner", fchmod(dn, 0666));
		R("fchown not owner", fchown(dn, uid, -1));
		R("lchown not owner", lchown("/dev/null", uid, -1));
		R("mknod chr as user", mknod(P("null"), S_IFCHR | 0644, makedev(1, 3)));
		R("utimensat times not owner", S(SYS_utimensat, dn, NULL, (struct timespec[]){{1, 0}, {2, 0}}, 0));
		close(dn);
	}
	{
		/* stdout may be a file past the limit: print after lifting it */
		struct rlimit rl, lo = {100, RLIM_INFINITY};
		long r[4]; int e[4];
		signal(SIGXFSZ, onxfsz);
		getrlimit(RLIMIT_FSIZE, &rl);
		setrlimit(RLIMIT_FSIZE, &lo);
		int w = open(P("file"), O_WRONLY);
		errno = 0; r[0] = truncate(P("file"), 1000); e[0] = errno;
		errno = 0; r[1] = ftruncate(w, 1000); e[1] = errno;
		errno = 0; r[2] = fallocate(w, 0, 0, 1000); e[2] = errno;
		errno = 0; r[3] = truncate(P("file"), 100); e[3] = errno;
		close(w);
		setrlimit(RLIMIT_FSIZE, &rl);
		signal(SIGXFSZ, SIG_DFL);
		const char *what[] = {"truncate past RLIMIT_FSIZE", "ftruncate past RLIMIT_FSIZE", "fallocate past RLIMIT_FSIZE", "truncate at RLIMIT_FSIZE"};
		for (int i = 0; i < 4; i++) R(what[i], (errno = e[i], r[i]));
		printf("  SIGXFSZ %d\n", xfsz);
	}

	{
		/* O_PATH descriptors: refused where Linux takes fdget, used where fdget_raw */
		int op = open(P("file"), O_PATH), dop = open(d, O_PATH);
		R("fchown O_PATH", fchown(op, -1, -1));
		R("syncfs O_PATH", syncfs(op));
		R("sync_file_range O_PATH", sync_file_range(op, 0, 0, 0));
		R("fstatfs O_PATH", S(SYS_fstatfs, op, buf));
		R("fallocate O_PATH", fallocate(op, 0, 0, 1));
		R("ftruncate O_PATH", ftruncate(op, 0));
		R("fsync O_PATH", fsync(op));
		R("fchdir O_PATH dir", fchdir(dop));
		R("fchdir O_PATH file", fchdir(op));
		R("mkdirat O_PATH dir", mkdirat(dop, "opd", 0755));
		R("unlinkat O_PATH dir", unlinkat(dop, "opd", AT_REMOVEDIR));
		R("fchownat O_PATH EMPTY_PATH", fchownat(op, "", -1, -1, AT_EMPTY_PATH));
		R("fchmodat2 O_PATH EMPTY_PATH", S(SYS_fchmodat2, op, "", 0644, AT_EMPTY_PATH));
		close(op); close(dop);
	}

	{
		/* a removed directory: nothing is created in it, it lists nothing */
		mkdir(P("gone2"), 0755);
		int g = open(P("gone2"), O_RDONLY | O_DIRECTORY);
		rmdir(P("gone2"));
		R("getdents64 removed dir", S(SYS_getdents64, g, buf, sizeof buf));
		R("openat O_CREAT in removed dir", C(openat(g, "x", O_CREAT | O_RDWR, 0644)));
		R("mkdirat in removed dir", mkdirat(g, "x", 0755));
		R("openat . in removed dir", C(openat(g, ".", O_RDONLY)));
		R("symlinkat in removed dir", symlinkat("t", g, "x"));
		R("mknodat in removed dir", mknodat(g, "x", S_IFIFO | 0644, 0));
		R("linkat into removed dir", linkat(dirfd, "file", g, "x", 0));
		R("renameat into removed dir", renameat(dirfd, "file", g, "x"));
		R("fchdir removed dir", fchdir(g));
		R("creat in removed cwd", C(creat("x", 0644)));
		R("mkdir in removed cwd", mkdir("y", 0755));
		R("stat . removed", S(SYS_newfstatat, AT_FDCWD, ".", buf, 0));
		chdir("/");
		close(g);
	}

	const char *files[] = {"file", "sl", "dangling", "loop", "full/x", "nomode", "fifo", "null", "sock", "reg",
		"x", "pw", "mv1", "ro/x", "noexec/x", "wo", "c", "dir", NULL};
	for (int i = 0; files[i]; i++) unlink(P(files[i]));
	const char *dirs[] = {"full", "dir", "ro", "noexec", "made", "made2", "x", NULL};
	for (int i = 0; dirs[i]; i++) rmdir(P(dirs[i]));
	R("rmdir tmpdir", rmdir(d));
	return 0;
}
`

func TestErrorsFS(t *testing.T) {
	t.Parallel()
	prog := compileC(t, "errorsfs", errorsFSC)
	diff(t, []string{prog})
	diffAsUser(t, prog)
}
