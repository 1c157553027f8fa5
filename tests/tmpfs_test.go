package tests

import (
	"path/filepath"
	"strings"
	"testing"
)

// tmpfsC exercises file creation, I/O, directories, renames, links,
// attributes and shared mappings inside a scratch directory under /tmp
// (argv[1] makes its name unique). It prints only what is the same on any
// Linux file system (no inode numbers, block counts, directory sizes or
// current times), and errno names for the failures.
const tmpfsC = `
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>
#include <utime.h>

static const char *en(int e) {
	switch (e) {
	case 0: return "OK";
	case EEXIST: return "EEXIST"; case ENOENT: return "ENOENT";
	case ENOTEMPTY: return "ENOTEMPTY"; case EISDIR: return "EISDIR";
	case ENOTDIR: return "ENOTDIR"; case EINVAL: return "EINVAL";
	case EBADF: return "EBADF"; case EPERM: return "EPERM";
	case EBUSY: return "EBUSY"; case ELOOP: return "ELOOP";
	case EACCES: return "EACCES"; case EROFS: return "EROFS";
	case EXDEV: return "EXDEV"; case EOPNOTSUPP: return "EOPNOTSUPP";
	default: { static char b[32]; snprintf(b, sizeof b, "errno %d", e); return b; }
	}
}
#define R(what, call) do { errno = 0; long r_ = (long)(call); \
	printf("%-34s %s\n", what, r_ < 0 ? en(errno) : "OK"); } while (0)

static char dir[256];
static char *P(const char *name) {
	static char b[4][512]; static int i;
	i = (i + 1) % 4;
	snprintf(b[i], sizeof b[i], "%s/%s", dir, name);
	return b[i];
}

static void show(const char *name) {
	struct stat st;
	if (lstat(P(name), &st) < 0) { printf("stat %s: %s\n", name, en(errno)); return; }
	char t = S_ISDIR(st.st_mode) ? 'd' : S_ISLNK(st.st_mode) ? 'l' : S_ISREG(st.st_mode) ? '-' : '?';
	printf("stat %s: %c%04o nlink=%lu", name, t, st.st_mode & 07777, (unsigned long)st.st_nlink);
	if (!S_ISDIR(st.st_mode)) printf(" size=%ld", (long)st.st_size);
	printf(" mine=%d\n", st.st_uid == getuid() && st.st_gid == getgid());
}

static void cat(const char *name) {
	char b[256]; int fd = open(P(name), O_RDONLY);
	if (fd < 0) { printf("cat %s: %s\n", name, en(errno)); return; }
	int n = read(fd, b, sizeof b - 1); close(fd);
	printf("cat %s: %d [", name, n);
	for (int i = 0; i < n; i++) putchar(b[i] ? b[i] : '0');
	printf("]\n");
}

static void put(const char *name, const char *s, int flags) {
	int fd = open(P(name), O_WRONLY | O_CREAT | flags, 0644);
	if (fd < 0) { printf("put %s: %s\n", name, en(errno)); return; }
	write(fd, s, strlen(s)); close(fd);
}

static int cmp(const void *a, const void *b) { return strcmp(*(char **)a, *(char **)b); }
static void list(const char *name) {
	DIR *d = opendir(P(name)); char *n[64]; int k = 0; struct dirent *e;
	if (!d) { printf("list %s: %s\n", name, en(errno)); return; }
	while ((e = readdir(d)) && k < 64) n[k++] = strdup(e->d_name);
	closedir(d);
	qsort(n, k, sizeof n[0], cmp);
	printf("list %s:", name);
	for (int i = 0; i < k; i++) { printf(" %s", n[i]); free(n[i]); }
	printf("\n");
}

static int rmone(const char *p, const struct stat *s, int f, struct FTW *w) { return remove(p); }

int main(int argc, char **argv) {
	if (argc != 2) return 2;
	umask(022);
	snprintf(dir, sizeof dir, "/tmp/gbtmpfs-%s", argv[1]);
	nftw(dir, rmone, 16, FTW_DEPTH | FTW_PHYS);
	R("mkdir scratch", mkdir(dir, 0755));
	R("mkdir scratch again", mkdir(dir, 0755));

	/* create, write, read back; O_EXCL; O_APPEND; O_TRUNC */
	put("f", "hello", 0); cat("f"); show("f");
	R("open O_EXCL existing", open(P("f"), O_CREAT | O_EXCL | O_WRONLY, 0644));
	R("open missing", open(P("nope"), O_RDONLY));
	R("open f/x", open(P("f/x"), O_RDONLY));
	R("open dir O_WRONLY", open(dir, O_WRONLY));
	R("open dir O_CREAT", open(dir, O_CREAT | O_RDONLY, 0644));
	put("f", " world", O_APPEND); cat("f");
	int fd = open(P("f"), O_WRONLY | O_APPEND);
	lseek(fd, 0, SEEK_SET); write(fd, "!", 1);
	printf("append pos %ld\n", (long)lseek(fd, 0, SEEK_CUR)); close(fd);
	cat("f");
	put("f", "new", O_TRUNC); cat("f"); show("f");

	/* ftruncate grow and shrink, lseek SEEK_END, pread/pwrite */
	fd = open(P("g"), O_RDWR | O_CREAT, 0600);
	write(fd, "abcdef", 6);
	R("ftruncate 10", ftruncate(fd, 10));
	printf("SEEK_END %ld\n", (long)lseek(fd, 0, SEEK_END));
	cat("g");
	R("ftruncate 3", ftruncate(fd, 3));
	R("ftruncate 8", ftruncate(fd, 8)); cat("g");
	R("ftruncate -1", ftruncate(fd, -1));
	pwrite(fd, "XY", 2, 6000); show("g");
	char big[8]; printf("pread hole %ld ", (long)pread(fd, big, 4, 4096));
	printf("%d%d%d%d\n", big[0], big[1], big[2], big[3]);
	R("truncate path 2", truncate(P("g"), 2)); cat("g");
	R("fallocate 0..9000", fallocate(fd, 0, 0, 9000)); show("g");
	R("fallocate bad mode", fallocate(fd, 0x100, 0, 10));
	close(fd);
	fd = open(P("g"), O_RDONLY);
	R("ftruncate O_RDONLY", ftruncate(fd, 0));
	close(fd);

	/* directories */
	R("mkdir d", mkdir(P("d"), 0750));
	R("mkdir d again", mkdir(P("d"), 0750));
	R("mkdir d/e/f", mkdir(P("d/e/f"), 0700));
	R("mkdir d/e", mkdir(P("d/e"), 0700));
	R("mkdir f/x", mkdir(P("f/x"), 0700));
	show("d"); show("d/e");
	put("d/e/inner", "in", 0);
	R("rmdir d (not empty)", rmdir(P("d")));
	R("rmdir f (file)", rmdir(P("f")));
	R("unlink d (dir)", unlink(P("d")));
	R("rmdir d/.", rmdir(P("d/.")));
	R("unlink missing", unlink(P("missing")));
	R("unlink f/", unlink(P("f/")));

	/* renames */
	put("r1", "one", 0); put("r2", "two", 0);
	R("rename r1 -> r2", rename(P("r1"), P("r2")));
	cat("r1"); cat("r2");
	R("rename r2 -> d (file over dir)", rename(P("r2"), P("d")));
	R("rename d -> r2 (dir over file)", rename(P("d"), P("r2")));
	R("rename d -> d/e/x (into itself)", rename(P("d"), P("d/e/x")));
	R("mkdir empty", mkdir(P("empty"), 0755));
	R("rename empty -> d (non-empty)", rename(P("empty"), P("d")));
	R("rename d -> empty", rename(P("d"), P("empty")));
	show("empty"); cat("empty/e/inner");
	R("rename empty -> d2", rename(P("empty"), P("d2")));
	R("rename missing", rename(P("missing"), P("x")));
	R("renameat2 NOREPLACE", syscall(SYS_renameat2, AT_FDCWD, P("r2"), AT_FDCWD, P("f"), RENAME_NOREPLACE));
	R("renameat2 EXCHANGE", syscall(SYS_renameat2, AT_FDCWD, P("r2"), AT_FDCWD, P("f"), RENAME_EXCHANGE));
	cat("f"); cat("r2");
	R("renameat2 bad flags", syscall(SYS_renameat2, AT_FDCWD, P("r2"), AT_FDCWD, P("f"), 3));
	list(".");

	/* an open file survives its unlink */
	put("gone", "still here", 0);
	fd = open(P("gone"), O_RDWR);
	R("unlink gone", unlink(P("gone")));
	struct stat st; fstat(fd, &st);
	char b[64] = {0}; pread(fd, b, sizeof b - 1, 0);
	printf("after unlink: nlink=%lu read=%s\n", (unsigned long)st.st_nlink, b);
	R("linkat AT_EMPTY_PATH unlinked", linkat(fd, "", AT_FDCWD, P("back"), AT_EMPTY_PATH));
	close(fd);
	show("gone");

	/* symlinks and hard links */
	R("symlink", symlink("r2", P("sl")));
	R("symlink exists", symlink("x", P("sl")));
	char t[64] = {0}; printf("readlink %ld %s\n", (long)readlink(P("sl"), t, sizeof t), t);
	show("sl"); cat("sl");
	R("symlink dangling", symlink("nowhere", P("dl")));
	R("open dangling", open(P("dl"), O_RDONLY));
	R("open O_NOFOLLOW", open(P("sl"), O_RDONLY | O_NOFOLLOW));
	R("symlink to be made", symlink("made", P("dl2")));
	R("open O_CREAT|O_EXCL dangling", open(P("dl2"), O_CREAT | O_EXCL | O_WRONLY, 0600));
	fd = open(P("dl2"), O_CREAT | O_WRONLY, 0600);
	printf("open O_CREAT dangling %s\n", fd < 0 ? en(errno) : "OK");
	R("write through link", write(fd, "made", 4)); close(fd);
	cat("made"); R("unlink dl2", unlink(P("dl2"))); R("unlink made", unlink(P("made")));
	R("link r2 h", link(P("r2"), P("h")));
	show("r2"); show("h");
	R("link dir", link(P("d2"), P("hd")));
	R("link onto existing", link(P("r2"), P("f")));
	R("rename r2 -> h (same inode)", rename(P("r2"), P("h")));
	show("r2");
	R("unlink h", unlink(P("h"))); show("r2");
	R("unlink sl", unlink(P("sl"))); cat("r2");

	/* modes, owners, times */
	R("chmod 4751", chmod(P("r2"), 04751)); show("r2");
	R("chmod 1777 dir", chmod(P("d2"), 01777)); show("d2");
	fd = open(P("r2"), O_RDONLY);
	R("fchmod 600", fchmod(fd, 0600)); close(fd); show("r2");
	R("chown self", chown(P("r2"), getuid(), getgid())); show("r2");
	R("chmod 6755", chmod(P("r2"), 06755));
	R("chown -1 -1 drops setuid/setgid", chown(P("r2"), -1, -1)); show("r2");
	R("chmod 2745", chmod(P("r2"), 02745));
	R("chown keeps setgid without g+x", chown(P("r2"), 0, -1)); show("r2");
	R("chmod 600", chmod(P("r2"), 0600));
	R("lchown -1 -1", lchown(P("dl"), -1, -1));
	struct timespec ts[2] = {{1000000000, 5}, {1234567890, 123456789}};
	R("utimensat", utimensat(AT_FDCWD, P("r2"), ts, 0));
	stat(P("r2"), &st);
	printf("times %ld.%ld %ld.%ld\n", (long)st.st_atim.tv_sec, st.st_atim.tv_nsec,
		(long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
	ts[0].tv_nsec = UTIME_OMIT; ts[1].tv_sec = 42; ts[1].tv_nsec = 0;
	R("utimensat OMIT", utimensat(AT_FDCWD, P("r2"), ts, 0));
	stat(P("r2"), &st);
	printf("times %ld %ld\n", (long)st.st_atim.tv_sec, (long)st.st_mtim.tv_sec);
	ts[1].tv_nsec = 1000000000;
	R("utimensat bad nsec", utimensat(AT_FDCWD, P("r2"), ts, 0));
	R("utimensat symlink nofollow", utimensat(AT_FDCWD, P("dl"), NULL, AT_SYMLINK_NOFOLLOW));
	struct timeval tv[2] = {{5, 6}, {7, 8}};
	R("utimes", utimes(P("r2"), tv));
	stat(P("r2"), &st);
	printf("times %ld.%ld %ld.%ld\n", (long)st.st_atim.tv_sec, st.st_atim.tv_nsec,
		(long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
	struct utimbuf ub = {11, 12};
	R("utime", utime(P("r2"), &ub));
	stat(P("r2"), &st);
	printf("times %ld.%ld %ld.%ld\n", (long)st.st_atim.tv_sec, st.st_atim.tv_nsec,
		(long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
	fd = open(P("r2"), O_RDONLY);
	R("fsync", fsync(fd)); R("fdatasync", fdatasync(fd)); close(fd);
	int pp[2]; pipe(pp);
	R("fsync pipe", fsync(pp[0])); close(pp[0]); close(pp[1]);
	R("fsync closed", fsync(pp[0]));
	R("mknod regular", mknod(P("node"), S_IFREG | 0640, 0)); show("node");
	R("mknod dir", mknod(P("node2"), S_IFDIR | 0640, 0));

	/* shared mappings see read and write, private ones do not write back */
	fd = open(P("m"), O_RDWR | O_CREAT, 0644);
	ftruncate(fd, 8192);
	char *p = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) { printf("mmap: %s\n", en(errno)); return 1; }
	memcpy(p + 4096, "via mapping", 11);
	memset(b, 0, sizeof b); pread(fd, b, 11, 4096);
	printf("read after map write: %s\n", b);
	pwrite(fd, "via write", 9, 0);
	printf("map after write: %.9s\n", p);
	if (fork() == 0) { memcpy(p + 100, "child", 5); _exit(0); }
	wait(NULL);
	memset(b, 0, sizeof b); pread(fd, b, 5, 100);
	printf("child's write: %s\n", b);
	char *q = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	memcpy(q, "PRIVATE", 7);
	memset(b, 0, sizeof b); pread(fd, b, 9, 0);
	printf("private write kept out: %s / %.7s\n", b, q);
	munmap(q, 4096);
	close(fd);
	R("unlink mapped", unlink(P("m")));
	printf("mapping after unlink: %.9s %.11s\n", p, p + 4096);
	munmap(p, 8192);

	/* a child writes, the parent reads */
	if (fork() == 0) { put("fromchild", "child data", 0); _exit(0); }
	wait(NULL);
	cat("fromchild");
	list(".");
	list("d2");

	R("rmdir scratch (not empty)", rmdir(dir));
	nftw(dir, rmone, 16, FTW_DEPTH | FTW_PHYS);
	R("stat after cleanup", access(dir, F_OK));
	return 0;
}
`

