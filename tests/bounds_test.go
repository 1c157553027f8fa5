package tests

import (
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// peakRSS runs glassbox with args and returns its result and its peak
// resident set in KiB (glassbox' own: its stubs are one page each).
func peakRSS(t *testing.T, args ...string) (res, int64) {
	t.Helper()
	if buildErr != nil {
		t.Fatalf("glassbox unavailable: %v", buildErr)
	}
	cmd := exec.Command(glassboxBin, args...)
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	done := make(chan error, 1)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(runTimeout):
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-done
		t.Fatalf("glassbox %q did not end within %v", args, runTimeout)
	}
	ws := cmd.ProcessState.Sys().(syscall.WaitStatus)
	r := res{Stdout: out.String(), Stderr: errb.String(), Code: ws.ExitStatus()}
	if ws.Signaled() {
		t.Fatalf("glassbox itself was killed by %v\n%s", ws.Signal(), r)
	}
	return r, cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss
}

// TestBoundForkBomb: a fork bomb under --pids gets EAGAIN at the bound
// (bash says so and retries) and --timeout ends everything promptly, with
// a small bound and a large one: glassbox exits 124 and leaves no
// process behind.
func TestBoundForkBomb(t *testing.T) {
	for _, pids := range []string{"32", "512"} {
		start := time.Now()
		r, rss := peakRSS(t, "run", "--pids", pids, "--timeout", "5s", "--", "bash", "-c", ":(){ :|:& };:; sleep 60")
		took := time.Since(start)
		if r.Code != 124 {
			t.Fatalf("--pids %s: exit %d, want 124 (timed out)\n%s", pids, r.Code, r)
		}
		// The bomb's tasks are killed as they come: the end is a
		// matter of a second or two after the timeout, not of how
		// many tasks there were.
		if took > 15*time.Second {
			t.Errorf("--pids %s: glassbox took %v to end with --timeout 5s", pids, took)
		}
		t.Logf("--pids %s: ended after %v, glassbox peak RSS %d KiB", pids, took.Round(time.Millisecond), rss)
	}
}

// TestBoundTmpFiller: a guest filling /tmp meets --memory as ENOSPC, and
// glassbox' own peak resident set (the wait status' ru_maxrss: glassbox'
// VmHWM at exit, or a guest's if larger, and the guests here are small)
// stays below the bound: the tmpfs data glassbox writes through its
// mapping of the memory file, its per-page metadata and its fixed
// footprint all fit (memfile/bound.go).
func TestBoundTmpFiller(t *testing.T) {
	for _, mib := range []int64{64, 256} {
		r, rss := peakRSS(t, "run", "--memory", fmt.Sprintf("%dM", mib), "--", "sh", "-c",
			"dd if=/dev/zero of=/tmp/big bs=1M count=1000 2>&1 | grep -o 'No space left on device'; ls -s /tmp/big | cut -d' ' -f1")
		lines := strings.Fields(r.Stdout)
		if r.Code != 0 || !strings.HasPrefix(r.Stdout, "No space left on device\n") {
			t.Fatalf("--memory %dM: want dd to fail with ENOSPC\n%s", mib, r)
		}
		kib, _ := strconv.ParseInt(lines[len(lines)-1], 10, 64)
		if kib > mib<<10 || kib < mib<<10/4 {
			t.Errorf("--memory %dM: /tmp/big holds %d KiB, want between a quarter of the bound and the bound", mib, kib)
		}
		if rss >= mib<<10 {
			t.Errorf("--memory %dM: glassbox peak RSS %d KiB, above the bound", mib, rss)
		}
		t.Logf("--memory %dM: /tmp/big %d KiB, glassbox peak RSS %d KiB", mib, kib, rss)
	}
}

// TestBoundDefaultMemory: without --memory the sandbox's memory is half
// the host's RAM (what /proc/meminfo shows as MemTotal inside).
func TestBoundDefaultMemory(t *testing.T) {
	var si syscall.Sysinfo_t
	if err := syscall.Sysinfo(&si); err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("%d", uint64(si.Totalram)*uint64(si.Unit)/2/1024)
	r := runGlassbox(t, nil, []string{"sh", "-c", "head -1 /proc/meminfo"})
	if f := strings.Fields(r.Stdout); len(f) < 2 || f[1] != want {
		t.Fatalf("MemTotal inside: %q, want %s kB", r.Stdout, want)
	}
}

