package tests

import (
	"os/exec"
	"testing"
)

// moveMountC moves a tmpfs (with a mount below it) with MS_MOVE and back,
// and tries the moves Linux refuses.
const moveMountC = `#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

static void show(const char *what, long r) {
	printf("%s: %ld%s%s\n", what, r, r < 0 ? " " : "", r < 0 ? strerror(errno) : "");
}

int main(void) {
	setvbuf(stdout, NULL, _IOLBF, 0);
	char base[] = "/tmp/mvmount-XXXXXX";
	mkdtemp(base);
	char a[64], b[64], c[64], f[80], sub[80];
	snprintf(a, sizeof a, "%s/a", base);
	snprintf(b, sizeof b, "%s/b", base);
	snprintf(c, sizeof c, "%s/c", base);
	mkdir(a, 0755), mkdir(b, 0755), mkdir(c, 0755);
	show("mount tmpfs on a", mount("none", a, "tmpfs", 0, "size=1m"));
	snprintf(f, sizeof f, "%s/file", a);
	close(creat(f, 0644));
	snprintf(sub, sizeof sub, "%s/sub", a);
	mkdir(sub, 0755);
	show("mount tmpfs on a/sub", mount("none", sub, "tmpfs", 0, "size=1m"));
	show("move a to b", mount(a, b, NULL, MS_MOVE, NULL));
	struct stat st;
	snprintf(f, sizeof f, "%s/file", b);
	printf("b/file exists: %d\n", stat(f, &st) == 0);
	snprintf(f, sizeof f, "%s/file", a);
	printf("a/file exists: %d\n", stat(f, &st) == 0);
	char cmd[256];
	snprintf(cmd, sizeof cmd, "awk '$5 ~ \"^%s\" {sub(\"%s\", \"\", $5); print $5, $9}' /proc/self/mountinfo", base, base);
	system(cmd);
	show("move a non-mount-point", mount(c, a, NULL, MS_MOVE, NULL));
	snprintf(sub, sizeof sub, "%s/sub", b);
	show("move b below itself", mount(b, sub, NULL, MS_MOVE, NULL));
	show("move / ", mount("/", c, NULL, MS_MOVE, NULL));
	show("move b back to a", mount(b, a, NULL, MS_MOVE, NULL));
	system(cmd);
	snprintf(sub, sizeof sub, "%s/sub", a);
	show("umount a/sub", umount(sub));
	show("umount a", umount(a));
	return 0;
}
`

// TestMoveMount: mount(MS_MOVE) moves a mount and the mounts below it
// (EINVAL for a path that is not a mount's root, ELOOP below itself), as
// on Linux.
func TestMoveMount(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("unshare"); err != nil {
		t.Skip("unshare not installed (apt-get install util-linux)")
	}
	diff(t, []string{"unshare", "-m", "--propagation", "private", compileC(t, "move-mount", moveMountC)})
}
