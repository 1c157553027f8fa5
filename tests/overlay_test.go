package tests

import (
	"crypto/sha256"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// overlayC changes objects that already exist on the host in a directory
// (argv[1]), the way a program edits files in an image: append, copy,
// chmod, truncate, rename, link, unlink, rmdir and mkdir again, shared
// mappings. Under glassbox the directory is the overlay root's lower layer,
// so every change is a copy-up or a whiteout; natively it changes the
// directory itself (one the test made for the purpose). It prints only
// what every Linux file system agrees on: no inode numbers, directory
// sizes or link counts, block counts or current times.
const overlayC = `
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define R(what, call) do { errno = 0; long r_ = (long)(call); \
	printf("%-28s %s\n", what, r_ < 0 ? strerrorname_np(errno) : "OK"); } while (0)

static void cat(const char *p) {
	char b[256]; int fd = open(p, O_RDONLY);
	if (fd < 0) { printf("cat %s: %s\n", p, strerrorname_np(errno)); return; }
	int n = read(fd, b, sizeof b - 1); close(fd);
	printf("cat %s: [%.*s]\n", p, n < 0 ? 0 : n, b);
}
static void show(const char *p) {
	struct stat st;
	if (lstat(p, &st) < 0) { printf("stat %s: %s\n", p, strerrorname_np(errno)); return; }
	printf("stat %s: %06o", p, st.st_mode);
	if (!S_ISDIR(st.st_mode)) printf(" size=%ld", (long)st.st_size);
	printf("\n");
}
static int cmp(const void *a, const void *b) { return strcmp(*(char **)a, *(char **)b); }
static void list(const char *p) {
	DIR *d = opendir(p); char *n[64]; int k = 0; struct dirent *e;
	if (!d) { printf("list %s: %s\n", p, strerrorname_np(errno)); return; }
	while ((e = readdir(d)) && k < 64) n[k++] = strdup(e->d_name);
	closedir(d);
	qsort(n, k, sizeof n[0], cmp);
	printf("list %s:", p);
	for (int i = 0; i < k; i++) { printf(" %s", n[i]); free(n[i]); }
	printf("\n");
}
static struct stat st(const char *p) { struct stat s; memset(&s, 0, sizeof s); lstat(p, &s); return s; }

int main(int argc, char **argv) {
	if (argc != 2 || chdir(argv[1])) return 2;
	setvbuf(stdout, NULL, _IONBF, 0);
	umask(022);
	list(".");

	/* append to a file: same inode, new data */
	struct stat a = st("f");
	int fd = open("f", O_WRONLY | O_APPEND);
	write(fd, "world\n", 6); close(fd);
	cat("f");
	printf("f same inode: %d\n", a.st_ino == st("f").st_ino && a.st_dev == st("f").st_dev);

	/* a copy of it, appended to */
	char buf[4096]; int in = open("f", O_RDONLY), out = open("fcopy", O_CREAT | O_EXCL | O_WRONLY, 0640);
	int n = read(in, buf, sizeof buf); write(out, buf, n); write(out, "copy\n", 5); close(in); close(out);
	cat("fcopy"); show("fcopy");

	/* chmod keeps mtime, of the file and of its directory */
	struct stat g = st("sub/g"), s = st("sub");
	R("chmod sub/g", chmod("sub/g", 0600));
	show("sub/g"); show("sub");
	printf("sub/g mtime kept: %d, sub mtime kept: %d\n",
		g.st_mtim.tv_sec == st("sub/g").st_mtim.tv_sec && g.st_mtim.tv_nsec == st("sub/g").st_mtim.tv_nsec,
		s.st_mtim.tv_sec == st("sub").st_mtim.tv_sec && s.st_mtim.tv_nsec == st("sub").st_mtim.tv_nsec);
	R("truncate sub/g", truncate("sub/g", 1));
	cat("sub/g");

	/* O_TRUNC of a lower file */
	fd = open("sub/deep/h", O_WRONLY | O_TRUNC); write(fd, "H", 1); close(fd);
	cat("sub/deep/h");

	/* rename files, over lower files too */
	R("rename f sub/f2", rename("f", "sub/f2"));
	cat("f"); cat("sub/f2"); cat("ln");
	R("rename fcopy over x", rename("fcopy", "x"));
	cat("x"); show("x");
	R("rename noreplace", renameat2(AT_FDCWD, "y", AT_FDCWD, "x", RENAME_NOREPLACE));

	/* hard link to a lower file */
	R("link sub/g g2", link("sub/g", "g2"));
	printf("g2 same inode: %d nlink %ld\n", st("g2").st_ino == st("sub/g").st_ino, (long)st("g2").st_nlink);
	fd = open("g2", O_WRONLY | O_APPEND); write(fd, "2", 1); close(fd);
	cat("sub/g");

	/* symlinks */
	R("symlink", symlink("sub/f2", "ln2"));
	cat("ln2");
	R("unlink ln", unlink("ln"));
	cat("ln");

	/* rmdir needs the merged directory empty; mkdir again is empty */
	R("rmdir sub/deep", rmdir("sub/deep"));
	R("unlink sub/deep/h", unlink("sub/deep/h"));
	R("unlink sub/deep/i", unlink("sub/deep/i"));
	list("sub/deep");
	R("rmdir sub/deep", rmdir("sub/deep"));
	R("mkdir sub/deep", mkdir("sub/deep", 0700));
	list("sub/deep"); show("sub/deep");
	cat("sub/deep/h");
	R("rmdir empty", rmdir("empty"));
	R("mkdir empty", mkdir("empty", 0755));

	/* a shared mapping of a lower file opened read-write */
	fd = open("m", O_RDWR);
	char *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) { printf("mmap: %s\n", strerrorname_np(errno)); return 1; }
	printf("mapped: [%.5s]\n", p);
	memcpy(p, "MAPPED", 6);
	munmap(p, 4096); close(fd);
	cat("m");
	/* a private mapping of a lower file */
	fd = open("x", O_RDONLY);
	p = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, fd, 0);
	printf("private map: [%.5s]\n", p == MAP_FAILED ? "FAIL" : p);
	close(fd);

	list("."); list("sub");
	return 0;
}
`

// overlayTree is the host tree overlayC starts from: path → content ("/"
// suffix: a directory; "-> target": a symlink).
var overlayTree = [][2]string{
	{"f", "hello\n"}, {"x", "lower x\n"}, {"y", "lower y\n"}, {"m", "mapme\n"},
	{"sub/", ""}, {"sub/g", "g\n"}, {"sub/deep/", ""}, {"sub/deep/h", "h\n"}, {"sub/deep/i", "i\n"},
	{"ln", "-> f"}, {"empty/", ""},
}

func makeOverlayTree(t *testing.T, dir string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, e := range overlayTree {
		p := filepath.Join(dir, e[0])
		var err error
		switch {
		case strings.HasSuffix(e[0], "/"):
			err = os.MkdirAll(p, 0o755)
		case strings.HasPrefix(e[1], "-> "):
			err = os.Symlink(e[1][3:], p)
		default:
			writeFile(t, p, e[1], 0o644)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chmod(filepath.Join(dir, "sub"), 0o750); err != nil {
		t.Fatal(err)
	}
}

// treeState describes a host tree: each object's path, mode, size, mtime
// and content hash.
func treeState(t *testing.T, dir string) string {
	t.Helper()
	var b strings.Builder
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := os.Lstat(p)
		if err != nil {
			return err
		}
		extra := ""
		if fi.Mode().IsRegular() {
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			extra = fmt.Sprintf("%x", sha256.Sum256(data))
		} else if fi.Mode()&fs.ModeSymlink != 0 {
			extra, _ = os.Readlink(p)
		}
		fmt.Fprintf(&b, "%s %v %d %d %s\n", p, fi.Mode(), fi.Size(), fi.ModTime().UnixNano(), extra)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return b.String()
}

var overlayProbe struct {
	once  sync.Once
	wired bool
	why   string
}

// requireOverlayRoot skips the test unless the sandbox's root is a
// writable overlay: until it is wired in, writing under /etc fails with
// EROFS (and TestTmpfsGlassboxOnly asserts exactly that).
func requireOverlayRoot(t *testing.T) {
	t.Helper()
	overlayProbe.once.Do(func() {
		r := runGlassbox(t, nil, []string{"/bin/sh", "-c", "touch /etc/.glassbox-probe && rm /etc/.glassbox-probe"})
		overlayProbe.wired, overlayProbe.why = r.Code == 0, strings.TrimSpace(r.Stderr)
	})
	if !overlayProbe.wired {
		t.Skip("overlay root not wired yet: " + overlayProbe.why)
	}
}

// requireWritableHostDir skips the test unless the sandbox can change a
// host directory below /tmp's top level (t.TempDir() lives there): true
// once the overlay covers /tmp's subdirectories too.
func requireWritableHostDir(t *testing.T, dir string) {
	t.Helper()
	requireOverlayRoot(t)
	r := runGlassbox(t, nil, []string{"/bin/sh", "-c", "touch " + dir + "/.probe"})
	if r.Code != 0 {
		t.Skip("host directories under /tmp are not writable in the sandbox: " + strings.TrimSpace(r.Stderr))
	}
}

// TestOverlayCopyUp: overlayC behaves the same natively and under
// glassbox, each on its own copy of one host tree; glassbox's copy is
// unchanged on the host afterwards.
func TestOverlayCopyUp(t *testing.T) {
	t.Parallel()
	prog := compileC(t, "overlay", overlayC)
	base := t.TempDir()
	nat, gb := filepath.Join(base, "native"), filepath.Join(base, "gb")
	makeOverlayTree(t, nat)
	makeOverlayTree(t, gb)
	requireWritableHostDir(t, base)
	before := treeState(t, gb)
	native := runNative(t, []string{prog, nat})
	got := runGlassbox(t, nil, []string{prog, gb})
	if native.Stdout != got.Stdout || native.Code != got.Code {
		t.Errorf("glassbox differs from native\n===== native: %s\n===== glassbox: %s", native, got)
	}
	for _, want := range []string{"cat f: [hello\nworld\n]", "f same inode: 1", "sub/g mtime kept: 1, sub mtime kept: 1",
		"list sub/deep: . ..\n", "cat m: [MAPPE", "g2 same inode: 1 nlink 2"} {
		if !strings.Contains(native.Stdout, want) {
			t.Errorf("native output lacks %q:\n%s", want, native.Stdout)
		}
	}
	if after := treeState(t, gb); after != before {
		t.Errorf("glassbox changed the host tree:\nbefore:\n%s\nafter:\n%s", before, after)
	}
}

// TestOverlayShell: tools that rewrite files in place (sed -i), move
// lower directories (EXDEV inside glassbox, so mv copies) and remove
// trees, on a copy of a host tree.
func TestOverlayShell(t *testing.T) {
	t.Parallel()
	base := t.TempDir()
	nat, gb := filepath.Join(base, "native"), filepath.Join(base, "gb")
	makeOverlayTree(t, nat)
	makeOverlayTree(t, gb)
	requireWritableHostDir(t, base)
	before := treeState(t, gb)
	script := `cd "$1" && sed -i s/hello/bye/ f && cat f && mv sub sub2 && ls -R . && cat sub2/deep/h &&
cp -r sub2 sub3 && rm -r sub2 && ls && find . | sort && echo done`
	native := runNative(t, []string{"/bin/sh", "-c", script, "sh", nat})
	got := runGlassbox(t, nil, []string{"/bin/sh", "-c", script, "sh", gb})
	if native.Stdout != got.Stdout || native.Code != got.Code || !strings.HasSuffix(native.Stdout, "done\n") {
		t.Errorf("glassbox differs from native\n===== native: %s\n===== glassbox: %s", native, got)
	}
	if after := treeState(t, gb); after != before {
		t.Errorf("glassbox changed the host tree:\nbefore:\n%s\nafter:\n%s", before, after)
	}
}

// TestOverlayGlassboxOnly: inside the sandbox, / is writable: a file made
// in /etc is there for the rest of the run (a second command sees it) but
// never on the host, nor in the next sandbox. Asserted on glassbox alone:
// natively it would write the host's /etc.
func TestOverlayGlassboxOnly(t *testing.T) {
	t.Parallel()
	requireOverlayRoot(t)
	watch := []string{"/etc/glassbox-test-file", "/etc/passwd", "/usr/local/gbtest"}
	state := func() string {
		var b strings.Builder
		for _, p := range watch {
			data, err := os.ReadFile(p)
			fmt.Fprintf(&b, "%s %x %v\n", p, sha256.Sum256(data), err)
		}
		return b.String()
	}
	before := state()
	if _, err := os.Lstat("/etc/glassbox-test-file"); err == nil {
		t.Fatalf("the host has /etc/glassbox-test-file; remove it")
	}
	r := runGlassbox(t, nil, []string{"/bin/sh", "-c", `echo x > /etc/glassbox-test-file; cat /etc/glassbox-test-file
echo 'gbuser:x:4242:4242::/:/bin/sh' >> /etc/passwd && grep -c gbuser /etc/passwd
mkdir -p /usr/local/gbtest/a && echo y > /usr/local/gbtest/a/b && cat /usr/local/gbtest/a/b
rm -r /usr/local/gbtest && ls /usr/local/gbtest 2>/dev/null || echo gone
rm /etc/glassbox-test-file && cat /etc/glassbox-test-file 2>/dev/null || echo removed`})
	expect(t, "glassbox writes in /etc and /usr", r, "x\n1\ny\ngone\nremoved\n", 0)
	r = runGlassbox(t, nil, []string{"/bin/sh", "-c", "echo x > /etc/glassbox-test-file"})
	expect(t, "first sandbox", r, "", 0)
	r = runGlassbox(t, nil, []string{"/bin/sh", "-c", "cat /etc/glassbox-test-file 2>/dev/null || echo absent"})
	expect(t, "a fresh sandbox", r, "absent\n", 0)
	if after := state(); after != before {
		t.Errorf("the host changed:\nbefore:\n%s\nafter:\n%s", before, after)
	}
}
