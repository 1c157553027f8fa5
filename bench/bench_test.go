package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestWorkloadsSelectable(t *testing.T) {
	all := workloads()
	seen := map[string]bool{}
	for _, w := range all {
		if seen[w.name] {
			t.Errorf("workload %q twice", w.name)
		}
		seen[w.name] = true
		if w.csrc != "" {
			if _, err := csrc.ReadFile("c/" + w.csrc + ".c"); err != nil {
				t.Errorf("%s: %v", w.name, err)
			}
		}
		got, err := selectWorkloads(all, w.name)
		if err != nil || len(got) != 1 || got[0].name != w.name {
			t.Errorf("-only %s selects %v, %v", w.name, got, err)
		}
	}
	got, err := selectWorkloads(all, "startup,futex-pingpong,empty-c")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, w := range got {
		names = append(names, w.name)
	}
	if want := "startup/busybox-true startup/empty-c futex-pingpong"; strings.Join(names, " ") != want {
		t.Errorf("selected %q, want %q", strings.Join(names, " "), want)
	}
	if _, err := selectWorkloads(all, "nosuch"); err == nil {
		t.Error("-only nosuch: no error")
	}
}

// The gcc-O2 workload compiles with -Werror; its input must stay clean.
func TestGccInputCompilesClean(t *testing.T) {
	if _, err := exec.LookPath("gcc"); err != nil {
		t.Skip("no gcc")
	}
	src, err := csrc.ReadFile("c/gccinput.c")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	in := filepath.Join(dir, "gccinput.c")
	if err := os.WriteFile(in, src, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("gcc", "-O2", "-Wall", "-Wextra", "-Werror", "-c",
		"-o", filepath.Join(dir, "x.o"), in).CombinedOutput()
	if err != nil || len(out) != 0 {
		t.Fatalf("gcc: %v\n%s", err, out)
	}
}

func testSandboxes(runsc bool, platforms ...string) []sandbox {
	e := &env{platforms: platforms}
	if runsc {
		e.runsc = "/nonexistent/runsc"
	}
	return e.sandboxes()
}

func TestTableColumns(t *testing.T) {
	w := workload{name: "futex-pingpong", metric: perOp("ns/trip", 1)}
	ok := func(wall time.Duration, op float64) outcome {
		return outcome{stats: stats{wall: wall, op: op}}
	}
	r := row{w: w, native: ok(100*time.Millisecond, 1000)}

	// glassbox' default platform alone: today's unqualified headers.
	var b bytes.Buffer
	r.guests = []outcome{ok(300*time.Millisecond, 3000)}
	printTable(&b, []row{r}, 3, testSandboxes(false, ""))
	hdr := firstLine(strings.TrimLeft(strings.SplitN(b.String(), "\n\n", 2)[1], " "))
	if got := strings.Fields(hdr); strings.Join(got, " ") != "workload native glassbox ratio per-op native per-op slowdown" {
		t.Errorf("header %q", hdr)
	}
	if strings.Contains(b.String(), "runsc") {
		t.Errorf("runsc in a table without runsc:\n%s", b.String())
	}

	// Two platforms and runsc; runsc twice as fast as ptrace per op, and
	// seccomp failed.
	b.Reset()
	r.guests = []outcome{ok(300*time.Millisecond, 3000), {fail: "exit status 1", failOut: "boom"}, ok(200*time.Millisecond, 1500)}
	sbs := testSandboxes(true, "ptrace", "seccomp")
	printTable(&b, []row{r}, 3, sbs)
	printFailures(&b, []row{r}, sbs)
	out := b.String()
	for _, want := range []string{
		"glassbox ptrace", "glassbox seccomp", "runsc-systrap", "ratio runsc", "per-op runsc",
		"slowdown runsc", "ptrace/runsc", "seccomp/runsc",
		"3000 ns/trip", "1500 ns/trip", "2.00x", // ptrace/runsc
		"glassbox/seccomp: exit status 1: boom",
		"FAIL futex-pingpong (glassbox/seccomp): exit status 1\n    boom",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("no %q in\n%s", want, out)
		}
	}
	row := out[strings.Index(out, "\n  futex-pingpong")+1:]
	row = firstLine(row)
	// seccomp's wall, ratio, per-op, slowdown and seccomp/runsc.
	if n := strings.Count(row, "FAIL"); n != 5 {
		t.Errorf("%d FAIL cells, want 5: %q", n, row)
	}
}

// A run that times out under runsc ends with SIGTERM, so runsc tears its
// sandbox down (a SIGKILLed runsc leaves its network namespace mounted).
func TestRunscTimeout(t *testing.T) {
	e := &env{timeout: time.Second}
	findRunsc(e)
	if e.runsc == "" {
		t.Skip("runsc: " + e.runscNote)
	}
	e.dir = t.TempDir()
	var sb sandbox
	for _, s := range e.sandboxes() {
		if s.runsc {
			sb = s
		}
	}
	before, _ := filepath.Glob(filepath.Join(os.TempDir(), "runsc-do*"))
	w := workload{name: "sleep"}
	start := time.Now()
	_, err := runOnce(e, w, sb.wrap(e, w, []string{"/bin/sleep", "30"}))
	if err == nil || !strings.Contains(err.Error(), "timed out") {
		t.Fatalf("runOnce: %v, want a timeout", err)
	}
	if d := time.Since(start); d > 4*time.Second {
		t.Errorf("took %v: runsc did not end on SIGTERM", d)
	}
	after, _ := filepath.Glob(filepath.Join(os.TempDir(), "runsc-do*"))
	if len(after) > len(before) {
		t.Errorf("runsc left %v behind (had %v)", after, before)
	}
}
