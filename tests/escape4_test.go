package tests

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// File system escapes of issue 17's list: races on symlinks and ".."
// during the walk, /proc/self/{root,cwd,fd,exe,mem,map_files}, symlinks
// and ".." inside a --bind directory, hard links to files outside it.
// Every test has a host file outside what the guest was given, whose
// contents the guest must never read and the host must find unchanged.

const outsideSecret = "OUTSIDE-SECRET\n"

// escapeWorld is a host layout for a guest run with --root root and
// --bind bind:/mnt:
//
//	base/root/bin/{busybox,prog}   the guest's whole root (and mnt/, proc/)
//	base/bind/d/secret             "inside"
//	base/bind/a/b/c/               a deep directory
//	base/bind/abs -> base/out      host-absolute symlink to outside
//	base/bind/rel -> ../out        relative symlink climbing out
//	base/bind/absf, relf           the same to base/out/secret
//	base/out/secret                outsideSecret: must stay unread
type escapeWorld struct{ base, root, bind, out string }

func newEscapeWorld(t *testing.T, prog string) escapeWorld {
	t.Helper()
	base := t.TempDir()
	if err := os.Chmod(base, 0o755); err != nil {
		t.Fatal(err)
	}
	w := escapeWorld{base: base, root: makeRoot(t, filepath.Join(base, "root")),
		bind: filepath.Join(base, "bind"), out: filepath.Join(base, "out")}
	data, err := os.ReadFile(prog)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(w.root, "bin", "prog"), string(data), 0o755)
	for _, d := range []string{filepath.Join(w.root, "mnt"), filepath.Join(w.root, "proc"), filepath.Join(w.bind, "d"), filepath.Join(w.bind, "a", "b", "c"), w.out} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	writeFile(t, filepath.Join(w.bind, "d", "secret"), "inside\n", 0o644)
	writeFile(t, filepath.Join(w.out, "secret"), outsideSecret, 0o644)
	for link, target := range map[string]string{"abs": w.out, "rel": "../out",
		"absf": filepath.Join(w.out, "secret"), "relf": "../out/secret"} {
		if err := os.Symlink(target, filepath.Join(w.bind, link)); err != nil {
			t.Fatal(err)
		}
	}
	return w
}

func (w escapeWorld) flags() []string {
	return []string{"--root", w.root, "--bind", w.bind + ":/mnt", "--dir", "/"}
}

// check fails the test if the outside secret leaked into r's output or
// changed on the host.
func (w escapeWorld) check(t *testing.T, r res) {
	t.Helper()
	if strings.Contains(r.Stdout+r.Stderr, strings.TrimSpace(outsideSecret)) {
		t.Errorf("the guest read a host file outside its root and bind:\n%s", r)
	}
	if got, err := os.ReadFile(filepath.Join(w.out, "secret")); err != nil || string(got) != outsideSecret {
		t.Errorf("the outside file changed: %q %v", got, err)
	}
}

const walkRaceC = `/* walkrace HOSTOUT: threads swap symlinks and directories inside the
   bind (/mnt) while others open through them, for two seconds. Prints
   escapes (reads of the outside secret) and inside (reads of /mnt/d/secret). */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static atomic_int stop, escapes, inside;
static const char *hostout;
static int cfd = -1;

static void *swap_exchange(void *a) { /* /mnt/d <-> /mnt/abs, a dir and a symlink */
	while (!stop) renameat2(AT_FDCWD, "/mnt/d", AT_FDCWD, "/mnt/abs", RENAME_EXCHANGE);
	return 0;
}
static void *swap_symlink(void *a) { /* /mnt/t retargeted by rename */
	char up[512];
	snprintf(up, sizeof up, "../../../../../../../..%s", hostout);
	const char *targets[] = {"d", "abs", "rel", "../out", hostout, up, "/proc/self/root/../out", "a/b/../../rel", "a/b/c/../../../d"};
	for (int i = 0; !stop; i = (i + 1) % 9) {
		unlink("/mnt/t.new");
		symlink(targets[i], "/mnt/t.new");
		rename("/mnt/t.new", "/mnt/t");
	}
	return 0;
}
static void *swap_dotdot(void *a) { /* moves the directory holding c up and back */
	while (!stop) { rename("/mnt/a/b", "/mnt/b2"); rename("/mnt/b2", "/mnt/a/b"); }
	return 0;
}
static void try(int dir, const char *path) {
	char buf[64] = {0};
	int fd = openat(dir, path, O_RDONLY);
	if (fd < 0) return;
	read(fd, buf, sizeof buf - 1);
	close(fd);
	if (strstr(buf, "OUTSIDE")) { escapes++; printf("ESCAPE through %s\n", path); fflush(stdout); }
	if (strstr(buf, "inside")) inside++;
}
static void *opener(void *a) {
	char host[512];
	snprintf(host, sizeof host, "/mnt/t/../../../../..%s/secret", hostout);
	while (!stop) {
		try(AT_FDCWD, "/mnt/d/secret"); try(AT_FDCWD, "/mnt/abs/secret"); try(AT_FDCWD, "/mnt/t/secret");
		try(AT_FDCWD, "/mnt/rel/secret"); try(AT_FDCWD, "/mnt/relf"); try(AT_FDCWD, "/mnt/absf");
		try(AT_FDCWD, host);
		try(cfd, "../../../../out/secret"); try(cfd, "../../../out/secret"); try(cfd, "../../../../../out/secret");
	}
	return 0;
}
int main(int argc, char **argv) {
	hostout = argv[1];
	cfd = open("/mnt/a/b/c", O_RDONLY | O_DIRECTORY);
	if (cfd < 0) { perror("open c"); return 1; }
	pthread_t t[6];
	pthread_create(&t[0], 0, swap_exchange, 0);
	pthread_create(&t[1], 0, swap_symlink, 0);
	pthread_create(&t[2], 0, swap_dotdot, 0);
	pthread_create(&t[3], 0, opener, 0);
	pthread_create(&t[4], 0, opener, 0);
	pthread_create(&t[5], 0, opener, 0);
	sleep(2);
	stop = 1;
	for (int i = 0; i < 6; i++) pthread_join(t[i], 0);
	printf("escapes=%d inside=%d\n", escapes, inside > 0);
	return 0;
}
`