// uniqueName is a per-test name for scratch files in /tmp, so that native
// runs of parallel tests (and of other checkouts) never collide.
func uniqueName(t *testing.T) string {
	return "gb" + strings.ReplaceAll(filepath.Base(t.TempDir()), "-", "")
}

// TestTmpfs: the file operations of tmpfsC behave the same under glassbox
// (in its tmpfs at /tmp) as natively (on the host's /tmp).
func TestTmpfs(t *testing.T) {
	t.Parallel()
	prog := compileC(t, "tmpfs", tmpfsC)
	native, _ := diff(t, []string{prog, uniqueName(t)})
	for _, want := range []string{"cat f: 3 [new]", "after unlink: nlink=0 read=still here",
		"read after map write: via mapping", "child's write: child", "stat after cleanup  ", "ENOENT"} {
		if !strings.Contains(native.Stdout, want) {
			t.Errorf("native output lacks %q:\n%s", want, native.Stdout)
		}
	}
}

// TestTmpfsShell: shell redirections, rm and tac's temporary files.
func TestTmpfsShell(t *testing.T) {
	t.Parallel()
	f := "/tmp/" + uniqueName(t)
	diff(t, []string{"/bin/sh", "-c", "echo hi > " + f + " && cat " + f + " && rm " + f + " && ls " + f + " 2>/dev/null; echo $?"})
	diff(t, []string{"/bin/sh", "-c", "printf '1\\n2\\n3\\n' | tac"})
	diff(t, []string{"/bin/sh", "-c", "seq 1 20000 | tac | head -3"})
	diff(t, []string{"/bin/sh", "-c", "d=" + f + "d; mkdir -p $d/a/b && echo x > $d/a/b/c && mv $d/a $d/z && cat $d/z/b/c && rm -r $d && echo gone"})
	// The exact command from the goal, under glassbox only (natively it
	// would touch the host's /tmp/x, which may belong to someone else).
	r := runGlassbox(t, nil, []string{"/bin/sh", "-c", "echo hi > /tmp/x && cat /tmp/x && rm /tmp/x"})
	expect(t, "glassbox echo/cat/rm in /tmp", r, "hi\n", 0)
}

