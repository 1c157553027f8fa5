package glassbox

import (
	"context"
	"os"
	"strings"
	"testing"

	"glassbox/internal/platform"
	"glassbox/internal/platform/ptrace"
	"glassbox/internal/platform/seccomp"
)

// TestPlatformLayoutChange: auto's platform publishes seccomp's layout
// before its probe, and the first exec loads the program for it while
// the probe runs; when the probe fails and auto falls back to ptrace
// (simulated here), the program is loaded again for ptrace's layout and
// runs as usual.
func TestPlatformLayoutChange(t *testing.T) {
	if err := seccomp.Available(); err != nil {
		t.Skip(err)
	}
	published := make(chan platform.Layout, 1)
	testPlatform = func(memfd int) closablePlatform {
		lc := make(chan *lazyPlatform, 1)
		l := startPlatform(func(publish func(platform.Layout)) (closablePlatform, error) {
			l := <-lc
			sc, err := seccomp.New(memfd)
			if err != nil {
				return nil, err
			}
			sc.EnablePatching()
			publish(sc.Layout())
			published <- sc.Layout()
			// The first exec has the published layout: it loads for it.
			<-l.tentative
			sc.Close()
			return ptrace.New(memfd)
		})
		lc <- l
		return l
	}
	defer func() { testPlatform = nil }()
	cfg := quiet(t)
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	cfg.Stdout = w
	st, err := Run(context.Background(), cfg, []string{"/bin/sh", "-c", "echo ran; exit 7"})
	w.Close()
	if err != nil {
		t.Fatal(err)
	}
	out := make([]byte, 64)
	n, _ := r.Read(out)
	if got := strings.TrimSpace(string(out[:n])); got != "ran" || st.Code != 7 {
		t.Errorf("output %q status %d, want %q and 7", got, st.Code, "ran")
	}
	if l := <-published; l.Patch == nil {
		t.Errorf("the published layout has no patching: the test does not change the layout")
	}
}
