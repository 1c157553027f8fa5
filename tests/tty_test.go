package tests

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// Pseudo-terminals: /dev/ptmx, /dev/pts/N, the N_TTY line discipline,
// job-control signals from the keyboard, window size, hangup.

// needPty skips when the host has no usable pseudo-terminals to compare with.
func needPty(t *testing.T) {
	t.Helper()
	f, err := os.OpenFile("/dev/ptmx", os.O_RDWR, 0)
	if err != nil {
		t.Skipf("no host ptys: %v", err)
	}
	f.Close()
}

// ptyLineDisciplineSrc drives a child on a pty through canonical editing
// (erase, kill, werase, EOF), ^C/^\/^Z, SIGWINCH, raw mode (VMIN/VTIME),
// FIONREAD, TCSAFLUSH and hangup; it prints everything the master reads.
const ptyLineDisciplineSrc = `#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

static int master;
static char out[65536];
static size_t outn;

/* Read the master until its output holds tok (or EIO/EOF when tok is NULL). */
static void until(const char *tok) {
	for (;;) {
		out[outn] = 0;
		if (tok && strstr(out, tok)) return;
		ssize_t n = read(master, out + outn, sizeof out - 1 - outn);
		if (n <= 0) {
			if (tok) printf("[master read %zd %s waiting for %s]\n", n, strerror(errno), tok);
			return;
		}
		outn += n;
	}
}

static void flush_out(void) {
	out[outn] = 0;
	for (char *p = out; *p; p++) {
		if (*p == '\r') { fputs("\\r", stdout); continue; }
		if (*p == '\b') { fputs("\\b", stdout); continue; }
		putchar(*p);
	}
	outn = 0;
}

static void step(const char *send, const char *tok) {
	if (send) write(master, send, strlen(send));
	until(tok);
	flush_out();
}

static volatile sig_atomic_t got[65];
static void on(int s) { got[s]++; }

static int child_loop(int report) {
	struct sigaction sa = {0};
	sa.sa_handler = on;
	int sigs[] = {SIGINT, SIGQUIT, SIGTSTP, SIGWINCH, SIGHUP};
	for (int i = 0; i < 5; i++) sigaction(sigs[i], &sa, 0);
	static char obuf[8192];
	setvbuf(stdout, obuf, _IOFBF, sizeof obuf);
	struct termios t;
	tcgetattr(0, &t);
	printf("iflag %o oflag %o cflag %o lflag %o\n", t.c_iflag, t.c_oflag, t.c_cflag, t.c_lflag);
	printf("cc");
	for (int i = 0; i < 17; i++) printf(" %d", t.c_cc[i]);
	printf("\npgrp ok %d sid ok %d\n", tcgetpgrp(0) == getpid(), tcgetsid(0) == getpid());
	int tfd = open("/dev/tty", O_RDWR);
	printf("dev/tty %s\n", tfd >= 0 ? "opened" : strerror(errno));
	printf("isatty %d ttyname %.9s\n", isatty(0), ttyname(0));
	printf("ready\n");
	fflush(stdout);
	char buf[256];
	/* The signals stay blocked except inside ppoll, so one sent while the
	   loop prints cannot slip in before the wait and leave it blocked. */
	sigset_t block, orig;
	sigemptyset(&block);
	for (int i = 0; i < 5; i++) sigaddset(&block, sigs[i]);
	sigprocmask(SIG_BLOCK, &block, &orig);
	for (;;) {
		struct pollfd pfd = {0, POLLIN, 0};
		ssize_t n = -1;
		int e = 0;
		if (ppoll(&pfd, 1, NULL, &orig) < 0) e = errno;
		else { n = read(0, buf, sizeof buf - 1); e = errno; }
		for (int s = 1; s < 65; s++)
			if (got[s]) {
				printf("sig %d", s);
				if (s == SIGWINCH) {
					struct winsize w;
					ioctl(0, TIOCGWINSZ, &w);
					printf(" %dx%d", w.ws_row, w.ws_col);
				}
				printf("\n");
				got[s] = 0;
			}
		if (n < 0) { printf("read: %s\n", strerror(e)); fflush(stdout); continue; }
		fflush(stdout);
		buf[n] = 0;
		if (n == 0) { if (printf("eof\n") < 0 || fflush(stdout)) return 1; continue; }
		if (strcmp(buf, "raw\n") == 0) {
			t.c_lflag &= ~(ICANON | ECHO);
			t.c_cc[VMIN] = 0; t.c_cc[VTIME] = 0;
			tcsetattr(0, TCSANOW, &t);
			n = read(0, buf, 10);
			printf("min0 read %zd\n", n);
			t.c_cc[VMIN] = 1;
			tcsetattr(0, TCSANOW, &t);
			printf("rawready\n");
			fflush(stdout);
			char got3[4] = {0};
			int have = 0;
			while (have < 3) { n = read(0, got3 + have, 3 - have); if (n > 0) have += n; }
			int q; ioctl(0, FIONREAD, &q);
			printf("raw [%s] fionread %d\n", got3, q);
			t.c_lflag |= ICANON | ECHO;
			tcsetattr(0, TCSAFLUSH, &t);
			printf("cooked\n");
			fflush(stdout);
			continue;
		}
		if (strcmp(buf, "bye\n") == 0) break;
		printf("line [%s]\n", buf);
		fflush(stdout);
	}
	sigprocmask(SIG_SETMASK, &orig, 0);
	printf("waiting for hangup\n");
	fflush(stdout);
	char r[128];
	ssize_t n1 = read(0, buf, 10);
	(void)n1;
	/* A read that starts once the hangup is complete sees end of file; one
	   racing with it can see EIO (the master's close marks the pty before it
	   hangs the files up), so let it finish first. */
	usleep(200 * 1000);
	ssize_t n2 = read(0, buf, 10);
	int e2 = errno;
	ssize_t w = write(1, "x", 1);
	int ew = errno;
	int len = snprintf(r, sizeof r, "hup %d read %zd%s write %zd %s\n", got[SIGHUP] > 0, n2,
		n2 < 0 ? strerror(e2) : "", w, w < 0 ? strerror(ew) : "");
	write(report, r, len);
	return 0;
}

int main(void) {
	setvbuf(stdout, NULL, _IONBF, 0);
	master = posix_openpt(O_RDWR | O_NOCTTY);
	if (master < 0 || grantpt(master) || unlockpt(master)) { perror("pt"); return 1; }
	char *name = ptsname(master);
	printf("ptsname %.9s\n", name);
	struct stat st;
	int rep[2];
	pipe(rep);
	pid_t pid = fork();
	if (pid == 0) {
		close(rep[0]);
		close(master);
		setsid();
		int s = open(name, O_RDWR);
		if (s < 0) { perror("open slave"); _exit(1); }
		dup2(s, 0); dup2(s, 1); dup2(s, 2);
		if (s > 2) close(s);
		_exit(child_loop(rep[1]));
	}
	close(rep[1]);
	(void)st;
	step(NULL, "ready\r\n");
	step("hello\n", "line [hello");
	step("abc\x7f" "d\n", "line [abd");
	step("xy\x15zz\n", "line [zz");
	step("one\x17two\n", "line [two");
	step("\x04", "eof\r\n");
	step("par\x04", "line [par]");
	step("\x03", "system call\r\n");
	step("\x1c", "system call\r\n");
	step("\x1a", "system call\r\n");
	struct winsize ws = {24, 80, 0, 0};
	ioctl(master, TIOCSWINSZ, &ws);
	step(NULL, "system call\r\n");
	step("tab\tctl\x01x\x7f\x7f\n", "line [tab");
	step("raw\n", "rawready\r\n");
	step("xyz", "cooked\r\n");
	step("bye\n", "waiting for hangup\r\n");
	close(master);
	char r[256] = {0};
	read(rep[0], r, sizeof r - 1);
	printf("%s", r);
	int status;
	waitpid(pid, &status, 0);
	printf("child status %x\n", status);
	return 0;
}
`

