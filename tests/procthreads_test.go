package tests

import "testing"

// procThreadsC reads a second thread's files while it sleeps in read():
// /proc/TID (not listed in /proc, but it opens and shows that thread) and
// /proc/PID/task/TID, each with the thread's own Pid and State.
const procThreadsC = `#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
static int tid, fds[2];
static void *run(void *a) {
	char c;
	tid = syscall(SYS_gettid);
	read(fds[0], &c, 1);
	return 0;
}
static void show(const char *what, const char *path, int pid) {
	char buf[8192];
	int fd = open(path, O_RDONLY);
	if (fd < 0) {
		printf("%s: cannot open\n", what);
		return;
	}
	int n = read(fd, buf, sizeof buf - 1);
	close(fd);
	buf[n > 0 ? n : 0] = 0;
	for (char *l = strtok(buf, "\n"); l; l = strtok(0, "\n")) {
		if (!strncmp(l, "State:", 6) || !strncmp(l, "Threads:", 8))
			printf("%s: %s\n", what, l);
		if (!strncmp(l, "Pid:", 4))
			printf("%s: Pid is the thread's %d\n", what, atoi(l + 4) == tid);
		if (!strncmp(l, "Tgid:", 5))
			printf("%s: Tgid is the process's %d\n", what, atoi(l + 5) == pid);
	}
}
int main(void) {
	pthread_t t;
	pipe(fds);
	pthread_create(&t, 0, run, 0);
	struct timespec ts = {0, 200000000};
	nanosleep(&ts, 0); /* the thread is asleep in read() by now */
	int pid = getpid();
	char p[64];
	snprintf(p, sizeof p, "/proc/%d/status", tid);
	show("/proc/TID/status", p, pid);
	snprintf(p, sizeof p, "/proc/%d/task/%d/status", pid, tid);
	show("task/TID/status", p, pid);
	snprintf(p, sizeof p, "/proc/%d/task/%d/status", pid, pid);
	show("task/PID/status", p, pid);
	snprintf(p, sizeof p, "/proc/%d/stat", tid);
	FILE *f = fopen(p, "r");
	int first = 0;
	char state = '?';
	if (f && fscanf(f, "%d %*s %c", &first, &state) == 2)
		printf("/proc/TID/stat: first field is the tid %d, state %c\n", first == tid, state);
	if (f)
		fclose(f);
	int listed = 0;
	DIR *d = opendir("/proc");
	for (struct dirent *e; d && (e = readdir(d));)
		listed |= atoi(e->d_name) == tid;
	printf("/proc lists the tid: %d\n", listed);
	snprintf(p, sizeof p, "/proc/%d/task/%d", tid + 100000, tid);
	printf("a pid that is not: %s\n", access(p, F_OK) == 0 ? "exists" : "ENOENT");
	write(fds[1], "x", 1);
	pthread_join(t, 0);
	return 0;
}
`

// TestProcThreads: /proc/TID and /proc/PID/task/TID show the thread
// itself, as Linux does (gdb reads /proc/LWP/status for each thread).
func TestProcThreads(t *testing.T) {
	t.Parallel()
	prog := compileC(t, "procthreads", procThreadsC, "-pthread")
	diff(t, []string{prog})
}