// tmpfsOnlyC checks what only glassbox can show: its root is read-only
// (natively, as root, writing /etc would succeed, so this is asserted on
// glassbox's output alone), /tmp is a tmpfs on its own mount (EXDEV to
// the root; natively /tmp and /etc may share a file system), and statfs
// names each file system.
const tmpfsOnlyC = `
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

static void r(const char *what, long v) { printf("%s: %s\n", what, v < 0 ? strerror(errno) : "ok"); }

int main(void) {
	r("create /etc/gbx", open("/etc/gbx", O_CREAT | O_WRONLY, 0644));
	r("write /etc/passwd", open("/etc/passwd", O_WRONLY));
	r("mkdir /etc/gbd", mkdir("/etc/gbd", 0755));
	r("unlink /etc/passwd", unlink("/etc/passwd"));
	r("chmod /etc/passwd", chmod("/etc/passwd", 0600));
	r("truncate /etc/passwd", truncate("/etc/passwd", 0));
	r("rename /etc/passwd", rename("/etc/passwd", "/etc/p2"));
	r("symlink in /etc", symlink("x", "/etc/gbl"));
	int fd = open("/tmp/gbonly", O_CREAT | O_WRONLY, 0644);
	close(fd);
	r("rename /tmp -> /etc", rename("/tmp/gbonly", "/etc/gbonly"));
	r("link /tmp -> /var", link("/tmp/gbonly", "/var/gbonly"));
	r("link /tmp -> /dev/shm", link("/tmp/gbonly", "/dev/shm/gbonly"));
	r("unlink /tmp/gbonly", unlink("/tmp/gbonly"));
	struct statfs s;
	statfs("/tmp", &s); printf("/tmp f_type %#lx\n", (long)s.f_type);
	statfs("/dev/shm", &s); printf("/dev/shm f_type %#lx\n", (long)s.f_type);
	statfs("/proc", &s); printf("/proc f_type %#lx\n", (long)s.f_type);
	statfs("/", &s); printf("/ read-only %ld\n", (long)(s.f_flags & 1));
	return 0;
}
`

