package tests

import (
	"bufio"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"
)

// Memory, complete: msync, mincore, mlock, madvise, mremap, smaps and
// pagemap, SIGBUS after truncation, allocators, page cache sharing.

// diffArgs runs nativeArgv on the host and gbArgv under glassbox (with
// gbFlags) and requires equal stdout and exit status.
func diffArgs(t *testing.T, nativeArgv, gbFlags, gbArgv []string) {
	t.Helper()
	n := runNative(t, nativeArgv)
	g := runGlassbox(t, gbFlags, gbArgv)
	if n.Stdout != g.Stdout || n.Code != g.Code {
		t.Errorf("glassbox differs from native\n===== native %q: %s\n===== glassbox %q %q: %s", nativeArgv, n, gbFlags, gbArgv, g)
	}
}

// bindDir is a host directory, and the glassbox flags that mount it
// writable at /mnt in the guest.
func bindDir(t *testing.T) (string, []string) {
	dir := t.TempDir()
	return dir, []string{"--bind", dir + ":/mnt"}
}

func TestMem2SharedMapRead(t *testing.T) {
	bin := compileC(t, "mem2shmap", mem2SharedMapC)
	diff(t, []string{bin, "/tmp"}) // tmpfs in glassbox
	dir, flags := bindDir(t)
	diffArgs(t, []string{bin, dir}, flags, []string{bin, "/mnt"})
}

func TestMem2Mincore(t *testing.T) {
	diff(t, []string{compileC(t, "mem2mincore", mem2MincoreC)})
}

func TestMem2Madvise(t *testing.T) {
	bin := compileC(t, "mem2madvise", mem2MadviseC)
	diff(t, []string{bin, "/tmp"})
	dir, flags := bindDir(t)
	diffArgs(t, []string{bin, dir}, flags, []string{bin, "/mnt"})
}

func TestMem2Mremap(t *testing.T) {
	diff(t, []string{compileC(t, "mem2mremap", mem2MremapC), "/tmp"})
}

func TestMem2SigbusAfterTruncate(t *testing.T) {
	bin := compileC(t, "mem2sigbus", mem2SigbusC)
	diff(t, []string{bin, "/tmp"})
	dir, flags := bindDir(t)
	diffArgs(t, []string{bin, dir}, flags, []string{bin, "/mnt"})
}

func TestMem2MsyncErrors(t *testing.T) {
	diff(t, []string{compileC(t, "mem2msyncerr", mem2MsyncErrC)})
}

// TestMem2MsyncBind checks from the host side that a --bind file has what
// a guest stored through MAP_SHARED after msync(MS_SYNC), msync(MS_ASYNC),
// fsync and munmap, while the guest still runs, and after it exits.
func TestMem2MsyncBind(t *testing.T) {
	bin := compileC(t, "mem2msync", mem2MsyncC)
	dir, flags := bindDir(t)
	if buildErr != nil {
		t.Fatalf("glassbox unavailable: %v", buildErr)
	}
	ctx, cancel := context.WithTimeout(context.Background(), runTimeout)
	defer cancel()
	args := append(append([]string{"run"}, flags...), "--", bin, "/mnt/f.dat")
	cmd := exec.CommandContext(ctx, glassboxBin, args...)
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	r := bufio.NewReader(stdout)
	host := func(off, n int) string {
		b, err := os.ReadFile(filepath.Join(dir, "f.dat"))
		if err != nil || len(b) < off+n {
			return "<" + strconv.Itoa(len(b)) + " bytes>"
		}
		return string(b[off : off+n])
	}
	for _, s := range []struct {
		step, want string
		off        int
	}{
		{"synced", "msync-sync", 0},
		{"async", "msync-async", 4096},
		{"fsynced", "via-fsync!", 0},
		{"unmapped", "at-munmap!", 0},
	} {
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatalf("waiting for %q: %v (%q)", s.step, err, line)
		}
		if line != s.step+"\n" {
			t.Fatalf("guest said %q, want %q", line, s.step)
		}
		if got := host(s.off, len(s.want)); got != s.want {
			t.Errorf("after %s the host file has %q, want %q", s.step, got, s.want)
		}
		io.WriteString(stdin, "go\n")
	}
	stdin.Close()
	if err := cmd.Wait(); err != nil {
		t.Fatalf("guest: %v", err)
	}
	if got := host(0, 10); got != "at-exit!!!" {
		t.Errorf("after exit the host file has %q, want %q", got, "at-exit!!!")
	}
}

func TestMem2Mlock(t *testing.T) {
	diff(t, []string{compileC(t, "mem2mlock", mem2MlockC)})
}

func TestMem2SmapsPagemap(t *testing.T) {
	diff(t, []string{compileC(t, "mem2smaps", mem2SmapsC)})
}