// TestEscapeWalkRace: threads swapping a directory with a host-absolute
// symlink (renameat2 RENAME_EXCHANGE), retargeting a symlink between
// inside and outside targets, and moving the directory a held descriptor
// lies in, while three others open through all of them (and through ".."
// from the held descriptor, which on the host would reach base/out):
// nothing ever reads the file outside the root and the bind.
func TestEscapeWalkRace(t *testing.T) {
	t.Parallel()
	prog := compileC(t, "walkrace", walkRaceC, "-pthread")
	w := newEscapeWorld(t, prog)
	r := runGlassbox(t, w.flags(), []string{"/bin/prog", w.out})
	if r.Code != 0 || !strings.HasSuffix(r.Stdout, "escapes=0 inside=1\n") {
		t.Errorf("walk race: %s", r)
	}
	w.check(t, r)
}

// TestEscapeBindSymlinks: symlinks the host left in a --bind directory
// (host-absolute, relative climbing out) and ".." above the bind are
// resolved in the guest's tree, where the outside file does not exist.
func TestEscapeBindSymlinks(t *testing.T) {
	t.Parallel()
	w := newEscapeWorld(t, busybox(t))
	for _, p := range []string{"/mnt/absf", "/mnt/relf", "/mnt/abs/secret", "/mnt/rel/secret",
		"/mnt/../out/secret", "/mnt/a/b/c/../../../../out/secret", "/mnt/rel/../../out/secret",
		filepath.Join(w.out, "secret"), "/mnt/a/b/c/../../../.." + filepath.Join(w.out, "secret")} {
		r := runGlassbox(t, w.flags(), []string{"/bin/busybox", "cat", p})
		if r.Code != 1 || !strings.Contains(r.Stderr, "No such file or directory") {
			t.Errorf("cat %s: want ENOENT, got %s", p, r)
		}
		w.check(t, r)
	}
	r := runGlassbox(t, w.flags(), []string{"/bin/busybox", "readlink", "/mnt/absf"})
	expect(t, "readlink /mnt/absf", r, filepath.Join(w.out, "secret")+"\n", 0)
}

const hardLinkC = `/* hardlink HOSTFILE: try to give the writable bind (/mnt) a hard link to
   a host file outside it (visible read-only at its host path), then write
   through whatever was made. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
static void r(const char *what, int v) { printf("%s: %s\n", what, v < 0 ? strerrorname_np(errno) : "ok"); }
int main(int argc, char **argv) {
	char p[64];
	int fd = open(argv[1], O_RDONLY);
	r("link", link(argv[1], "/mnt/hl1"));
	r("linkat AT_EMPTY_PATH", linkat(fd, "", AT_FDCWD, "/mnt/hl2", AT_EMPTY_PATH));
	snprintf(p, sizeof p, "/proc/self/fd/%d", fd);
	r("linkat /proc/self/fd", linkat(AT_FDCWD, p, AT_FDCWD, "/mnt/hl3", AT_SYMLINK_FOLLOW));
	r("rename", rename(argv[1], "/mnt/hl4"));
	r("symlink+link", symlink(argv[1], "/mnt/sl") < 0 ? -1 : linkat(AT_FDCWD, "/mnt/sl", AT_FDCWD, "/mnt/hl5", AT_SYMLINK_FOLLOW));
	for (int i = 1; i <= 5; i++) {
		snprintf(p, sizeof p, "/mnt/hl%d", i);
		int w = open(p, O_WRONLY | O_TRUNC);
		if (w >= 0) { write(w, "PWNED\n", 6); close(w); }
	}
	return 0;
}
`

