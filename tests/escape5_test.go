package tests

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// Host-process escapes of issue 17's list: signals, ptrace and
// process_vm_* aimed at glassbox itself and at an unrelated host process,
// host unix sockets, TIOCSTI on a lent host terminal, and resource
// exhaustion racing the sandbox's exit. Each test watches the host side
// (a sentinel process, a listener, the terminal's input queue, the process
// group) for the effect an escape would have.

const sentinelC = `/* sentinel: a host process a guest must not reach. Prints the address
   of a word, then until its stdin closes notes SIGWINCH and changes of the
   word (process_vm_writev), and reports them. */
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <unistd.h>
static volatile long word;
static volatile sig_atomic_t winch;
static void on(int s) { winch++; }
int main(void) {
	signal(SIGWINCH, on);
	printf("%p\n", (void *)&word);
	fflush(stdout);
	struct pollfd p = {0, POLLIN};
	char c;
	while (poll(&p, 1, -1) < 0 || read(0, &c, 1) > 0) {}
	printf("winch=%d word=%ld\n", (int)winch, word);
	return 0;
}
`

const hostSigC = `/* hostsig GBPID SENTPID SENTADDR: signal, trace and write into glassbox'
   own host pid and a host sentinel from inside; SIGWINCH (harmless) to
   every process and to the host pids next to glassbox' (its stubs). */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>
int main(int argc, char **argv) {
	int gb = atoi(argv[1]), sent = atoi(argv[2]);
	unsigned long addr = strtoul(argv[3], 0, 0);
	int pids[] = {gb, sent}, reached = 0;
	for (int i = 0; i < 2; i++) {
		int p = pids[i];
		siginfo_t si = {.si_signo = SIGKILL, .si_code = SI_QUEUE};
		long one = 1;
		struct iovec l = {&one, sizeof one}, r = {(void *)addr, sizeof one};
		long rs[] = {
			kill(p, SIGKILL), syscall(SYS_tgkill, p, p, SIGKILL), syscall(SYS_tkill, p, SIGKILL),
			syscall(SYS_rt_sigqueueinfo, p, SIGKILL, &si), kill(-p, SIGKILL),
			ptrace(PTRACE_ATTACH, p, 0, 0), ptrace(PTRACE_SEIZE, p, 0, 0),
			process_vm_writev(p, &l, 1, &r, 1, 0), process_vm_readv(p, &l, 1, &r, 1, 0),
		};
		for (int k = 0; k < 9; k++)
			if (rs[k] >= 0) { printf("pid %d call %d reached\n", i, k); reached++; }
		int fd = syscall(SYS_pidfd_open, p, 0);
		if (fd >= 0 && syscall(SYS_pidfd_send_signal, fd, SIGKILL, 0, 0) == 0) { printf("pidfd %d reached\n", i); reached++; }
	}
	signal(SIGWINCH, SIG_IGN);
	kill(-1, SIGWINCH);
	for (int p = gb - 8; p < gb + 64; p++)
		kill(p, SIGWINCH);
	usleep(100000);
	printf("reached=%d\n", reached);
	return 0;
}
`

// TestEscapeHostSignals: from inside, kill, tgkill, tkill,
// rt_sigqueueinfo, kill of a process group, pidfd_send_signal, ptrace
// attach/seize and process_vm_writev/readv aimed at glassbox' own host pid
// and at a host sentinel process, and SIGWINCH to every process and to the
// host pids around glassbox' (where its stubs are): glassbox runs on, the
// sentinel is neither killed, signalled nor written to.
func TestEscapeHostSignals(t *testing.T) {
	t.Parallel()
	sentinel := compileC(t, "sentinel", sentinelC)
	prog := compileC(t, "hostsig", hostSigC)
	for _, pl := range platformsHere(t) {
		cmd := exec.Command(sentinel)
		in, _ := cmd.StdinPipe()
		outp, _ := cmd.StdoutPipe()
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		out := bufio.NewReader(outp)
		addr, err := out.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		r := run(t, []string{"/bin/sh", "-c", `exec "$0" run --platform=` + pl + ` -- "$1" $$ "$2" "$3"`,
			glassboxBin, prog, fmt.Sprint(cmd.Process.Pid), strings.TrimSpace(addr)}, os.Environ())
		in.Close()
		rest, _ := io.ReadAll(out)
		werr := cmd.Wait()
		if r.Code != 0 || r.Stdout != "reached=0\n" {
			t.Errorf("%s: glassbox: %s", pl, r)
		}
		if werr != nil || string(rest) != "winch=0 word=0\n" {
			t.Errorf("%s: the host sentinel was reached: %v %q", pl, werr, rest)
		}
	}
}