// TestTmpfsGlassboxOnly: the root is an in-memory layer over the host
// (changes succeed there; the host is untouched, as the overlay tests
// check), EXDEV between mounts, statfs magic numbers. Glassbox only: as
// root natively these would change the host's /etc.
func TestTmpfsGlassboxOnly(t *testing.T) {
	t.Parallel()
	prog := compileC(t, "tmpfsonly", tmpfsOnlyC)
	r := runGlassbox(t, nil, []string{prog})
	expect(t, "glassbox", r, `create /etc/gbx: ok
write /etc/passwd: ok
mkdir /etc/gbd: ok
unlink /etc/passwd: ok
chmod /etc/passwd: No such file or directory
truncate /etc/passwd: No such file or directory
rename /etc/passwd: No such file or directory
symlink in /etc: ok
rename /tmp -> /etc: Invalid cross-device link
link /tmp -> /var: Invalid cross-device link
link /tmp -> /dev/shm: Invalid cross-device link
unlink /tmp/gbonly: ok
/tmp f_type 0x1021994
/dev/shm f_type 0x1021994
/proc f_type 0x9fa0
/ read-only 0
`, 0)
}

// tmpfsPermC checks permissions as an unprivileged user (uid 1000 after
// setuid) in a scratch directory under /tmp: directory write and search
// bits, the sticky bit, owner-only chmod/chown/utimes, setgid directories.
// It avoids what hosts configure differently (fs.protected_* sysctls).
const tmpfsPermC = `
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char dir[256];
static char *P(const char *name) {
	static char b[4][512]; static int i;
	i = (i + 1) % 4;
	snprintf(b[i], sizeof b[i], "%s/%s", dir, name);
	return b[i];
}
#define R(what, call) do { errno = 0; long r_ = (long)(call); \
	printf("%-30s %s\n", what, r_ < 0 ? strerrorname_np(errno) : "OK"); } while (0)
static void show(const char *name) {
	struct stat st;
	if (lstat(P(name), &st) < 0) { printf("stat %s: %s\n", name, strerrorname_np(errno)); return; }
	printf("stat %s: %04o %u:%u\n", name, st.st_mode & 07777, st.st_uid, st.st_gid);
}
static void mk(const char *name, int mode, int uid, int gid) {
	int fd = open(P(name), O_CREAT | O_WRONLY, 0);
	if (fd >= 0) { write(fd, "data", 4); close(fd); }
	chown(P(name), uid, gid); chmod(P(name), mode);
}
static int rmone(const char *p, const struct stat *s, int f, struct FTW *w) { return remove(p); }

int main(int argc, char **argv) {
	if (argc != 2) return 2;
	setvbuf(stdout, NULL, _IONBF, 0);
	umask(022);
	snprintf(dir, sizeof dir, "/tmp/gbperm-%s", argv[1]);
	nftw(dir, rmone, 16, FTW_DEPTH | FTW_PHYS);
	mkdir(dir, 0755); chmod(dir, 0755);
	mkdir(P("closed"), 0755);
	mkdir(P("open"), 0777); chmod(P("open"), 0777);
	mkdir(P("sticky"), 0777); chmod(P("sticky"), 01777);
	mkdir(P("sgid"), 0777); chown(P("sgid"), 0, 3000); chmod(P("sgid"), 02777);
	mkdir(P("noexec"), 0777); chmod(P("noexec"), 0666);
	mk("sticky/roots", 0666, 0, 0);
	mk("sticky/users", 0644, 1000, 1000);
	mk("rootfile", 0600, 0, 0);
	mk("rw", 0666, 0, 0);
	mk("ro", 0644, 0, 0);
	mk("mine", 0644, 1000, 2000);
	if (fork() == 0) {
		if (setgroups(0, NULL) || setgid(1000) || setuid(1000)) { perror("drop"); _exit(1); }
		R("create in closed", open(P("closed/x"), O_CREAT | O_WRONLY, 0644));
		R("mkdir in closed", mkdir(P("closed/d"), 0755));
		R("create in open", open(P("open/x"), O_CREAT | O_WRONLY, 0644));
		show("open/x");
		R("search noexec", open(P("noexec/x"), O_CREAT | O_WRONLY, 0644));
		R("unlink root's in sticky", unlink(P("sticky/roots")));
		R("rename root's in sticky", rename(P("sticky/roots"), P("sticky/r2")));
		R("rename over root's in sticky", rename(P("sticky/users"), P("sticky/roots")));
		R("unlink own in sticky", unlink(P("sticky/users")));
		R("unlink in closed dir", unlink(P("rootfile")));
		R("open rootfile", open(P("rootfile"), O_RDONLY));
		R("chmod rootfile", chmod(P("rootfile"), 0644));
		R("chmod mine 2755 (not in group)", chmod(P("mine"), 02755));
		show("mine");
		R("chown mine to root", chown(P("mine"), 0, -1));
		R("chgrp mine to 3000", chown(P("mine"), -1, 3000));
		R("chgrp mine to 1000", chown(P("mine"), -1, 1000));
		show("mine");
		struct timespec ts[2] = {{1, 0}, {2, 0}};
		R("utimensat rw explicit", utimensat(AT_FDCWD, P("rw"), ts, 0));
		R("utimensat rw now", utimensat(AT_FDCWD, P("rw"), NULL, 0));
		R("utimensat ro now", utimensat(AT_FDCWD, P("ro"), NULL, 0));
		R("utimensat mine explicit", utimensat(AT_FDCWD, P("mine"), ts, 0));
		R("truncate ro", truncate(P("ro"), 0));
		R("truncate rw", truncate(P("rw"), 1));
		R("create in sgid", open(P("sgid/f"), O_CREAT | O_WRONLY, 02775));
		R("mkdir in sgid", mkdir(P("sgid/d"), 0755));
		show("sgid/f"); show("sgid/d");
		R("mkdir in sgid/d", mkdir(P("sgid/d/e"), 0700));
		show("sgid/d/e");
		_exit(0);
	}
	int st; wait(&st);
	printf("child exit %d\n", WEXITSTATUS(st));
	nftw(dir, rmone, 16, FTW_DEPTH | FTW_PHYS);
	return 0;
}
`

// TestTmpfsPermissions: an unprivileged user meets the same permission
// answers under glassbox as natively.
func TestTmpfsPermissions(t *testing.T) {
	t.Parallel()
	prog := compileC(t, "tmpfsperm", tmpfsPermC)
	native, _ := diff(t, []string{prog, uniqueName(t)})
	if !strings.Contains(native.Stdout, "stat sgid/d: 2755 1000:3000") || strings.Count(native.Stdout, "EPERM") < 5 {
		t.Errorf("native run did not drop privileges as expected:\n%s", native.Stdout)
	}
}
