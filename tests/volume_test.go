package tests

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
)

// Writable host directories: `--volume HOST:/mnt --dir /mnt` mounts HOST
// (hostfs, writable) at /mnt. Each program runs natively in one fresh
// directory and under glassbox in another; their outputs must agree, and
// so must what the two directories hold on the host afterwards.

// volumeDirs returns two fresh host directories (native, glassbox), open to
// everyone (unprivileged children must be able to reach them natively).
func volumeDirs(t *testing.T) (string, string) {
	t.Helper()
	var dirs [2]string
	for i := range dirs {
		d, err := os.MkdirTemp("", "gbvol-")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.RemoveAll(d) })
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
		dirs[i] = d
	}
	return dirs[0], dirs[1]
}

func volumeFlags(dir string) []string {
	return []string{"--volume", dir + ":/mnt", "--dir", "/mnt"}
}

// volumeDiff runs argv natively and under glassbox, with "@DIR" in it
// naming the native directory natively and /mnt (the volume gbDir) under
// glassbox, and requires equal stdout and exit status.
func volumeDiff(t *testing.T, nativeDir, gbDir string, argv ...string) (native, gb res) {
	t.Helper()
	with := func(dir string) []string {
		out := make([]string, len(argv))
		for i, a := range argv {
			out[i] = strings.ReplaceAll(a, "@DIR", dir)
		}
		return out
	}
	native = runNative(t, with(nativeDir))
	gb = runGlassbox(t, volumeFlags(gbDir), with("/mnt"))
	if native.Stdout != gb.Stdout || native.Code != gb.Code {
		t.Errorf("%q: glassbox differs from native\n===== native: %s\n===== glassbox: %s", argv, native, gb)
	}
	return native, gb
}

// hostView describes a directory tree as the host sees it: names, types,
// modes, sizes, link counts, contents, link targets; mtimes where asked.
func hostView(t *testing.T, dir string, mtimes ...string) string {
	t.Helper()
	var lines []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		var st syscall.Stat_t
		if err := syscall.Lstat(p, &st); err != nil {
			return err
		}
		l := fmt.Sprintf("%s %o size=%d nlink=%d uid=%d", rel, st.Mode, st.Size, st.Nlink, st.Uid)
		switch st.Mode & syscall.S_IFMT {
		case syscall.S_IFDIR:
			l = fmt.Sprintf("%s %o uid=%d", rel, st.Mode, st.Uid) // sizes and link counts vary by fs
		case syscall.S_IFLNK:
			tgt, _ := os.Readlink(p)
			l += " -> " + tgt
		case syscall.S_IFREG:
			data, _ := os.ReadFile(p)
			l += fmt.Sprintf(" %q", strings.TrimRight(string(data), "\x00"))
		}
		for _, m := range mtimes {
			if rel == m {
				l += fmt.Sprintf(" mtime=%d.%09d", st.Mtim.Sec, st.Mtim.Nsec)
			}
		}
		lines = append(lines, l)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n") + "\n"
}

// TestVolumeOps: tmpfsC's operations (create, I/O, O_APPEND, O_TRUNC,
// truncate, fallocate, directories, renames with flags, links, symlinks,
// chmod/chown/utimes, shared mappings, fork) in a volume.
func TestVolumeOps(t *testing.T) {
	t.Parallel()
	src := strings.Replace(tmpfsC, `"/tmp/gbtmpfs-%s"`, `"%s/scratch"`, 1)
	if src == tmpfsC {
		t.Fatal("tmpfsC no longer names its scratch directory as expected")
	}
	prog := compileC(t, "volops", src)
	nd, gd := volumeDirs(t)
	native, _ := volumeDiff(t, nd, gd, prog, "@DIR")
	if !strings.Contains(native.Stdout, "read after map write: via mapping") {
		t.Errorf("native output is not what tmpfsC prints:\n%s", native.Stdout)
	}
}