const unixConnC = `/* unixconn PATH...: connect (stream) and send (datagram) to each path,
   "@NAME" meaning the abstract NAME. */
#define _GNU_SOURCE
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
int main(int argc, char **argv) {
	for (int i = 1; i < argc; i++) {
		struct sockaddr_un a = {.sun_family = AF_UNIX};
		socklen_t len = sizeof a;
		strncpy(a.sun_path, argv[i], sizeof a.sun_path - 1);
		if (argv[i][0] == '@') { a.sun_path[0] = 0; len = offsetof(struct sockaddr_un, sun_path) + strlen(argv[i]); }
		int s = socket(AF_UNIX, SOCK_STREAM, 0);
		int c = connect(s, (struct sockaddr *)&a, len);
		if (c == 0) write(s, "ESCAPE", 6);
		int ec = errno;
		int d = socket(AF_UNIX, SOCK_DGRAM, 0);
		int g = sendto(d, "ESCAPE", 6, 0, (struct sockaddr *)&a, len);
		printf("%s: connect %s sendto %s\n", argv[i][0] == '/' ? strrchr(argv[i], '/') : "@", c ? strerrorname_np(ec) : "ok", g < 0 ? strerrorname_np(errno) : "ok");
	}
	return 0;
}
`

// TestEscapeHostUnixSocket: host unix sockets, stream and datagram, in a
// --bind directory, at a host path the read-only root shows, and in the
// host's abstract namespace, are never reached from inside, with --net=none
// or --net=host (AF_UNIX is always the sandbox's own): no listener accepts
// a connection or receives a datagram.
func TestEscapeHostUnixSocket(t *testing.T) {
	t.Parallel()
	prog := compileC(t, "unixconn", unixConnC)
	bind, out := t.TempDir(), t.TempDir()
	abstract := "@gbescape-" + filepath.Base(out)
	var reached atomic.Int32
	var args []string
	for i, p := range []string{filepath.Join(bind, "s"), filepath.Join(out, "s"), abstract} {
		ln, err := net.Listen("unix", p)
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		go func() {
			for c, err := ln.Accept(); err == nil; c, err = ln.Accept() {
				reached.Add(1)
				c.Close()
			}
		}()
		// The datagram socket of the same name lives next to it (or, abstract, under its own name).
		dp := p + "d"
		pc, err := net.ListenPacket("unixgram", dp)
		if err != nil {
			t.Fatal(err)
		}
		defer pc.Close()
		go func() {
			buf := make([]byte, 64)
			for _, _, err := pc.ReadFrom(buf); err == nil; _, _, err = pc.ReadFrom(buf) {
				reached.Add(1)
			}
		}()
		if i == 0 {
			args = append(args, "/mnt/s", "/mnt/sd")
		} else {
			args = append(args, p, dp)
		}
	}
	for _, netMode := range []string{"none", "host"} {
		r := runGlassbox(t, []string{"--net=" + netMode, "--bind", bind + ":/mnt"}, append([]string{prog}, args...))
		if r.Code != 0 || strings.Contains(r.Stdout, " ok") || strings.Count(r.Stdout, "\n") != len(args) {
			t.Errorf("--net=%s: %s", netMode, r)
		}
	}
	time.Sleep(100 * time.Millisecond)
	if n := reached.Load(); n != 0 {
		t.Errorf("host unix sockets were reached %d times", n)
	}
}

const exhaustExitC = `/* exhaust: every process forks until it cannot, then fills memory and
   descriptors and spins; the first process exits after 300 ms, in the
   middle of it. */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
int main(void) {
	if (fork() == 0) {
		for (int i = 0; i < 64; i++) if (fork() < 0) break;
		for (int i = 0; i < 16; i++) { char *p = malloc(4 << 20); if (p) memset(p, i, 4 << 20); }
		while (open("/dev/null", O_RDONLY) >= 0) {}
		for (;;) {}
	}
	usleep(300000);
	return 3;
}
`

