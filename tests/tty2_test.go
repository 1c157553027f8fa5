package tests

import (
	"testing"
)

// Terminals, continued: a session leader's exit, TIOCGPTPEER and
// /dev/console.

// leaderExitSrc: a session leader with a pty as its controlling terminal
// puts a child's group in the foreground, keeps another child in its own
// (now background) group, and exits. The foreground group gets SIGHUP
// (and, on exit, no SIGCONT); the background one nothing; the session
// has no terminal any more.
const leaderExitSrc = `#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

static volatile sig_atomic_t hup, cont;
static void on(int s) { if (s == SIGHUP) hup++; else cont++; }

static const char *err(int r) { return r < 0 ? strerror(errno) : "ok"; }

static void member(const char *who, int rep, int slave, int ready) {
	struct sigaction sa = {0};
	sa.sa_handler = on;
	sigaction(SIGHUP, &sa, 0);
	sigaction(SIGCONT, &sa, 0);
	write(ready, "r", 1);
	close(ready);
	for (int i = 0; i < 200 && !hup; i++) usleep(10000);
	usleep(200000);
	int t = open("/dev/tty", O_RDWR);
	int te = errno;
	int pg = tcgetpgrp(slave);
	const char *pge = err(pg);
	int sid = tcgetsid(slave);
	dprintf(rep, "%s hup %d cont %d /dev/tty %s tcgetpgrp %s tcgetsid %s\n", who, hup, cont,
		t < 0 ? strerror(te) : "opened", pge, err(sid));
	_exit(0);
}

int main(void) {
	setvbuf(stdout, 0, _IONBF, 0);
	int m = posix_openpt(O_RDWR | O_NOCTTY);
	if (m < 0 || grantpt(m) || unlockpt(m)) { perror("pty"); return 1; }
	char name[64];
	strcpy(name, ptsname(m));
	int rep[2];
	pipe(rep);
	pid_t leader = fork();
	if (leader == 0) {
		close(m);
		close(rep[0]);
		setsid();
		int s = open(name, O_RDWR);
		printf("leader open %s, tcgetsid is self %d\n", err(s), tcgetsid(s) == getpid());
		int ready[2];
		pipe(ready);
		pid_t fg = fork();
		if (fg == 0) {
			close(ready[0]);
			setpgid(0, 0);
			member("fg", rep[1], s, ready[1]);
		}
		setpgid(fg, fg);
		pid_t bg = fork();
		if (bg == 0) {
			close(ready[0]);
			member("bg", rep[1], s, ready[1]);
		}
		close(ready[1]);
		char c;
		read(ready[0], &c, 1);
		read(ready[0], &c, 1);
		printf("tcsetpgrp %s\n", err(tcsetpgrp(s, fg)));
		_exit(0);
	}
	close(rep[1]);
	int st;
	waitpid(leader, &st, 0);
	printf("leader exited %d\n", WEXITSTATUS(st));
	char buf[512], lines[2][256] = {"", ""};
	FILE *f = fdopen(rep[0], "r");
	while (fgets(buf, sizeof buf, f)) strcpy(lines[buf[0] == 'f' ? 0 : 1], buf);
	fputs(lines[0], stdout);
	fputs(lines[1], stdout);
	int pg = -1;
	const char *e = err(ioctl(m, TIOCGPGRP, &pg));
	printf("master TIOCGPGRP %s %d\n", e, pg);
	return 0;
}
`

func TestTTYSessionLeaderExit(t *testing.T) {
	needPty(t)
	bin := compileC(t, "leaderexit", leaderExitSrc)
	native, _ := diff(t, []string{bin})
	expect(t, "native", native, "leader open ok, tcgetsid is self 1\ntcsetpgrp ok\nleader exited 0\n"+
		"fg hup 1 cont 0 /dev/tty No such device or address tcgetpgrp Inappropriate ioctl for device tcgetsid Inappropriate ioctl for device\n"+
		"bg hup 0 cont 0 /dev/tty No such device or address tcgetpgrp Inappropriate ioctl for device tcgetsid Inappropriate ioctl for device\n"+
		"master TIOCGPGRP ok 0\n", 0)
}

// ptPeerSrc opens a pty's slave through TIOCGPTPEER: refused while
// locked, then a working slave with the requested flags.
const ptPeerSrc = `#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#ifndef TIOCGPTPEER
#define TIOCGPTPEER _IO('T', 0x41)
#endif

int main(void) {
	setvbuf(stdout, 0, _IONBF, 0);
	int m = posix_openpt(O_RDWR | O_NOCTTY);
	int s = ioctl(m, TIOCGPTPEER, O_RDWR | O_NOCTTY);
	printf("locked: %d %s\n", s, s < 0 ? strerror(errno) : "");
	unlockpt(m);
	s = ioctl(m, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC | O_NONBLOCK);
	printf("peer ok %d cloexec %d nonblock %d isatty %d\n", s > m, fcntl(s, F_GETFD) & FD_CLOEXEC,
		!!(fcntl(s, F_GETFL) & O_NONBLOCK), isatty(s));
	char name[64];
	ttyname_r(s, name, sizeof name);
	printf("ttyname matches ptsname %d\n", strcmp(name, ptsname(m)) == 0);
	char buf[64];
	ssize_t n = read(s, buf, sizeof buf);
	printf("empty nonblocking read %zd %s\n", n, strerror(errno));
	write(s, "hi\n", 3);
	n = read(m, buf, sizeof buf);
	printf("master read %zd %.*s", n, (int)n - 1, buf);
	printf("\n");
	int r = ioctl(s, TIOCGPTPEER, O_RDWR);
	printf("on the slave: %d %s\n", r, r < 0 ? strerror(errno) : "");
	r = ioctl(0, TIOCGPTPEER, O_RDWR);
	printf("on a pipe: %d %s\n", r, r < 0 ? strerror(errno) : "");
	int p2 = ioctl(m, TIOCGPTPEER, O_RDONLY);
	n = write(p2, "x", 1);
	printf("read-only peer write: %zd %s\n", n, strerror(errno));
	return 0;
}
`

