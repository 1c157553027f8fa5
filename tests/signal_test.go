package tests

import (
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

const jobC = `#include <stdio.h>
#include <signal.h>
#include <unistd.h>
#include <string.h>
#include <sys/wait.h>
static int order[16], n;
static void rt(int s, siginfo_t *si, void *u) { order[n++] = si->si_value.sival_int; }
int main(void) {
	pid_t p = fork();
	if (p == 0) { raise(SIGSTOP); printf("child resumed\n"); fflush(stdout); _exit(3); }
	int st;
	waitpid(p, &st, WUNTRACED);
	printf("stopped=%d sig=%d\n", WIFSTOPPED(st), WSTOPSIG(st));
	kill(p, SIGCONT);
	waitpid(p, &st, WCONTINUED);
	printf("continued=%d\n", WIFCONTINUED(st));
	waitpid(p, &st, 0);
	printf("exited=%d code=%d\n", WIFEXITED(st), WEXITSTATUS(st));
	/* waitid with WSTOPPED */
	p = fork();
	if (p == 0) { for (;;) pause(); }
	kill(p, SIGTSTP);
	siginfo_t si; memset(&si, 0, sizeof si);
	waitid(P_PID, p, &si, WSTOPPED);
	printf("waitid code=%s status=%d\n", si.si_code == CLD_STOPPED ? "CLD_STOPPED" : "?", si.si_status);
	kill(p, SIGKILL);
	waitpid(p, &st, 0);
	printf("killed=%d sig=%d\n", WIFSIGNALED(st), WTERMSIG(st));
	/* real-time signals queue in order with their values */
	struct sigaction sa; memset(&sa, 0, sizeof sa); sa.sa_sigaction = rt; sa.sa_flags = SA_SIGINFO;
	sigaction(SIGRTMIN + 1, &sa, 0);
	sigset_t m; sigemptyset(&m); sigaddset(&m, SIGRTMIN + 1); sigprocmask(SIG_BLOCK, &m, 0);
	for (int i = 1; i <= 5; i++) { union sigval v = {.sival_int = i * 10}; sigqueue(getpid(), SIGRTMIN + 1, v); }
	sigprocmask(SIG_UNBLOCK, &m, 0);
	printf("rt order:"); for (int i = 0; i < n; i++) printf(" %d", order[i]); printf("\n");
	return 0;
}
`

// TestJobControl: a child that stops itself is seen by waitpid(WUNTRACED),
// SIGCONT is seen with WCONTINUED, waitid(WSTOPPED) gives CLD_STOPPED and
// the stop signal, SIGKILL ends a stopped process, and real-time signals
// queue in order with their values.
func TestJobControl(t *testing.T) {
	t.Parallel()
	prog := compileC(t, "jobctl", jobC, "-dynamic")
	native, _ := diff(t, []string{prog})
	expect(t, "native", native, "child resumed\nstopped=1 sig=19\ncontinued=1\nexited=1 code=3\n"+
		"waitid code=CLD_STOPPED status=20\nkilled=1 sig=9\nrt order: 10 20 30 40 50\n", 0)
}

// TestShellSignals: the shell cases of the signals issue.
func TestShellSignals(t *testing.T) {
	t.Parallel()
	for _, c := range []string{
		`kill -TERM $$; echo not reached`,
		`trap "echo got INT" INT; kill -INT $$; echo after`,
		`sleep 5 & kill $!; wait $!; echo status=$?`,
	} {
		diff(t, []string{"/bin/bash", "-c", c})
	}
}

// TestSignalFromOutside: SIGTERM sent to glassbox reaches the guest (a
// shell trap runs), and glassbox exits with the guest's status.
func TestSignalFromOutside(t *testing.T) {
	t.Parallel()
	cmd := exec.Command(glassboxBin, "run", "--", "/bin/sh", "-c", `trap "echo got TERM; exit 7" TERM; echo ready; while :; do sleep 0.1; done`)
	out := &syncBuffer{}
	cmd.Stdout = out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(out.String(), "ready") && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	cmd.Process.Signal(syscall.SIGTERM)
	err := cmd.Wait()
	code := cmd.ProcessState.ExitCode()
	if out.String() != "ready\ngot TERM\n" || code != 7 {
		t.Errorf("stdout %q, exit %d (%v); want \"ready\\ngot TERM\\n\", 7", out.String(), code, err)
	}
}

// TestSignalInterruptsHostRead: a Python SIGALRM handler runs while the
// main thread blocks reading stdin from a pipe that stays open.
func TestSignalInterruptsHostRead(t *testing.T) {
	t.Parallel()
	cmd := exec.Command(glassboxBin, "run", "--", "python3", "-c",
		`import signal,os; signal.signal(signal.SIGALRM, lambda *a: print("alarm", flush=True)); signal.alarm(1); os.read(0,1); print("read returned")`)
	w, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out := &syncBuffer{}
	cmd.Stdout = out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(out.String(), "alarm") && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	w.Write([]byte("x"))
	w.Close()
	cmd.Wait()
	if out.String() != "alarm\nread returned\n" {
		t.Errorf("stdout %q, want alarm then read returned", out.String())
	}
}

// syncBuffer is a strings.Builder safe to read while a process writes it.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
