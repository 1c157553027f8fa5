package tests

import (
	"os/exec"
	"testing"
)

// mqueueFSC mounts an mqueue file system and uses it beside mq_open: the
// listing, a queue's status line and stat, a queue created by open(2),
// unlink, and the operations the file system refuses.
const mqueueFSC = `#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <mqueue.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

static void show(const char *what, long r) {
	printf("%s: %ld%s%s\n", what, r, r < 0 ? " " : "", r < 0 ? strerror(errno) : "");
}

static void list(const char *d) {
	DIR *dp = opendir(d);
	struct dirent *e;
	printf("ls:");
	while (dp && (e = readdir(dp)))
		if (e->d_name[0] != '.')
			printf(" %s(%s)", e->d_name, e->d_type == DT_REG ? "reg" : "?");
	printf("\n");
	if (dp)
		closedir(dp);
}

static void cat(const char *p) {
	char buf[256] = "";
	int fd = open(p, O_RDONLY);
	int n = fd >= 0 ? read(fd, buf, sizeof buf - 1) : -1;
	printf("cat %s: %s", p, n > 0 ? buf : "(nothing)\n");
	if (fd >= 0)
		close(fd);
}

int main(void) {
	const char *d = "/tmp/mqfs-test";
	mkdir(d, 0755);
	show("mount mqueue", mount("none", d, "mqueue", 0, NULL));
	struct stat st;
	stat(d, &st);
	printf("root mode %o\n", st.st_mode);
	umask(022);
	mqd_t q = mq_open("/gbq1", O_CREAT | O_RDWR, 0640, NULL);
	show("mq_open", q >= 0 ? 0 : -1);
	mq_send(q, "hello", 5, 3);
	list(d);
	cat("/tmp/mqfs-test/gbq1");
	stat("/tmp/mqfs-test/gbq1", &st);
	printf("queue mode %o size %ld nlink %ld\n", st.st_mode, (long)st.st_size, (long)st.st_nlink);
	// A file made in the file system is a queue mq_open finds.
	int fd = open("/tmp/mqfs-test/gbq2", O_CREAT | O_RDWR | O_EXCL, 0600);
	show("open O_CREAT", fd >= 0 ? 0 : -1);
	struct mq_attr a;
	mqd_t q2 = mq_open("/gbq2", O_RDWR);
	mq_getattr(q2, &a);
	printf("gbq2 attr: maxmsg %ld msgsize %ld\n", a.mq_maxmsg, a.mq_msgsize);
	show("mq_send on the fs's descriptor", mq_send(fd, "x", 1, 0));
	cat("/tmp/mqfs-test/gbq2");
	show("write to a queue file", write(fd, "y", 1));
	show("mkdir in mqueue", mkdir("/tmp/mqfs-test/sub", 0755));
	show("symlink in mqueue", symlink("x", "/tmp/mqfs-test/l"));
	show("rename a queue", rename("/tmp/mqfs-test/gbq2", "/tmp/mqfs-test/gbq3"));
	show("rmdir a queue", rmdir("/tmp/mqfs-test/gbq2"));
	show("unlink", unlink("/tmp/mqfs-test/gbq1"));
	show("mq_open unlinked", mq_open("/gbq1", O_RDWR));
	list(d);
	show("mq_unlink gbq2", mq_unlink("/gbq2"));
	list(d);
	close(fd);
	show("umount", umount(d));
	rmdir(d);
	return 0;
}
`

// TestMQueueFS: mount -t mqueue shows the IPC namespace's POSIX message
// queues as files, as Linux's mqueue file system does (as root and, in a
// user namespace, as uid 1000).
func TestMQueueFS(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("unshare"); err != nil {
		t.Skip("unshare not installed (apt-get install util-linux)")
	}
	bin := compileC(t, "mqueuefs", mqueueFSC)
	diff(t, []string{"unshare", "-mi", bin})
	argv := []string{"unshare", "-Urmi", bin}
	native := runNative(t, append(append([]string{}, asUser...), argv...))
	gb := runGlassbox(t, userFlags, argv)
	if native.Stdout != gb.Stdout || native.Code != gb.Code {
		t.Errorf("as uid 1000: glassbox differs from native\n===== native: %s\n===== glassbox: %s", native, gb)
	}
}