// TestEscapeExhaustExit: a fork bomb filling memory and descriptors under
// --pids and --memory, cut short by its first process' exit or by
// --timeout: glassbox ends with the guest's status and leaves no host
// process behind (nothing in its process group, where its stubs are).
func TestEscapeExhaustExit(t *testing.T) {
	t.Parallel()
	prog := compileC(t, "exhaust", exhaustExitC)
	for _, pl := range platformsHere(t) {
		for _, c := range []struct {
			flags []string
			code  int
		}{{nil, 3}, {[]string{"--timeout", "200ms"}, 124}} {
			// The first process needs a page or two as it exits; the OOM
			// killer, as Linux's, takes the bomb's larger processes first.
			args := append([]string{"run", "--platform=" + pl, "--pids", "200", "--memory", "256M"}, c.flags...)
			ctx, cancel := context.WithTimeout(context.Background(), runTimeout)
			cmd := exec.CommandContext(ctx, glassboxBin, append(append(args, "--"), prog)...)
			cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
			var stderr strings.Builder
			cmd.Stderr = &stderr
			err := cmd.Run()
			timedOut := ctx.Err() != nil
			cancel()
			code := cmd.ProcessState.ExitCode()
			if timedOut || code != c.code || stderr.Len() != 0 {
				t.Errorf("%s %v: exit %d (%v), want %d; stderr:\n%s", pl, c.flags, code, err, c.code, stderr.String())
			}
			pg := cmd.Process.Pid
			deadline := time.Now().Add(3 * time.Second)
			for syscall.Kill(-pg, 0) == nil && time.Now().Before(deadline) {
				time.Sleep(20 * time.Millisecond)
			}
			if syscall.Kill(-pg, 0) == nil {
				syscall.Kill(-pg, syscall.SIGKILL)
				t.Errorf("%s %v: host processes outlived glassbox in its process group", pl, c.flags)
			}
		}
	}
}

const ptyHostC = `/* ptyhost MODE PROG ARG...: run PROG on a new host pty as the session
   leader's (MODE fg) or a background process group's (MODE bg) process;
   then report whether anything is waiting in the terminal's input queue,
   where TIOCSTI would have put it for the host's shell to read. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>
int main(int argc, char **argv) {
	int m = posix_openpt(O_RDWR | O_NOCTTY);
	grantpt(m); unlockpt(m);
	int s = open(ptsname(m), O_RDWR | O_NOCTTY);
	struct termios tio;
	tcgetattr(s, &tio); cfmakeraw(&tio); tcsetattr(s, TCSANOW, &tio);
	pid_t pid = fork();
	if (pid == 0) {
		setsid();
		ioctl(s, TIOCSCTTY, 0);
		dup2(s, 0); dup2(s, 1); dup2(s, 2);
		if (!strcmp(argv[1], "bg")) {
			pid_t g = fork();
			if (g > 0) { int st; waitpid(g, &st, 0); _exit(WEXITSTATUS(st)); }
			setpgid(0, 0);
		}
		execv(argv[2], argv + 2);
		_exit(127);
	}
	char out[8192];
	size_t n = 0;
	int st;
	while (waitpid(pid, &st, WNOHANG) == 0) {
		struct pollfd p = {m, POLLIN};
		if (poll(&p, 1, 10) > 0) { ssize_t k = read(m, out + n, sizeof out - 1 - n); if (k > 0) n += k; }
	}
	out[n] = 0;
	fcntl(s, F_SETFL, O_NONBLOCK);
	char in[256] = {0};
	ssize_t k = read(s, in, sizeof in - 1);
	printf("exit %d\nguest: %s\nqueued: %s\n", WEXITSTATUS(st), out, k > 0 ? in : "");
	return 0;
}
`

const tiocstiC = `/* tiocsti: push "INJECTED" into the input of every terminal in reach. */
#include <fcntl.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <unistd.h>
int main(void) {
	int fds[] = {0, 1, 2, open("/dev/tty", O_RDWR)}, ok = 0;
	for (int i = 0; i < 4; i++)
		for (const char *c = "INJECTED\n"; *c; c++)
			ok += ioctl(fds[i], TIOCSTI, c) == 0;
	printf("pushed %d\n", ok);
	return 0;
}
`

// TestEscapeTIOCSTI: a guest on a host terminal, lent with --pass-tty or
// by running in the background (glassbox does not take over a terminal it
// is not in the foreground of), pushes bytes with TIOCSTI into every
// terminal it can reach: nothing arrives in the host terminal's input
// queue. Natively, as the control, the same program's bytes do arrive.
func TestEscapeTIOCSTI(t *testing.T) {
	t.Parallel()
	host := compileC(t, "ptyhost", ptyHostC)
	prog := compileC(t, "tiocsti", tiocstiC)
	native := runNative(t, []string{host, "fg", prog})
	if !strings.Contains(native.Stdout, "queued: INJECTED") {
		t.Logf("natively TIOCSTI reached nothing (dev.tty.legacy_tiocsti=0?):\n%s", native)
	}
	for _, c := range [][]string{{"fg", glassboxBin, "run", "--pass-tty", "--", prog}, {"bg", glassboxBin, "run", "--", prog}} {
		r := runNative(t, append([]string{host}, c...))
		if r.Code != 0 || !strings.Contains(r.Stdout, "exit 0\n") || strings.Contains(r.Stdout, "INJECTED") {
			t.Errorf("%v: %s", c, r)
		}
	}
}