// volumeC leaves its work behind for the host to look at.
const volumeC = `
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

static void put(const char *name, const char *s, int mode) {
	int fd = open(name, O_WRONLY | O_CREAT | O_TRUNC, mode);
	write(fd, s, strlen(s)); close(fd);
}
static void cat(const char *name) {
	char b[64] = {0}; int fd = open(name, O_RDONLY);
	int n = read(fd, b, sizeof b - 1); close(fd);
	printf("%s: %d [%s]\n", name, n, b);
}

int main(int argc, char **argv) {
	if (chdir(argv[1])) { perror("chdir"); return 1; }
	umask(022);
	int fd = open("created", O_WRONLY | O_CREAT | O_EXCL, 0640);
	write(fd, "hello", 5); close(fd);
	fd = open("created", O_WRONLY | O_APPEND);
	write(fd, " world", 6); close(fd);
	fd = open("trunc", O_RDWR | O_CREAT, 0644);
	for (int i = 0; i < 100; i++) write(fd, "x", 1);
	ftruncate(fd, 10); close(fd);
	put("trunc2", "abcdef", 0644); truncate("trunc2", 3);
	put("tmp", "moved", 0644); rename("tmp", "renamed");
	link("renamed", "hard");
	symlink("renamed", "sym");
	symlink("/etc/passwd", "abs");
	mkdir("dir", 0750); mkdir("dir/sub", 0700); mkdir("gone", 0755); rmdir("gone");
	put("dir/sub/deep", "deep", 0600);
	rename("dir/sub", "dir/moved");
	put("ex1", "one", 0644); put("ex2", "two", 0644);
	syscall(SYS_renameat2, AT_FDCWD, "ex1", AT_FDCWD, "ex2", RENAME_EXCHANGE);
	chmod("created", 0604);
	struct timespec ts[2] = {{1000, 0}, {2000000000, 500}};
	utimensat(AT_FDCWD, "created", ts, 0);
	ts[1].tv_sec = 1500000000;
	utimensat(AT_FDCWD, "sym", ts, AT_SYMLINK_NOFOLLOW);
	fd = open("mapped", O_RDWR | O_CREAT, 0644); ftruncate(fd, 8192);
	char *p = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	memcpy(p + 4096, "via mmap", 8); munmap(p, 8192); close(fd);
	fd = open("mapped2", O_RDWR | O_CREAT, 0644); ftruncate(fd, 4096);
	p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	memcpy(p, "stored after close", 18); munmap(p, 4096);
	put("deleted", "x", 0644); unlink("deleted");
	fd = open("falloc", O_RDWR | O_CREAT, 0644); fallocate(fd, 0, 0, 5000); close(fd);
	cat("created"); cat("trunc"); cat("trunc2"); cat("sym"); cat("hard"); cat("dir/moved/deep");
	cat("ex1"); cat("ex2"); cat("mapped2");
	struct stat st; stat("hard", &st); printf("hard nlink %lu\n", (unsigned long)st.st_nlink);
	char t[64] = {0}; readlink("abs", t, sizeof t - 1); printf("abs -> %s\n", t);
	return 0;
}
`

// TestVolumeHostSees: what the guest did is on the host, exactly as the
// same program's native run left it.
func TestVolumeHostSees(t *testing.T) {
	t.Parallel()
	prog := compileC(t, "volhost", volumeC)
	nd, gd := volumeDirs(t)
	volumeDiff(t, nd, gd, prog, "@DIR")
	nv, gv := hostView(t, nd, "created", "sym"), hostView(t, gd, "created", "sym")
	if nv != gv {
		t.Errorf("the host sees different trees\n===== native:\n%s===== glassbox:\n%s", nv, gv)
	}
	for _, want := range []string{
		`created 100604 size=11 nlink=1 uid=0 "hello world" mtime=2000000000.000000500`,
		`trunc 100644 size=10 nlink=1 uid=0 "xxxxxxxxxx"`,
		`renamed 100644 size=5 nlink=2 uid=0 "moved"`,
		`sym 120777 size=7 nlink=1 uid=0 -> renamed mtime=1500000000.000000500`,
		`abs 120777 size=11 nlink=1 uid=0 -> /etc/passwd`,
		`dir/moved/deep 100600 size=4 nlink=1 uid=0 "deep"`,
		`ex1 100644 size=3 nlink=1 uid=0 "two"`,
		`mapped2 100644 size=4096 nlink=1 uid=0 "stored after close"`,
		`falloc 100644 size=5000`,
	} {
		if os.Geteuid() != 0 {
			want = strings.ReplaceAll(want, "uid=0", fmt.Sprintf("uid=%d", os.Geteuid()))
		}
		if !strings.Contains(gv, want) {
			t.Errorf("glassbox's volume lacks %q:\n%s", want, gv)
		}
	}
	if strings.Contains(gv, "gone") || strings.Contains(gv, "deleted") || strings.Contains(gv, "tmp ") {
		t.Errorf("removed names are still on the host:\n%s", gv)
	}
	mapped, err := os.ReadFile(filepath.Join(gd, "mapped"))
	if err != nil || len(mapped) != 8192 || string(mapped[4096:4104]) != "via mmap" {
		t.Errorf("shared mapping's store did not reach the host (%v)", err)
	}
}

// TestVolumePermissions: tmpfsPermC (an unprivileged child: directory
// bits, sticky and setgid directories, owner-only changes) in a volume.
// The files the child makes belong to it on the host too.
func TestVolumePermissions(t *testing.T) {
	t.Parallel()
	if os.Geteuid() != 0 {
		t.Skip("the native half needs root")
	}
	src := strings.Replace(tmpfsPermC, `"/tmp/gbperm-%s"`, `"%s/perm"`, 1)
	if src == tmpfsPermC {
		t.Fatal("tmpfsPermC no longer names its scratch directory as expected")
	}
	prog := compileC(t, "volperm", src)
	nd, gd := volumeDirs(t)
	native, _ := volumeDiff(t, nd, gd, prog, "@DIR")
	if !strings.Contains(native.Stdout, "stat sgid/d: 2755 1000:3000") {
		t.Errorf("native run did not drop privileges as expected:\n%s", native.Stdout)
	}
}

