package userns

import (
	"os"
	"strconv"
	"strings"
	"testing"
)

// HostBounding (prctl) agrees with the CapBnd line the host kernel prints.
func TestHostBoundingMatchesProc(t *testing.T) {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Skip(err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "CapBnd:"); ok {
			want, err := strconv.ParseUint(strings.TrimSpace(v), 16, 64)
			if err != nil {
				t.Fatal(err)
			}
			if got := HostBounding(); got != want&capFull {
				t.Fatalf("HostBounding() = %#x, CapBnd = %#x", got, want)
			}
			return
		}
	}
	t.Skip("no CapBnd line")
}
