package tests

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const escape2C = `
#include <stdio.h>
#include <fcntl.h>
#include <unistd.h>
#include <errno.h>
#include <string.h>
#include <stdlib.h>
static void r(const char *what, int v) { printf("%s: %s\n", what, v < 0 ? strerror(errno) : "ok"); }
int main(int argc, char **argv) {
	char buf[256];
	/* /proc/self/root and /proc/1/cwd lead to the sandbox's root. */
	ssize_t n = readlink("/proc/self/root", buf, sizeof buf - 1); buf[n > 0 ? n : 0] = 0;
	printf("root link: %s\n", buf);
	r("open marker via /proc/self/root", open(argv[1], O_RDONLY) < 0 ? -1 : 0);
	/* A directory fd plus ".." never rises above the root. */
	int d = open("/", O_RDONLY | O_DIRECTORY);
	int up = openat(d, "../../..", O_RDONLY | O_DIRECTORY);
	char p1[64], p2[64];
	snprintf(p1, 64, "/proc/self/fd/%d", up);
	n = readlink(p1, p2, sizeof p2 - 1); p2[n > 0 ? n : 0] = 0;
	printf("dirfd/../../..: %s\n", p2);
	/* Symlink loops and over-long paths. */
	char dir[] = "/tmp/gbloopXXXXXX"; mkdtemp(dir); chdir(dir);
	symlink("a", "b"); symlink("b", "a");
	r("open symlink loop", open("a", O_RDONLY));
	char *longp = malloc(5000); memset(longp, 'x', 4999); longp[0] = '/'; longp[4999] = 0;
	r("open 5000-byte path", open(longp, O_RDONLY));
	/* An unlinked file's data through /proc/self/fd. */
	int fd = open("victim", O_CREAT | O_RDWR, 0600); write(fd, "recovered data", 14);
	unlink("victim");
	snprintf(p1, 64, "/proc/self/fd/%d", fd);
	int again = open(p1, O_RDONLY);
	memset(buf, 0, sizeof buf); read(again, buf, sizeof buf - 1);
	printf("through /proc after unlink: %s\n", buf);
	n = readlink(p1, p2, sizeof p2 - 1); p2[n > 0 ? n : 0] = 0;
	printf("link says deleted: %d\n", strstr(p2, "(deleted)") != NULL);
	unlink("a"); unlink("b"); chdir("/"); rmdir(dir);
	return 0;
}
`

// TestEscapesAndProcFD: /proc/self/root names the sandbox's root and
// leads to the same files; a directory fd plus ".." stops at the root;
// symlink loops give ELOOP and 5000-byte paths ENAMETOOLONG; an unlinked
// file is recovered through /proc/self/fd, whose link says "(deleted)".
func TestEscapesAndProcFD(t *testing.T) {
	t.Parallel()
	prog := compileC(t, "escape2", escape2C, "-dynamic")
	marker := filepath.Join(t.TempDir(), "marker")
	os.WriteFile(marker, []byte("m"), 0o644)
	native, gb := diff(t, []string{prog, "/proc/self/root" + marker})
	for _, want := range []string{"root link: /\n", "dirfd/../../..: /\n", "open symlink loop: Too many levels of symbolic links\n",
		"open 5000-byte path: File name too long\n", "through /proc after unlink: recovered data\n", "link says deleted: 1\n"} {
		if !strings.Contains(native.Stdout, want) || !strings.Contains(gb.Stdout, want) {
			t.Errorf("want %q on both sides", want)
		}
	}
}