// TestBoundCPUTime: --cpu-time sends SIGXCPU to a spinning guest (which
// dies of it), and SIGKILL a CPU second later to one that catches it.
func TestBoundCPUTime(t *testing.T) {
	r := runGlassbox(t, []string{"--cpu-time", "500ms", "--timeout", "50s"}, []string{"sh", "-c", "while :; do :; done"})
	if r.Code != 128+24 {
		t.Errorf("spinner: exit %d, want 152 (SIGXCPU)\n%s", r.Code, r)
	}
	r = runGlassbox(t, []string{"--cpu-time", "500ms", "--timeout", "50s"},
		[]string{"sh", "-c", `trap "echo caught XCPU" XCPU; while :; do :; done`})
	if r.Code != 128+9 || r.Stdout != "caught XCPU\n" {
		t.Errorf("spinner catching SIGXCPU: want its line and exit 137\n%s", r)
	}
}

const nofileC = `#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
int main(void) {
	struct rlimit rl = {100, 100};
	if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
		return 1;
	int n = 0, fd;
	while ((fd = open("/dev/null", O_RDONLY)) >= 0)
		n = fd;
	printf("highest fd %d, then %s\n", n, strerror(errno));
	rl.rlim_cur = 200;
	printf("raise soft above hard: %d\n", setrlimit(RLIMIT_NOFILE, &rl));
	return 0;
}
`

// TestBoundNofile: RLIMIT_NOFILE bounds each process's descriptors
// (EMFILE), as natively.
func TestBoundNofile(t *testing.T) {
	t.Parallel()
	native, _ := diff(t, []string{compileC(t, "nofile", nofileC)})
	expect(t, "native", native, "highest fd 99, then Too many open files\nraise soft above hard: -1\n", 0)
}

const hostFDHogC = `#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
int main(void) {
	int n = 0, first = -1, fd;
	while ((fd = open("/etc/passwd", O_RDONLY)) >= 0) {
		if (first < 0)
			first = fd;
		n++;
	}
	printf("open: %s after %s opens\n", strerror(errno), n >= 1000 ? "1000 or more" : "fewer than 1000");
	int s = socket(AF_INET, SOCK_DGRAM, 0);
	printf("socket: %s\n", s < 0 ? strerror(errno) : "made");
	for (int i = 0; i < 16; i++)
		close(first + i);
	fd = open("/etc/passwd", O_RDONLY);
	s = socket(AF_INET, SOCK_DGRAM, 0);
	printf("after closing some: open %s, socket %s\n", fd >= 0 ? "ok" : strerror(errno), s >= 0 ? "ok" : strerror(errno));
	return 0;
}
`

// TestBoundHostFDs: host descriptors glassbox opens for the guest (host
// files, host sockets) are bounded for the whole sandbox below glassbox'
// own descriptor limit: a guest that opens without end gets ENFILE, as
// Linux gives when the system's file table is full, and glassbox keeps
// working (here glassbox runs with RLIMIT_NOFILE 2048, which the guest
// inherits, so the guest's own EMFILE would come later).
func TestBoundHostFDs(t *testing.T) {
	if buildErr != nil {
		t.Fatalf("glassbox unavailable: %v", buildErr)
	}
	bin := compileC(t, "hostfd-hog", hostFDHogC)
	r := run(t, []string{"prlimit", "--nofile=2048", glassboxBin, "run", "--net=host", "--", bin}, nil)
	want := "open: Too many open files in system after 1000 or more opens\nsocket: Too many open files in system\n" +
		"after closing some: open ok, socket ok\n"
	if r.Code != 0 || r.Stdout != want || r.Stderr != "" {
		t.Fatalf("want exit 0 and stdout %q\n%s", want, r)
	}
}
