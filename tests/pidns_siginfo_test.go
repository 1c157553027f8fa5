package tests

import (
	"os/exec"
	"testing"
)

// pidnsSiginfoSrc prints, inside a new PID namespace, whether the pids
// siginfo carries are the namespace's: SIGCHLD's si_pid (taken with
// sigwaitinfo and through a signalfd), and a kill's si_pid.
const pidnsSiginfoSrc = `#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>
int main(void) {
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGUSR1);
	sigprocmask(SIG_BLOCK, &set, 0);
	printf("my pid %d\n", getpid());
	pid_t c = fork();
	if (c == 0) _exit(3);
	siginfo_t si;
	sigwaitinfo(&set, &si);
	printf("SIGCHLD si_pid is the child: %d (child %d)\n", si.si_pid == c, c);
	waitpid(c, 0, 0);
	c = fork();
	if (c == 0) { kill(getppid(), SIGUSR1); _exit(0); }
	int fd = signalfd(-1, &set, 0);
	struct signalfd_siginfo ss;
	for (int i = 0; i < 2; i++) {
		read(fd, &ss, sizeof ss);
		printf("signalfd signo %u ssi_pid is the child: %d\n", ss.ssi_signo, ss.ssi_pid == (unsigned)c);
	}
	waitpid(c, 0, 0);
	return 0;
}
`

// TestPIDNamespaceSiginfo: inside a new PID namespace the pids in siginfo
// are the namespace's numbers.
func TestPIDNamespaceSiginfo(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("unshare"); err != nil {
		t.Skip("unshare not installed (apt-get install util-linux)")
	}
	bin := compileC(t, "pidns-siginfo", pidnsSiginfoSrc)
	diff(t, []string{"unshare", "-Urpf", "--mount-proc", bin})
}