// TestMem2Allocators runs an allocation-heavy program with glibc's malloc
// and with jemalloc preloaded (the program says which one it got).
func TestMem2Allocators(t *testing.T) {
	const jemalloc = "/usr/lib/x86_64-linux-gnu/libjemalloc.so.2"
	if _, err := os.Stat(jemalloc); err != nil {
		t.Fatalf("%s missing (%v): run scripts/setup (apt-get install libjemalloc2)", jemalloc, err)
	}
	bin := compileC(t, "mem2alloc", mem2AllocC, "-dynamic")
	n, _ := diff(t, []string{bin})
	if !regexp.MustCompile(`checksum [0-9a-f]{16} jemalloc=0\n`).MatchString(n.Stdout) {
		t.Errorf("glibc run: %q", n.Stdout)
	}
	n, _ = diffWith(t, diffOpts{env: []string{"LD_PRELOAD=" + jemalloc}}, []string{bin})
	if !regexp.MustCompile(`jemalloc=1\n`).MatchString(n.Stdout) {
		t.Errorf("jemalloc run: %q", n.Stdout)
	}
}

// TestMem2PageCacheSharing maps one 64 MiB file in ten processes at once:
// glassbox' memory file must grow by about 64 MiB, not 640.
func TestMem2PageCacheSharing(t *testing.T) {
	bin := compileC(t, "mem2share", mem2ShareC)
	dir, flags := bindDir(t)
	peak := regexp.MustCompile(`mem_peak_kib=(\d+)`)
	check := func(what string, gbFlags, argv []string) {
		t.Helper()
		start := time.Now()
		r := runGlassbox(t, append([]string{"--stats"}, gbFlags...), argv)
		if r.Code != 0 || r.Stdout != "sum 2088960 same 1\n" {
			t.Fatalf("%s: %s", what, r)
		}
		m := peak.FindStringSubmatch(r.Stderr)
		if m == nil {
			t.Fatalf("%s: no mem_peak_kib in --stats output:\n%s", what, r.Stderr)
		}
		kib, _ := strconv.Atoi(m[1])
		t.Logf("%s: peak %d MiB in %v", what, kib>>10, time.Since(start))
		if kib < 64<<10 || kib > 128<<10 {
			t.Errorf("%s: memory-file peak %d KiB, want about 64 MiB (one shared copy)", what, kib)
		}
	}
	check("tmpfs shared", nil, []string{bin, "/tmp/mem2share.dat", "create", "shared"})
	check("tmpfs private", nil, []string{bin, "/tmp/mem2share.dat", "create", "private"})
	// A host file under --bind, created by the first run.
	check("bind shared", flags, []string{bin, "/mnt/big.dat", "create", "shared"})
	if st, err := os.Stat(filepath.Join(dir, "big.dat")); err != nil || st.Size() != 64<<20 {
		t.Fatalf("host file: %v %v", st, err)
	}
	check("bind private", flags, []string{bin, "/mnt/big.dat", "no", "private"})
}

// TestMem2Meminfo checks /proc/meminfo of the sandbox: locked and shared
// memory the guest holds show, no swap, MemTotal no more than the host's.
func TestMem2Meminfo(t *testing.T) {
	bin := compileC(t, "mem2meminfo", mem2MeminfoC)
	r := runGlassbox(t, nil, []string{bin})
	if r.Code != 0 {
		t.Fatalf("%s", r)
	}
	field := func(text, name string) int {
		m := regexp.MustCompile(`(?m)^` + name + `:\s+(\d+) kB$`).FindStringSubmatch(text)
		if m == nil {
			t.Fatalf("no %s in\n%s", name, text)
		}
		n, _ := strconv.Atoi(m[1])
		return n
	}
	host, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		t.Fatal(err)
	}
	if got, max := field(r.Stdout, "MemTotal"), field(string(host), "MemTotal"); got <= 0 || got > max {
		t.Errorf("MemTotal %d kB, host has %d kB", got, max)
	}
	if free, total := field(r.Stdout, "MemFree"), field(r.Stdout, "MemTotal"); free >= total {
		t.Errorf("MemFree %d kB not below MemTotal %d kB", free, total)
	}
	for _, f := range []string{"Mlocked", "Shmem", "Cached"} {
		if n := field(r.Stdout, f); n < 1024 {
			t.Errorf("%s = %d kB, want at least the 1024 kB the guest holds", f, n)
		}
	}
	for _, f := range []string{"SwapTotal", "SwapFree"} {
		if n := field(r.Stdout, f); n != 0 {
			t.Errorf("%s = %d kB, want 0 (no swap)", f, n)
		}
	}
}

// mem2MeminfoC holds 1 MiB of locked shared memory and prints /proc/meminfo.
const mem2MeminfoC = `
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
int main() {
	char *a = mmap(0, 1 << 20, PROT_READ|PROT_WRITE, MAP_SHARED|MAP_ANONYMOUS, -1, 0);
	memset(a, 1, 1 << 20);
	if (mlock(a, 1 << 20) < 0) { perror("mlock"); return 1; }
	FILE *f = fopen("/proc/meminfo", "r"); char l[256];
	while (fgets(l, sizeof l, f)) fputs(l, stdout);
	return 0;
}
`
