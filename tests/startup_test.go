package tests

import (
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// startupKeys are the phases of the start-up breakdown --stats prints, in
// order.
var startupKeys = []string{"go", "memfile", "platform", "vfs", "stub", "exec", "first_insn_at", "run", "exit", "total"}

var startupLine = regexp.MustCompile(`(?m)^glassbox: stats: startup (.*)$`)

// TestStatsStartup: --stats adds one line with the start-up breakdown
// (each phase in milliseconds, from glassbox' own start to the guest's
// first instruction, the guest's run, the exit and the total), after the
// counters line; the program's own output is as natively.
func TestStatsStartup(t *testing.T) {
	t.Parallel()
	for _, prog := range [][]string{{"/bin/true"}, {"/bin/sh", "-c", "echo hi; exit 3"}} {
		native, _ := diff(t, prog)
		gb := runGlassbox(t, []string{"--stats"}, prog)
		expect(t, "glassbox --stats", gb, native.Stdout, native.Code)
		if !strings.HasPrefix(gb.Stderr, native.Stderr+"glassbox: stats: syscalls=") {
			t.Errorf("%q: stderr does not start with the counters line:\n%s", prog, gb.Stderr)
		}
		m := startupLine.FindStringSubmatch(gb.Stderr)
		if m == nil {
			t.Errorf("%q: --stats printed no startup line:\n%s", prog, gb.Stderr)
			continue
		}
		fields := strings.Fields(m[1])
		if len(fields) != len(startupKeys) {
			t.Errorf("%q: startup line %q: want the fields %v", prog, m[0], startupKeys)
			continue
		}
		v := map[string]float64{}
		for i, f := range fields {
			k, val, ok := strings.Cut(f, "=")
			if !ok || k != startupKeys[i] || !strings.HasSuffix(val, "ms") {
				t.Errorf("%q: field %q: want %s=<N>ms", prog, f, startupKeys[i])
				continue
			}
			x, err := strconv.ParseFloat(strings.TrimSuffix(val, "ms"), 64)
			if err != nil || x < 0 {
				t.Errorf("%q: field %q: not a duration", prog, f)
			}
			v[k] = x
		}
		// The phases up to the first instruction follow one another, so
		// their sum cannot pass it, and the total covers them all (the
		// printed values are rounded to 0.01 ms each).
		sum := v["go"] + v["memfile"] + v["platform"] + v["vfs"] + v["stub"] + v["exec"]
		if sum > v["first_insn_at"]+0.06 {
			t.Errorf("%q: the phases before the first instruction add up to %.2f ms, past first_insn_at (%s)", prog, sum, m[0])
		}
		if v["first_insn_at"] <= 0 || v["go"] <= 0 || v["exec"] <= 0 {
			t.Errorf("%q: go, exec and first_insn_at must be measured: %s", prog, m[0])
		}
		if v["first_insn_at"]+v["run"]+v["exit"] > v["total"]+0.03 {
			t.Errorf("%q: first_insn_at+run+exit past the total: %s", prog, m[0])
		}
	}
}

// TestQuietStartup: without --stats glassbox prints nothing of its own,
// start-up breakdown included: stdout, stderr and status are exactly the
// native ones.
func TestQuietStartup(t *testing.T) {
	t.Parallel()
	for _, prog := range [][]string{{"/bin/true"}, {"/bin/sh", "-c", "echo out; echo err >&2; exit 3"}} {
		native, gb := diff(t, prog)
		if gb.Stderr != native.Stderr || gb.Stdout != native.Stdout {
			t.Errorf("%q: glassbox wrote stdout %q stderr %q; natively %q %q", prog, gb.Stdout, gb.Stderr, native.Stdout, native.Stderr)
		}
	}
}
