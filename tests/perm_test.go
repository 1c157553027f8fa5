package tests

import "testing"

const permMatrixC = `
#include <stdio.h>
#include <fcntl.h>
#include <unistd.h>
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
static void r(const char *what, int v) { printf("%-28s %s\n", what, v < 0 ? strerror(errno) : "ok"); }
int main(int argc, char **argv) {
	if (chdir(argv[1])) return 1;
	printf("uid=%d euid=%d\n", getuid(), geteuid());
	const char *files[] = {"f000", "f400", "f600", "f644", "f666", "f755"};
	for (int i = 0; i < 6; i++) {
		char w[64];
		snprintf(w, 64, "read %s", files[i]); int fd = open(files[i], O_RDONLY); r(w, fd); if (fd >= 0) close(fd);
		snprintf(w, 64, "write %s", files[i]); fd = open(files[i], O_WRONLY); r(w, fd); if (fd >= 0) close(fd);
		snprintf(w, 64, "access X %s", files[i]); r(w, access(files[i], X_OK));
	}
	r("create in d555", open("d555/new", O_CREAT | O_WRONLY, 0644));
	r("create in d777", open("d777/new", O_CREAT | O_WRONLY, 0644));
	r("list d111", open("d111", O_RDONLY | O_DIRECTORY));
	r("open through d111", open("d111/inner", O_RDONLY));
	r("chdir d600", chdir("d600"));
	r("unlink root file in sticky", unlink("sticky/rootfile"));
	r("create in sticky", open("sticky/mine", O_CREAT | O_WRONLY, 0600));
	r("unlink own file in sticky", unlink("sticky/mine"));
	r("rename into d555", rename("d777/new", "d555/new"));
	r("chmod root's file", chmod("f666", 0777));
	r("exec f644", execl("./f644", "f644", (char *)0));
	return 0;
}
`

// TestPermissionMatrix: as uid 1000 (setpriv inside the sandbox, as
// natively), the mode bits of files and directories decide open, create,
// exec, search and listing; the sticky bit protects root's file; a setuid
// root copy of id gives euid 0.
func TestPermissionMatrix(t *testing.T) {
	t.Parallel()
	prog := compileC(t, "permmatrix", permMatrixC, "-dynamic")
	script := `set -e; d=$(mktemp -d); chmod 755 $d; cd $d
for m in 000 400 600 644 666 755; do echo x > f$m; chmod $m f$m; done
mkdir d555 d777 d111 d600 sticky; mkdir d111/inner
chmod 555 d555; chmod 777 d777; chmod 111 d111; chmod 600 d600; chmod 1777 sticky
echo r > sticky/rootfile; chmod 666 sticky/rootfile
cp /usr/bin/id idsu; chmod 4755 idsu
set +e
setpriv --reuid 1000 --regid 1000 --clear-groups ` + prog + ` $d
setpriv --reuid 1000 --regid 1000 --clear-groups ./idsu
cd /; rm -rf $d`
	diff(t, []string{"/bin/sh", "-c", script})
}