// TestVolumeShell: everyday shell use of a volume.
func TestVolumeShell(t *testing.T) {
	t.Parallel()
	nd, gd := volumeDirs(t)
	script := `cd @DIR && mkdir -p a/b && echo x > a/b/c && echo y >> a/b/c && mv a z && cat z/b/c &&
ln -s z/b/c l && cat l && cp l copy && chmod 600 copy && ls -l copy | cut -c1-10 && ls -R && rm -r z && ls`
	volumeDiff(t, nd, gd, "/bin/sh", "-c", script)
	if nv, gv := hostView(t, nd), hostView(t, gd); nv != gv {
		t.Errorf("the host sees different trees\n===== native:\n%s===== glassbox:\n%s", nv, gv)
	}
}

// escapeC tries to reach outside the volume through symlinks made in it.
// argv: volume dir, a host file outside it, a unique name.
const escapeC = `
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void r(const char *what, long v) { printf("%s: %s\n", what, v < 0 ? strerror(errno) : "ok"); }

int main(int argc, char **argv) {
	char p[4096];
	if (chdir(argv[1])) return 1;
	r("symlink /", symlink("/", "rootl"));
	r("symlink ../..", symlink("../../../../../../../..", "up"));
	r("symlink marker", symlink(argv[2], "marker"));
	snprintf(p, sizeof p, "rootl/tmp/%s", argv[3]);
	r("create rootl/tmp/U", open(p, O_CREAT | O_WRONLY, 0644));
	snprintf(p, sizeof p, "up/tmp/%s", argv[3]);
	r("create up/tmp/U again", open(p, O_CREAT | O_EXCL | O_WRONLY, 0644));
	snprintf(p, sizeof p, "up/%s", argv[3]);
	r("mkdir up/U", mkdir(p, 0755));
	r("chmod marker", chmod("marker", 0777));
	r("truncate marker", truncate("marker", 0));
	r("open marker for writing", open("marker", O_WRONLY));
	snprintf(p, sizeof p, "up%s", argv[2]);
	r("unlink up/marker", unlink(p));
	r("rename marker's target in", rename(p, "stolen"));
	r("link marker's target in", link(p, "linked"));
	r("rename a volume file out", rename("marker", p));
	return 0;
}
`

// TestVolumeContain: a guest's symlinks in a volume lead where they lead
// in the guest (its read-only root, its own /tmp), never to the host.
func TestVolumeContain(t *testing.T) {
	t.Parallel()
	prog := compileC(t, "volescape", escapeC)
	_, gd := volumeDirs(t)
	outside := t.TempDir()
	marker := filepath.Join(outside, "marker")
	writeFile(t, marker, "marker", 0o644)
	uniq := "gbvolesc" + strings.ReplaceAll(filepath.Base(outside), "-", "")
	r := runGlassbox(t, volumeFlags(gd), []string{prog, "/mnt", marker, uniq})
	// The symlinks lead into the guest's own tree: its root and /tmp are
	// in-memory layers over the host, so changes through them succeed or
	// fail there (EXDEV between mounts) but never touch the host, which
	// the checks below establish.
	lines := strings.Split(strings.TrimSuffix(r.Stdout, "\n"), "\n")
	if r.Code != 0 || len(lines) != 13 {
		t.Fatalf("escape program: %s", r)
	}
	if !strings.Contains(r.Stdout, "create up/tmp/U again: File exists\n") {
		t.Errorf("up/tmp and rootl/tmp are not the guest's one /tmp:\n%s", r.Stdout)
	}
	if data, err := os.ReadFile(marker); err != nil || string(data) != "marker" {
		t.Errorf("marker changed: %q %v", data, err)
	}
	if st, err := os.Stat(marker); err != nil || st.Mode().Perm() != 0o644 {
		t.Errorf("marker's mode changed: %v", err)
	}
	for _, p := range []string{"/tmp/" + uniq, "/" + uniq, filepath.Join(outside, uniq)} {
		if _, err := os.Lstat(p); err == nil {
			os.RemoveAll(p)
			t.Errorf("%s was made on the host", p)
		}
	}
	if tgt, err := os.Readlink(filepath.Join(gd, "marker")); err != nil || tgt != marker {
		t.Errorf("the guest's symlink on the host: %q %v", tgt, err)
	}
}

// TestVolumeReadOnly: HOST:GUEST:ro refuses every change.
func TestVolumeReadOnly(t *testing.T) {
	t.Parallel()
	_, gd := volumeDirs(t)
	writeFile(t, filepath.Join(gd, "f"), "data", 0o644)
	before := hostView(t, gd)
	r := runGlassbox(t, []string{"--volume", gd + ":/mnt:ro", "--dir", "/mnt"}, []string{"/bin/sh", "-c",
		"cat f; echo x > g || echo create refused; rm f || echo rm refused; mkdir d || echo mkdir refused"})
	if !strings.HasPrefix(r.Stdout, "datacreate refused\nrm refused\nmkdir refused\n") {
		t.Errorf("read-only volume: %s", r)
	}
	if after := hostView(t, gd); after != before {
		t.Errorf("read-only volume changed on the host:\n%s", after)
	}
}