// TestEscapeBindHardLink: the guest cannot make a hard link in a --bind
// directory to a host file outside it (by name, by descriptor with
// AT_EMPTY_PATH, through /proc/self/fd, through a symlink in the bind),
// nor move it in: the host file keeps one link and its contents.
func TestEscapeBindHardLink(t *testing.T) {
	t.Parallel()
	prog := compileC(t, "hardlink", hardLinkC)
	w := newEscapeWorld(t, prog)
	secret := filepath.Join(w.out, "secret")
	r := runGlassbox(t, []string{"--bind", w.bind + ":/mnt"}, []string{prog, secret})
	want := "link: EXDEV\nlinkat AT_EMPTY_PATH: EXDEV\nlinkat /proc/self/fd: EXDEV\nrename: EXDEV\nsymlink+link: EXDEV\n"
	if r.Code != 0 || r.Stdout != want {
		t.Errorf("got %s\nwant stdout:\n%s", r, want)
	}
	var st syscall.Stat_t
	if err := syscall.Stat(secret, &st); err != nil || st.Nlink != 1 {
		t.Errorf("the outside file has %d links (%v)", st.Nlink, err)
	}
	w.check(t, res{})
	ents, _ := os.ReadDir(w.bind)
	for _, e := range ents {
		var s syscall.Stat_t
		if syscall.Lstat(filepath.Join(w.bind, e.Name()), &s) == nil && s.Ino == st.Ino && s.Dev == st.Dev {
			t.Errorf("bind/%s is the outside file", e.Name())
		}
	}
}