// ptyRunSrc runs a command as a session leader on a new pty.
const ptyRunSrc = `#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

/* pty2 TOKEN INPUT CMD...: run CMD on a new pty as a session leader, send
   INPUT once the output holds TOKEN, print everything it writes. */
int main(int argc, char **argv) {
	int m = posix_openpt(O_RDWR | O_NOCTTY);
	if (m < 0 || grantpt(m) || unlockpt(m)) { perror("pt"); return 1; }
	struct winsize ws = {24, 80, 0, 0};
	ioctl(m, TIOCSWINSZ, &ws);
	char *name = ptsname(m);
	pid_t pid = fork();
	if (pid == 0) {
		close(m);
		setsid();
		int s = open(name, O_RDWR);
		if (s < 0) { perror("open slave"); _exit(1); }
		dup2(s, 0); dup2(s, 1); dup2(s, 2);
		if (s > 2) close(s);
		execv(argv[3], argv + 3);
		_exit(127);
	}
	/* Hold the slave open too: when the last slave closes, Linux may drop
	   what the master has not read yet (the echo of a ^C that killed the
	   shell). Read until the child is gone and the pty has been quiet. */
	int hold = open(name, O_RDWR | O_NOCTTY);
	static char out[65536];
	size_t n = 0;
	int sent = 0, st, done = 0;
	for (;;) {
		out[n] = 0;
		if (!sent && strstr(out, argv[1])) {
			write(m, argv[2], strlen(argv[2]));
			sent = 1;
		}
		struct pollfd pf = {m, POLLIN, 0};
		if (poll(&pf, 1, 300) == 0) {
			if (done) break;
			if (waitpid(pid, &st, WNOHANG) == pid) done = 1;
			continue;
		}
		ssize_t r = read(m, out + n, sizeof out - 1 - n);
		if (r <= 0) break;
		n += r;
	}
	close(hold);
	out[n] = 0;
	for (char *p = out; *p; p++) {
		if (*p == '\r') continue;
		putchar(*p);
	}
	if (!done) waitpid(pid, &st, 0);
	if (WIFSIGNALED(st)) printf("killed by %d\n", WTERMSIG(st));
	else printf("exit %d\n", WEXITSTATUS(st));
	return 0;
}
`

