package glassbox

import (
	"context"
	"os"
	"runtime"
	"testing"
	"time"

	"glassbox/internal/hostfd"
)

func openFDs(t *testing.T) map[string]string {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, e := range ents {
		out[e.Name()], _ = os.Readlink("/proc/self/fd/" + e.Name())
	}
	return out
}

// Once Wait returns, a sandbox has given back every host descriptor it
// opened (the memory file, the stub image, the root's and binds' O_PATH
// descriptors and page caches) and every goroutine, even when its guest
// used files, a bind, threads and an epoll file polled in a loop (found
// by the syscall fuzzer, seed 1).
func TestSandboxGivesBackHostResources(t *testing.T) {
	cfg := quiet(t)
	dir := t.TempDir()
	if err := os.WriteFile(dir+"/f", []byte("data\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg.Binds = []Bind{{Host: dir, Guest: "/mnt"}}
	script := `cat /etc/passwd /mnt/f > /dev/null; echo x >> /mnt/f; ls / > /tmp/ls; ` +
		`python3 -c 'import select,threading; e=select.epoll(); r,w=__import__("os").pipe(); e.register(r,1); ` +
		`p=select.poll(); p.register(e.fileno(),1); [p.poll(0) for _ in range(200)]; ` +
		`t=threading.Thread(target=lambda: None); t.start(); t.join()'`
	// Warm up once: the Go runtime keeps threads and some lazily started
	// goroutines (os/signal) for the life of the process.
	for i := 0; i < 2; i++ {
		fds, g, counted := openFDs(t), runtime.NumGoroutine(), hostfd.InUse()
		s, err := Start(context.Background(), cfg, []string{"/bin/sh", "-c", script})
		if err != nil {
			t.Fatal(err)
		}
		if st := waitTimeout(t, s); st.ShellCode() != 0 {
			t.Fatalf("guest exit status %d", st.ShellCode())
		}
		if i == 0 {
			continue
		}
		deadline := time.Now().Add(5 * time.Second)
		for runtime.NumGoroutine() > g && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		if n := runtime.NumGoroutine(); n > g {
			t.Errorf("%d goroutines after the run, %d before", n, g)
		}
		if n := s.LeakedFrames(); n != 0 {
			t.Errorf("%d memory frames in use after the run that nothing holds", n)
		}
		if n := hostfd.InUse(); n != counted {
			t.Errorf("%d host descriptors counted for guests after the run, %d before", n, counted)
		}
		after := openFDs(t)
		for fd, target := range after {
			if fds[fd] != target {
				t.Errorf("descriptor %s (%s) left open", fd, target)
			}
		}
	}
}

// With ExitAfterWait the first process's address space is not released
// when its exit ends the sandbox: its frames stay for the host process's
// exit, and LeakedFrames counts them. Every other address space is freed
// as without it: a child's 64 MiB, and the first process's own image
// before its exec.
func TestExitAfterWaitLeavesFirstProcessFrames(t *testing.T) {
	script := `python3 -c "b = b'x' * (64 << 20)"; exec /bin/true`
	for _, exitAfter := range []bool{false, true} {
		cfg := quiet(t)
		cfg.ExitAfterWait = exitAfter
		s, err := Start(context.Background(), cfg, []string{"/bin/sh", "-c", script})
		if err != nil {
			t.Fatal(err)
		}
		if st := waitTimeout(t, s); st.ShellCode() != 0 {
			t.Fatalf("guest exit status %d", st.ShellCode())
		}
		n := s.LeakedFrames()
		t.Logf("ExitAfterWait=%v: %d frames left", exitAfter, n)
		switch {
		case !exitAfter && n != 0:
			t.Errorf("%d frames left without ExitAfterWait", n)
		case exitAfter && (n == 0 || n > 1024):
			t.Errorf("%d frames left with ExitAfterWait: want those of /bin/true's address space only (1 to 1024)", n)
		}
	}
}