func TestTTYPtPeer(t *testing.T) {
	needPty(t)
	bin := compileC(t, "ptpeer", ptPeerSrc)
	native, _ := diff(t, []string{"/bin/sh", "-c", "echo | " + bin})
	expect(t, "native", native, "locked: -1 Input/output error\npeer ok 1 cloexec 1 nonblock 1 isatty 1\n"+
		"ttyname matches ptsname 1\nempty nonblocking read -1 Resource temporarily unavailable\n"+
		"master read 4 hi\r\non the slave: -1 Input/output error\non a pipe: -1 Inappropriate ioctl for device\n"+
		"read-only peer write: -1 Bad file descriptor\n", 0)
}

// consoleSrc looks at /dev/console: a character device (5,1) only root
// may open.
const consoleSrc = `#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv) {
	setvbuf(stdout, 0, _IONBF, 0);
	struct stat st;
	if (stat("/dev/console", &st)) { perror("stat"); return 1; }
	printf("chr %d %u:%u mode %o uid %d\n", S_ISCHR(st.st_mode), major(st.st_rdev), minor(st.st_rdev),
		st.st_mode & 07777, st.st_uid);
	int fd = open("/dev/console", O_WRONLY | O_NOCTTY);
	printf("root open %s\n", fd >= 0 ? "ok" : strerror(errno));
	if (argc > 1 && fd >= 0) write(fd, argv[1], strlen(argv[1]));
	if (fork() == 0) {
		setuid(65534);
		int fd = open("/dev/console", O_WRONLY);
		printf("nobody open %s\n", fd >= 0 ? "ok" : strerror(errno));
		_exit(0);
	}
	wait(0);
	return 0;
}
`

func TestTTYConsole(t *testing.T) {
	bin := compileC(t, "console", consoleSrc)
	native, _ := diff(t, []string{bin})
	expect(t, "native", native, "chr 1 5:1 mode 600 uid 0\nroot open ok\nnobody open Permission denied\n", 0)
	// Under glassbox the console is glassbox's own standard output.
	gb := runGlassbox(t, nil, []string{bin, "on the console\n"})
	expect(t, "glassbox, writing", gb, "chr 1 5:1 mode 600 uid 0\nroot open ok\non the console\nnobody open Permission denied\n", 0)
}

// procStatTTYSrc reads tty_nr and tpgid from /proc/self/stat in a new
// session, before and after it takes a pty as controlling terminal.
const procStatTTYSrc = `#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static void show(const char *who, int ptsnum) {
	char buf[1024];
	FILE *f = fopen("/proc/self/stat", "r");
	fgets(buf, sizeof buf, f);
	fclose(f);
	char state;
	int ppid, pgrp, sid, ttynr, tpgid;
	sscanf(strrchr(buf, ')') + 2, "%c %d %d %d %d %d", &state, &ppid, &pgrp, &sid, &ttynr, &tpgid);
	int major = (ttynr >> 8) & 0xfff, minor = (ttynr & 0xff) | ((ttynr >> 12) & 0xfff00);
	printf("%s: tty_nr %s major %d minor is the pty %d tpgid %s\n", who, ttynr ? "set" : "0", major,
		ttynr && minor == ptsnum, tpgid == -1 ? "-1" : tpgid == getpgrp() ? "own group" : "other");
}

int main(void) {
	setvbuf(stdout, 0, _IONBF, 0);
	int m = posix_openpt(O_RDWR | O_NOCTTY);
	grantpt(m);
	unlockpt(m);
	int num = atoi(strrchr(ptsname(m), '/') + 1);
	if (fork() == 0) {
		setsid();
		show("new session", num);
		int s = open(ptsname(m), O_RDWR);
		show("with a ctty", num);
		if (fork() == 0) {
			setpgid(0, 0);
			show("background child", num);
			_exit(0);
		}
		wait(0);
		_exit(0);
	}
	wait(0);
	return 0;
}
`

func TestTTYProcStat(t *testing.T) {
	needPty(t)
	bin := compileC(t, "procstattty", procStatTTYSrc)
	native, _ := diff(t, []string{bin})
	expect(t, "native", native, "new session: tty_nr 0 major 0 minor is the pty 0 tpgid -1\n"+
		"with a ctty: tty_nr set major 136 minor is the pty 1 tpgid own group\n"+
		"background child: tty_nr set major 136 minor is the pty 1 tpgid other\n", 0)
}

// tcflowSrc: TCXONC takes TCOOFF..TCION; anything else is EINVAL (CPython's
// test_termios test_tcflow_errors).
const tcflowSrc = `
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

int main(void) {
	int m = posix_openpt(O_RDWR | O_NOCTTY);
	grantpt(m); unlockpt(m);
	int s = open(ptsname(m), O_RDWR | O_NOCTTY);
	long args[] = {-1, 4, 100, TCOON};
	for (int i = 0; i < 4; i++) {
		int r = ioctl(s, TCXONC, args[i]);
		printf("TCXONC %ld: %s\n", args[i], r ? strerrorname_np(errno) : "0");
	}
	int r = ioctl(open("/dev/null", O_RDWR), TCXONC, TCOON);
	printf("TCXONC on /dev/null: %s\n", r ? strerrorname_np(errno) : "0");
	return 0;
}
`

func TestTTYFlowControlArgs(t *testing.T) {
	diff(t, []string{compileC(t, "tcflow", tcflowSrc)})
}
