package tests

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"glassbox/tests/stress"
)

var (
	stressOnce  sync.Once
	stressBuilt *stress.Built
	stressErr   error
)

// stressMode reads GLASSBOX_STRESS: "long" runs every program at its long
// size GLASSBOX_STRESS_RUNS times (default 3), about an hour on two CPUs:
//
//	GLASSBOX_STRESS=long go test -count=1 -timeout 4h -run TestStress ./tests/
//
// Otherwise each program runs once at its short size (~30 s in all).
func stressMode(t *testing.T) (long bool, runs int, timeout time.Duration) {
	switch m := os.Getenv("GLASSBOX_STRESS"); m {
	case "", "short":
		return false, 1, runTimeout
	case "long":
		runs = 3
		if s := os.Getenv("GLASSBOX_STRESS_RUNS"); s != "" {
			n, err := strconv.Atoi(s)
			if err != nil || n < 1 {
				t.Fatalf("GLASSBOX_STRESS_RUNS=%q: want a positive number", s)
			}
			runs = n
		}
		return true, runs, 10 * time.Minute
	default:
		t.Fatalf("GLASSBOX_STRESS=%q: want short or long", m)
	}
	return
}

// TestStress runs the concurrency and memory-integrity stress programs
// (tests/stress: issue 13's repros verbatim, fork/exit/exec/munmap/
// mprotect/madvise/signal races in C, Go, python3 and node) natively and
// under glassbox; stdout and exit status must be identical, and glassbox
// must not crash (nor report a data race, when GLASSBOX_BIN is a -race
// build). Each program checks its own invariants and prints only what
// every correct run prints.
func TestStress(t *testing.T) {
	long, runs, timeout := stressMode(t)
	stressOnce.Do(func() {
		dir := filepath.Join(workDir, "stress")
		if stressErr = os.MkdirAll(dir, 0o755); stressErr == nil {
			stressBuilt, stressErr = stress.Build(dir)
		}
	})
	if stressErr != nil {
		t.Fatal(stressErr)
	}
	if buildErr != nil {
		t.Fatalf("glassbox unavailable: %v", buildErr)
	}
	for _, c := range stress.Cases {
		c := c
		t.Run(c.Name, func(t *testing.T) {
			t.Parallel()
			n := c.Short
			if long {
				n = c.Long
			}
			argv := c.Argv(stressBuilt, n)
			for i := 0; i < runs; i++ {
				native, err := stress.Run(argv, nil, timeout, false)
				if err != nil {
					t.Fatal(err)
				}
				if native.TimedOut || native.Code != 0 || strings.Contains(native.Stdout, "FAIL") {
					t.Fatalf("%q: the native run itself fails (a defect of the program):\n%s", argv, stress.Report(native, native))
				}
				gb, err := stress.Run(stress.Glassbox(glassboxBin, argv), nil, timeout, true)
				if err != nil {
					t.Fatal(err)
				}
				if d := stress.Differs(native, gb, false); d != "" {
					t.Fatalf("%q run %d of %d: %s\n%s", argv, i+1, runs, d, stress.Report(native, gb))
				}
			}
		})
	}
}