func TestPtyLineDiscipline(t *testing.T) {
	needPty(t)
	bin := compileC(t, "pty_ldisc", ptyLineDisciplineSrc, "-dynamic")
	diff(t, []string{bin})
}

func TestPtyShell(t *testing.T) {
	needPty(t)
	bin := compileC(t, "pty_run", ptyRunSrc, "-dynamic")
	for _, c := range [][]string{
		{"24 80", "hello\n", "/bin/sh", "-c", "stty -a | head -1; stty size; read x; echo got $x"},
		{"go", "\x03", "/bin/sh", "-c", "echo go; sleep 2; echo after"},
		{"go", "\x03", "/bin/sh", "-c", "trap 'echo trapped' INT; echo go; sleep 2; echo after"},
		{"go", "a\x7fb\x15cd\x04\x04", "/bin/sh", "-c", "echo go; cat; echo; echo done"},
		{"go", "", "/bin/sh", "-c", "echo go; tty | sed 's/[0-9]*$/N/'; ls /dev/pts >/dev/null && echo listed; exec 3</dev/tty && echo devtty"},
	} {
		diff(t, append([]string{bin}, c...))
	}
}

func TestPtyScript(t *testing.T) {
	needPty(t)
	script, err := exec.LookPath("script")
	if err != nil {
		t.Skip("no script(1)")
	}
	bin := compileC(t, "pty_run", ptyRunSrc, "-dynamic")
	diff(t, []string{bin, "xx", "", script, "-qc", "tty | sed 's/[0-9]*$/N/'; stty size", "/dev/null"})
}

func TestDevTtyWithoutTerminal(t *testing.T) {
	// With no controlling terminal, /dev/tty is ENXIO: the shell says so
	// and exits 2 (a failed redirection of exec). -w: setsid forks when
	// it leads a process group (it does as glassbox' first process, not
	// natively) and must wait for the shell.
	native, _ := diff(t, []string{"/usr/bin/setsid", "-w", "/bin/sh", "-c", "exec 3</dev/tty || echo no tty; ls -d /dev/pts /dev/ptmx"})
	if native.Code != 2 || !strings.Contains(native.Stderr, "/dev/tty: No such device or address") {
		t.Errorf("native run looks wrong: %s", native)
	}
}
