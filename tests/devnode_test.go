package tests

import (
	"os"
	"strings"
	"testing"
)

// devnodeSrc makes device nodes with mknod(2) in the directory argv[1]
// and uses them: a node for a memory device opens that device, a number
// with no driver is ENXIO, stat shows the type and number, and a user
// without CAP_MKNOD gets EPERM.
const devnodeSrc = `#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>
static const char *dir;
static char path[4096];
static const char *at(const char *name) { snprintf(path, sizeof path, "%s/%s", dir, name); return path; }
static void show(const char *what, long r) {
	if (r < 0) printf("%s: -1 %s\n", what, strerrorname_np(errno));
	else printf("%s: %ld\n", what, r);
}
int main(int argc, char **argv) {
	dir = argv[1];
	show("mknod null", mknod(at("null"), S_IFCHR | 0666, makedev(1, 3)));
	show("mknod zero", mknod(at("zero"), S_IFCHR | 0600, makedev(1, 5)));
	show("mknod full", mknod(at("full"), S_IFCHR | 0600, makedev(1, 7)));
	show("mknod nodriver", mknod(at("nodriver"), S_IFCHR | 0600, makedev(42, 0)));
	show("mknod block", mknod(at("block"), S_IFBLK | 0600, makedev(7, 200)));
	show("mknod again", mknod(at("null"), S_IFCHR | 0666, makedev(1, 3)));
	struct stat st;
	stat(at("null"), &st);
	printf("null: chr %d rdev %u:%u mode %o\n", S_ISCHR(st.st_mode), major(st.st_rdev), minor(st.st_rdev), st.st_mode & 07777);
	stat(at("block"), &st);
	printf("block: blk %d rdev %u:%u\n", S_ISBLK(st.st_mode), major(st.st_rdev), minor(st.st_rdev));
	int fd = open(at("null"), O_RDWR);
	show("write null", write(fd, "abc", 3));
	char b[8] = "xxxxxxx";
	show("read null", read(fd, b, sizeof b));
	fstat(fd, &st);
	printf("fstat null: rdev %u:%u\n", major(st.st_rdev), minor(st.st_rdev));
	close(fd);
	fd = open(at("zero"), O_RDONLY);
	show("read zero", read(fd, b, 4));
	printf("zeros: %d\n", b[0] == 0 && b[3] == 0);
	close(fd);
	fd = open(at("full"), O_WRONLY);
	show("write full", write(fd, "x", 1));
	close(fd);
	show("open nodriver", open(at("nodriver"), O_RDONLY));
	fflush(stdout);
	pid_t p = fork();
	if (p == 0) {
		setgid(1000); setuid(1000);
		show("mknod as uid 1000", mknod(at("user"), S_IFCHR | 0600, makedev(1, 3)));
		show("mkfifo as uid 1000", mknod(at("fifo"), S_IFIFO | 0600, 0));
		fflush(stdout);
		_exit(0);
	}
	waitpid(p, 0, 0);
	const char *names[] = {"null", "zero", "full", "nodriver", "block", "fifo"};
	for (int i = 0; i < 6; i++) unlink(at(names[i]));
	return 0;
}
`

// TestDeviceNodes: root makes device nodes as on Linux; a node opens
// glassbox' own device of that number (never a host device), and a
// number without a driver is ENXIO.
func TestDeviceNodes(t *testing.T) {
	t.Parallel()
	bin := compileC(t, "devnode", devnodeSrc)
	dir, err := os.MkdirTemp("", "devnode")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	if err := os.Chmod(dir, 0o777); err != nil { // uid 1000 writes there too
		t.Fatal(err)
	}
	native, _ := diff(t, []string{bin, dir})
	for _, want := range []string{"mknod null: 0", "null: chr 1 rdev 1:3", "write full: -1 ENOSPC", "open nodriver: -1 ENXIO",
		"mknod as uid 1000: -1 EPERM"} {
		if !strings.Contains(native.Stdout, want) {
			t.Errorf("native run lacks %q:\n%s", want, native.Stdout)
		}
	}
}
