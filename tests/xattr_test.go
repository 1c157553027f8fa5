package tests

import "testing"

// xattrC exercises the extended attribute calls on a file, a directory,
// a symlink and a pipe in a fresh directory under /tmp (the host's ext4
// natively, glassbox' tmpfs inside): the flags, the namespaces' rules,
// the size protocol and the errnos of fs/xattr.c.
const xattrC = `
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

static void show(const char *what, long r) {
	if (r < 0) printf("%s: %s\n", what, strerrorname_np(errno));
	else printf("%s: %ld\n", what, r);
}

/* The names, sorted (file systems list them in their own order). */
static void list(const char *what, long n, char *buf) {
	if (n < 0) { show(what, n); return; }
	char *names[300]; int k = 0;
	for (char *p = buf; p < buf + n; p += strlen(p) + 1) names[k++] = p;
	for (int i = 1; i < k; i++)
		for (int j = i; j > 0 && strcmp(names[j-1], names[j]) > 0; j--) {
			char *t = names[j]; names[j] = names[j-1]; names[j-1] = t;
		}
	printf("%s: %ld [", what, n);
	for (int i = 0; i < k; i++) printf("%s%s", i ? " " : "", names[i]);
	printf("]\n");
}

int main(void) {
	char dir[] = "/tmp/gbxattrXXXXXX";
	if (!mkdtemp(dir) || chdir(dir)) { perror("mkdtemp"); return 1; }
	close(open("f", O_CREAT | O_WRONLY, 0644));
	mkdir("d", 0755);
	symlink("f", "l");
	char buf[8192], big[70000], name[300];
	long r;

	show("get absent", getxattr("f", "user.test", buf, sizeof buf));
	show("list empty", listxattr("f", NULL, 0));
	show("set empty value", setxattr("f", "user.test", "", 0, 0));
	show("get empty value", getxattr("f", "user.test", buf, sizeof buf));
	show("replace", setxattr("f", "user.test", "hello", 5, XATTR_REPLACE));
	r = getxattr("f", "user.test", buf, sizeof buf);
	show("get", r); if (r > 0) printf("  = %.*s\n", (int)r, buf);
	show("get size", getxattr("f", "user.test", NULL, 0));
	show("get short buffer", getxattr("f", "user.test", buf, 3));
	show("create existing", setxattr("f", "user.test", "bye", 3, XATTR_CREATE));
	show("replace absent", setxattr("f", "user.test2", "bye", 3, XATTR_REPLACE));
	show("create", setxattr("f", "user.test2", "foo", 3, XATTR_CREATE));
	show("bad flags", setxattr("f", "user.test3", "x", 1, 4));
	list("list", listxattr("f", buf, sizeof buf), buf);
	show("list size", listxattr("f", NULL, 0));
	show("list short buffer", listxattr("f", buf, 5));
	show("remove", removexattr("f", "user.test"));
	show("remove absent", removexattr("f", "user.test"));
	show("get removed", getxattr("f", "user.test", buf, sizeof buf));
	memset(big, 'a', sizeof big);
	show("set 1 KiB", setxattr("f", "user.big", big, 1024, 0));
	show("get 1 KiB", getxattr("f", "user.big", big, sizeof big));
	show("set too big", setxattr("f", "user.big", big, 65537, 0));
	show("remove 1 KiB", removexattr("f", "user.big"));
	for (int i = 0; i < 100; i++) {
		snprintf(name, sizeof name, "user.test%d", i);
		if (setxattr("f", name, "x", 1, 0)) { show(name, -1); break; }
	}
	list("list 101", listxattr("f", buf, sizeof buf), buf);

	/* Names. */
	show("empty name", getxattr("f", "", buf, sizeof buf));
	memset(name, 'n', 260); memcpy(name, "user.", 5); name[255] = 0;
	show("name 255", setxattr("f", name, "x", 1, 0));
	name[255] = 'n'; name[256] = 0;
	show("name 256", getxattr("f", name, buf, sizeof buf));
	show("name 256 set", setxattr("f", name, "x", 1, 0));
	show("prefix only", getxattr("f", "user.", buf, sizeof buf));
	show("prefix only set", setxattr("f", "user.", "x", 1, 0));
	show("unknown namespace", getxattr("f", "foo.bar", buf, sizeof buf));
	show("unknown namespace set", setxattr("f", "foo.bar", "x", 1, 0));
	show("no namespace", setxattr("f", "plain", "x", 1, 0));
	show("bad name pointer", getxattr("f", (char *)8, buf, sizeof buf));
	show("bad value pointer", setxattr("f", "user.v", (char *)8, 4, 0));
	show("bad list buffer", listxattr("f", (char *)8, sizeof buf));
	show("bad get buffer", getxattr("f", "user.test2", (char *)8, 10));
	show("bad path", getxattr((char *)8, "user.test2", buf, sizeof buf));
	show("missing path", getxattr("nope", "user.test2", buf, sizeof buf));
	show("missing path, bad name", getxattr("nope", "", buf, sizeof buf));
	show("missing path, bad flags", setxattr("nope", "user.x", "x", 1, 8));
	show("trailing slash", getxattr("f/", "user.test2", buf, sizeof buf));

	/* Directories, symlinks, descriptors. */
	show("dir set", setxattr("d", "user.dir", "1", 1, 0));
	list("dir list", listxattr("d", buf, sizeof buf), buf);
	show("lset on symlink", lsetxattr("l", "user.x", "1", 1, 0));
	show("lget on symlink", lgetxattr("l", "user.test2", buf, sizeof buf));
	show("get through symlink", getxattr("l", "user.test2", buf, sizeof buf));
	list("llist on symlink", llistxattr("l", buf, sizeof buf), buf);
	int fd = open("f", O_RDONLY);
	show("fget", fgetxattr(fd, "user.test2", buf, sizeof buf));
	show("fset read-only fd", fsetxattr(fd, "user.fd", "1", 1, 0));
	show("fremove", fremovexattr(fd, "user.fd"));
	close(fd);
	fd = open("f", O_PATH);
	show("fget O_PATH", fgetxattr(fd, "user.test2", buf, sizeof buf));
	show("flist O_PATH", flistxattr(fd, buf, sizeof buf));
	close(fd);
	show("fget closed", fgetxattr(fd, "user.test2", buf, sizeof buf));
	show("fget closed, bad name", fgetxattr(fd, "", buf, sizeof buf));
	show("fset closed, bad flags", fsetxattr(fd, "user.x", "1", 1, 8));
	show("fremove closed, bad name", fremovexattr(fd, ""));
	show("flist closed", flistxattr(fd, buf, sizeof buf));
	int p[2]; pipe(p);
	show("pipe get user", fgetxattr(p[0], "user.x", buf, sizeof buf));
	show("pipe set user", fsetxattr(p[1], "user.x", "1", 1, 0));
	show("pipe list", flistxattr(p[0], buf, sizeof buf));
	show("proc get", getxattr("/proc/self/status", "user.x", buf, sizeof buf));
	show("proc set", setxattr("/proc/self/status", "user.x", "1", 1, 0));
	show("proc list", listxattr("/proc/self/status", buf, sizeof buf));

	/* Not the owner, no write permission: uid 65534. */
	chmod("f", 0644);
	chmod(".", 0755);
	fflush(stdout);
	if (fork() == 0) {
		if (setuid(65534)) { perror("setuid"); _exit(1); }
		show("other: get", getxattr("f", "user.test2", buf, sizeof buf));
		show("other: set", setxattr("f", "user.test2", "x", 1, 0));
		show("other: remove", removexattr("f", "user.test2"));
		show("other: get trusted", getxattr("f", "trusted.t", buf, sizeof buf));
		show("other: set trusted", setxattr("f", "trusted.t", "x", 1, 0));
		list("other: list", listxattr("f", buf, sizeof buf), buf);
		fflush(stdout);
		_exit(0);
	}
	wait(NULL);
	show("root: set trusted", setxattr("f", "trusted.t", "x", 1, 0));
	show("root: get trusted", getxattr("f", "trusted.t", buf, sizeof buf));
	show("root: set security", setxattr("f", "security.gbtest", "x", 1, 0));
	list("root: list", listxattr("f", buf, sizeof buf), buf);
	fflush(stdout);
	if (fork() == 0) {
		if (setuid(65534)) { perror("setuid"); _exit(1); }
		list("other: list without trusted", listxattr("f", buf, sizeof buf), buf);
		show("other: get security", getxattr("f", "security.gbtest", buf, sizeof buf));
		fflush(stdout);
		_exit(0);
	}
	wait(NULL);

	unlink("l"); unlink("f"); rmdir("d"); chdir("/"); rmdir(dir);
	return 0;
}
`

func TestXattr(t *testing.T) {
	diff(t, []string{compileC(t, "xattr", xattrC)})
}
