package tests

import "testing"

// TestShellPipelines: the processes issue's commands, with the host's own
// dynamically linked shells and coreutils, match native output and status.
func TestShellPipelines(t *testing.T) {
	t.Parallel()
	for _, argv := range [][]string{
		{"/bin/sh", "-c", "ls -l /usr/bin | wc -l; echo status=$?"},
		{"/bin/bash", "-c", "for i in 1 2 3; do echo $i; done | tac"},
		// yes must die of SIGPIPE when head is done.
		{"/bin/bash", "-c", "yes | head -n 3; echo ${PIPESTATUS[@]}"},
		{"/bin/sh", "-c", "cd $(mktemp -d) && echo hi > x && cat x && rm x && cd / && echo ok"},
		{"/bin/bash", "-c", "x=$(echo sub); echo $x; (exit 7); echo $?; false || echo or; true && echo and"},
		{"/bin/sh", "-c", "exec 3>&1; echo to3 >&3; echo $$ > /dev/null; cat /etc/hostname | tr a-z A-Z | wc -c"},
		{"/bin/bash", "-c", "sort -r <<< $'b\\na\\nc' | head -2; seq 1 1000 | grep 7 | tail -1"},
	} {
		diff(t, argv)
	}
}

// TestFifoAndSocketFiles: mkfifo makes a FIFO that blocks its opener until
// the other end comes; bind makes a socket file that connect finds and
// unlink removes.
func TestFifoAndSocketFiles(t *testing.T) {
	t.Parallel()
	diff(t, []string{"/bin/bash", "-c", `cd $(mktemp -d); mkfifo f; stat -c '%F %a' f; (sleep 0.1; echo through fifo > f) & cat f; wait;` +
		`python3 -c "
import socket,os,stat
s=socket.socket(socket.AF_UNIX); s.bind('sock'); s.listen()
print(stat.S_ISSOCK(os.stat('sock').st_mode))
c=socket.socket(socket.AF_UNIX); c.connect('sock'); a,_=s.accept(); c.send(b'hi'); print(a.recv(2)); os.unlink('sock'); print(os.path.exists('sock'))"; rm f; cd /; rmdir $OLDPWD`})
}

const fifoIntrC = `#include <stdio.h>
#include <signal.h>
#include <fcntl.h>
#include <unistd.h>
#include <errno.h>
#include <string.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
static void h(int s) {}
int main(void) {
	char dir[] = "/tmp/gbfiXXXXXX"; mkdtemp(dir); chdir(dir); mkfifo("f", 0600);
	struct sigaction sa; memset(&sa, 0, sizeof sa); sa.sa_handler = h; sa.sa_flags = SA_RESTART; sigaction(SIGUSR1, &sa, 0);
	pid_t parent = getpid();
	if (fork() == 0) { usleep(50000); kill(parent, SIGUSR1); usleep(50000); int w = open("f", O_WRONLY); write(w, "ok\n", 3); _exit(0); }
	int r = open("f", O_RDONLY);
	char b[8] = {0}; read(r, b, 7);
	printf("open after SA_RESTART signal: %s", r < 0 ? strerror(errno) : b);
	wait(0); unlink("f"); chdir("/"); rmdir(dir);
	return 0;
}
`

// TestFifoOpenRestart: a FIFO open waiting for its writer, interrupted by
// an SA_RESTART handler, restarts instead of failing with EINTR.
func TestFifoOpenRestart(t *testing.T) {
	t.Parallel()
	prog := compileC(t, "fifointr", fifoIntrC, "-dynamic")
	native, _ := diff(t, []string{prog})
	expect(t, "native", native, "open after SA_RESTART signal: ok\n", 0)
}