const procTricksC = `/* proctricks HOSTOUT: reach outside the root through /proc/self's magic
   links; write the executable through /proc/self/exe; write glassbox' stub
   pages through /proc/self/mem; look for another process' memory through
   /proc/self/map_files. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define STUB 0x7ff000000000UL
static char hit[64];

static void try(const char *path) {
	char buf[64] = {0};
	int fd = open(path, O_RDONLY);
	if (fd >= 0) { read(fd, buf, sizeof buf - 1); close(fd); }
	if (strstr(buf, "OUTSIDE")) printf("ESCAPE through %s\n", path);
}
static sigjmp_buf env;
static void onsegv(int s) { siglongjmp(env, 1); }
static int copy_stub(unsigned char *dst) {
	signal(SIGSEGV, onsegv);
	if (sigsetjmp(env, 1)) return 0;
	memcpy(dst, (void *)STUB, 4096);
	signal(SIGSEGV, SIG_DFL);
	return 1;
}
/* The pattern reversed, so that finding it reversed in memory means
   finding the parent's copy, not our own. */
static int scan(const char *buf, size_t n, const char *pat) {
	size_t m = strlen(pat);
	for (size_t i = 0; i + m <= n; i++) {
		size_t k = 0;
		while (k < m && buf[i + k] == pat[m - 1 - k]) k++;
		if (k == m) return 1;
	}
	return 0;
}
static int probe_map_files(const char *pat) {
	DIR *d = opendir("/proc/self/map_files");
	int found = 0;
	static char buf[1 << 16];
	for (struct dirent *e; d && (e = readdir(d));) {
		char p[300];
		snprintf(p, sizeof p, "/proc/self/map_files/%s", e->d_name);
		int fd = open(p, O_RDONLY);
		for (ssize_t n; fd >= 0 && (n = read(fd, buf, sizeof buf)) > 0;)
			found |= scan(buf, n, pat);
		if (fd >= 0) close(fd);
	}
	return found;
}
int main(int argc, char **argv) {
	char p[512], l[512];
	if (argc > 2) { /* the map_files probe, exec'd fresh */
		snprintf(p, sizeof p, "GBX-%s-%d", "MAPFILES", 4242);
		return probe_map_files(p) ? 99 : 0;
	}
	const char *out = argv[1];
	ssize_t n = readlink("/proc/self/root", l, sizeof l - 1); l[n > 0 ? n : 0] = 0;
	printf("root: %s\n", l);
	n = readlink("/proc/self/exe", l, sizeof l - 1); l[n > 0 ? n : 0] = 0;
	printf("exe: %s\n", l);
	snprintf(p, sizeof p, "/proc/self/root/../..%s/secret", out); try(p);
	try("/proc/self/root/../out/secret");
	snprintf(p, sizeof p, "/proc/1/root%s/secret", out); try(p);
	chdir("/mnt/a/b/c");
	try("/proc/self/cwd/../../../../out/secret");
	snprintf(p, sizeof p, "/proc/self/cwd/../../../../../..%s/secret", out); try(p);
	int c = open("/mnt/a/b/c", O_RDONLY | O_DIRECTORY);
	snprintf(p, sizeof p, "/proc/self/fd/%d/../../../../out/secret", c); try(p);
	snprintf(p, sizeof p, "/proc/self/fd/%d", c);
	int up = openat(open(p, O_PATH), "../../../..", O_PATH);
	n = readlinkat(AT_FDCWD, (snprintf(l, sizeof l, "/proc/self/fd/%d", up), l), p, sizeof p - 1); p[n > 0 ? n : 0] = 0;
	printf("c/../../../..: %s\n", p);

	/* /proc/self/exe opened for writing: the host binary must not change. */
	int x = open("/proc/self/exe", O_RDWR);
	if (x >= 0) { pwrite(x, "PWNED", 5, 0); close(x); }

	/* glassbox' stub pages through /proc/self/mem. */
	static unsigned char before[4096], after[4096];
	int have = copy_stub(before);
	int mem = open("/proc/self/mem", O_RDWR);
	static char junk[4096];
	memset(junk, 0xcc, sizeof junk);
	unsigned long targets[] = {STUB, STUB + 0x100, 0x7ff000200000UL};
	for (int i = 0; i < 3; i++) {
		errno = 0;
		ssize_t w = pwrite(mem, junk, 16, targets[i]);
		int ew = errno;
		errno = 0;
		ssize_t r = pread(mem, junk, 16, targets[i]);
		if (w >= 0 || r >= 0) printf("mem %#lx: write %zd %s read %zd %s\n", targets[i], w, strerrorname_np(ew), r, strerrorname_np(errno));
	}
	if (have && (!copy_stub(after) || memcmp(before, after, 4096)))
		printf("ESCAPE: the stub page changed\n");

	/* Another process' memory through map_files. */
	char *secret = malloc(64);
	snprintf(p, sizeof p, "GBX-%s-%d", "MAPFILES", 4242);
	size_t m = strlen(p);
	for (size_t i = 0; i < m; i++) secret[i] = p[m - 1 - i];
	secret[m] = 0;
	memset(p, 0, sizeof p);
	pid_t pid = fork();
	if (pid == 0) { execl("/proc/self/exe", "proctricks", out, "probe", (char *)0); _exit(98); }
	int st;
	waitpid(pid, &st, 0);
	printf("map_files probe: %d\n", WEXITSTATUS(st));
	printf("done %c\n", secret[0]);
	return 0;
}
`

// TestEscapeProcSelf: under --root with a --bind, /proc/self/root,
// /proc/1/root, /proc/self/cwd and /proc/self/fd/N followed by ".." stay
// in the guest's tree (the outside file stays unread) and name guest paths
// (no host path leaks); /proc/self/exe opened for writing does not change
// the host's binary; /proc/self/mem neither writes nor reads glassbox'
// stub pages (the stub's code is the same afterwards); a fresh process finds nothing of
// another's memory through /proc/self/map_files.
func TestEscapeProcSelf(t *testing.T) {
	t.Parallel()
	prog := compileC(t, "proctricks", procTricksC)
	w := newEscapeWorld(t, prog)
	exe := filepath.Join(w.root, "bin", "prog")
	before, _ := os.ReadFile(exe)
	r := runGlassbox(t, w.flags(), []string{"/bin/prog", w.out})
	w.check(t, r)
	if r.Code != 0 || strings.Contains(r.Stdout, "ESCAPE") || strings.Contains(r.Stdout, w.base) {
		t.Errorf("proc tricks: %s", r)
	}
	for _, want := range []string{"root: /\n", "exe: /bin/prog\n", "c/../../../..: /\n", "map_files probe: 0\n", "done 2\n"} {
		if !strings.Contains(r.Stdout, want) {
			t.Errorf("want %q in:\n%s", want, r.Stdout)
		}
	}
	for _, line := range strings.Split(r.Stdout, "\n") {
		if strings.HasPrefix(line, "mem 0x7ff0") {
			t.Errorf("/proc/self/mem reached a stub page: %s", line)
		}
	}
	if after, _ := os.ReadFile(exe); !bytes.Equal(before, after) {
		t.Errorf("the host's binary changed through /proc/self/exe")
	}
}
