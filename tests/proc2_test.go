package tests

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

const forkExec200C = `
#include <stdio.h>
#include <unistd.h>
#include <sys/wait.h>
int main(void) {
	int ok = 0;
	for (int i = 0; i < 200; i++) {
		pid_t p = fork();
		if (p == 0) { execl("/bin/echo", "echo", "-n", "", (char *)0); _exit(99); }
		int st; waitpid(p, &st, 0);
		if (WIFEXITED(st) && WEXITSTATUS(st) == 0) ok++;
	}
	printf("ok=%d\n", ok);
	return 0;
}
`

const orphanC = `
#include <stdio.h>
#include <unistd.h>
#include <sys/wait.h>
int main(void) {
	int p[2]; pipe(p);
	pid_t mid = fork();
	if (mid == 0) {
		if (fork() == 0) { close(p[0]); sleep(1); printf("orphan ppid=%d\n", getppid()); fflush(stdout); _exit(0); }
		_exit(0); /* the grandchild is orphaned and goes to pid 1 */
	}
	waitpid(mid, 0, 0);
	close(p[1]);
	char c; read(p[0], &c, 1); /* EOF once the orphan exits */
	int st; pid_t r = wait(&st);
	printf("init reaped orphan=%d\n", r > 0 && WIFEXITED(st));
	return 0;
}
`

const emfileC = `
#include <stdio.h>
#include <unistd.h>
#include <fcntl.h>
#include <errno.h>
#include <sys/resource.h>
int main(void) {
	for (int i = 3; i < 1024; i++) close(i); /* whatever the runner passed down */
	struct rlimit r = {64, 64}; setrlimit(RLIMIT_NOFILE, &r);
	int n = 0, fd;
	while ((fd = open("/dev/null", O_RDONLY)) >= 0) n++;
	printf("opened=%d errno=%s\n", n, errno == EMFILE ? "EMFILE" : "?");
	int d = dup2(0, 64);
	printf("dup over limit: %d %s\n", d, errno == EBADF ? "EBADF" : "?");
	return 0;
}
`

const fifoPingC = `
#include <stdio.h>
#include <unistd.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
int main(void) {
	char dir[] = "/tmp/gbfifoXXXXXX"; mkdtemp(dir);
	char a[64], b[64]; snprintf(a, 64, "%s/a", dir); snprintf(b, 64, "%s/b", dir);
	mkfifo(a, 0600); mkfifo(b, 0600);
	if (fork() == 0) {
		int in = open(a, O_RDONLY), out = open(b, O_WRONLY), v;
		while (read(in, &v, 4) == 4) { v++; write(out, &v, 4); }
		_exit(0);
	}
	int out = open(a, O_WRONLY), in = open(b, O_RDONLY), v = 0;
	for (int i = 0; i < 1000; i++) { write(out, &v, 4); read(in, &v, 4); v++; }
	close(out); wait(0);
	printf("v=%d\n", v);
	unlink(a); unlink(b); rmdir(dir);
	return 0;
}
`

// TestProcessesMore: fork/exec/wait of /bin/echo 200 times, an orphan
// reparented to and reaped by pid 1 (natively: by the test's subreaper-less
// init, so only the reaped flag is compared), EMFILE at RLIMIT_NOFILE, and
// a FIFO ping-pong between two processes.
func TestProcessesMore(t *testing.T) {
	t.Parallel()
	diff(t, []string{compileC(t, "forkexec200", forkExec200C, "-dynamic")})
	diff(t, []string{compileC(t, "emfile", emfileC, "-dynamic")})
	diff(t, []string{compileC(t, "fifoping", fifoPingC, "-dynamic")})
	// Inside glassbox the orphan's new parent is pid 1, the program itself.
	gb := runGlassbox(t, nil, []string{compileC(t, "orphan", orphanC, "-dynamic")})
	expect(t, "glassbox", gb, "orphan ppid=1\ninit reaped orphan=1\n", 0)
}

// TestPipeline5: five processes in a pipeline.
func TestPipeline5(t *testing.T) {
	t.Parallel()
	diff(t, []string{"/bin/sh", "-c", "seq 1 5000 | grep 7 | sort -r | head -n 20 | wc -l; sh -c 'exit 7'; echo $?"})
}

// TestDynamicLinking: a library found through -rpath, the same library
// overridden by LD_LIBRARY_PATH, and a #! script with an argument.
func TestDynamicLinking(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for _, v := range []struct{ sub, msg string }{{"rpath", "from rpath"}, {"override", "from LD_LIBRARY_PATH"}} {
		d := filepath.Join(dir, v.sub)
		os.MkdirAll(d, 0o755)
		src := filepath.Join(d, "lib.c")
		os.WriteFile(src, []byte(`const char *msg(void) { return "`+v.msg+`"; }`), 0o644)
		if out, err := exec.Command("gcc", "-shared", "-fPIC", "-o", filepath.Join(d, "libgbmsg.so"), src).CombinedOutput(); err != nil {
			t.Fatalf("gcc: %v\n%s", err, out)
		}
	}
	prog := filepath.Join(dir, "useslib")
	main := filepath.Join(dir, "main.c")
	os.WriteFile(main, []byte(`#include <stdio.h>
const char *msg(void);
int main(void) { puts(msg()); return 0; }`), 0o644)
	if out, err := exec.Command("gcc", "-o", prog, main, "-L"+filepath.Join(dir, "rpath"), "-lgbmsg",
		"-Wl,-rpath,"+filepath.Join(dir, "rpath")).CombinedOutput(); err != nil {
		t.Fatalf("gcc: %v\n%s", err, out)
	}
	native, _ := diff(t, []string{prog})
	expect(t, "native", native, "from rpath\n", 0)
	native, _ = diffWith(t, diffOpts{env: []string{"LD_LIBRARY_PATH=" + filepath.Join(dir, "override")}}, []string{prog})
	expect(t, "native", native, "from LD_LIBRARY_PATH\n", 0)
	script := filepath.Join(dir, "script")
	os.WriteFile(script, []byte("#!/bin/sh -e\necho script args: \"$@\"\nfalse\necho not reached\n"), 0o755)
	diff(t, []string{script, "a", "b c"})
}
