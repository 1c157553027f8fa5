package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// With GLASSBOX_CPUPROFILE set, profiled runs f either way: built with
// -tags pprof it writes the profile; without, it says so and writes none.
func TestProfiled(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cpu.prof")
	t.Setenv("GLASSBOX_CPUPROFILE", path)
	var stderr bytes.Buffer
	if got := profiled(&stderr, func() int { return 7 }); got != 7 {
		t.Errorf("profiled returned %d, want f's 7", got)
	}
	st, err := os.Stat(path)
	if cpuProfile == nil {
		if err == nil || !strings.Contains(stderr.String(), "-tags pprof") {
			t.Errorf("without profiling built in: profile %v, stderr %q", err, stderr.String())
		}
		return
	}
	if err != nil || st.Size() == 0 || stderr.Len() != 0 {
		t.Errorf("with profiling built in: profile %v (%v), stderr %q", st, err, stderr.String())
	}
}
