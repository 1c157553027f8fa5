package tests

import (
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// checkOneLineError: a failed glassbox invocation exits non-zero (exactly
// wantCode if it is not 0) and says why in exactly one stderr line starting
// with "glassbox: ", with nothing on stdout.
func checkOneLineError(t *testing.T, what string, r res, wantCode int) {
	t.Helper()
	if r.Code == 0 || (wantCode != 0 && r.Code != wantCode) {
		t.Errorf("%s: exit %d, want %s\n%s", what, r.Code, codeDesc(wantCode), r)
	}
	if !strings.HasPrefix(r.Stderr, "glassbox: ") || !strings.HasSuffix(r.Stderr, "\n") ||
		strings.Count(r.Stderr, "\n") != 1 {
		t.Errorf("%s: stderr must be exactly one line starting with \"glassbox: \", got %q", what, r.Stderr)
	}
	if r.Stdout != "" {
		t.Errorf("%s: unexpected stdout %q", what, r.Stdout)
	}
}

func codeDesc(c int) string {
	if c == 0 {
		return "non-zero"
	}
	return "exactly " + strconv.Itoa(c)
}

// TestBadInput: every kind of bad invocation is one line of diagnosis and a
// non-zero exit, never a Go stack trace (runGlassboxRaw checks for those).
func TestBadInput(t *testing.T) {
	t.Parallel()
	bb := busybox(t)
	dir := t.TempDir()
	text := filepath.Join(dir, "not-elf")
	writeFile(t, text, "this is not a program\njust text\n", 0o755)
	noexec := filepath.Join(dir, "no-exec-bit")
	writeFile(t, noexec, "#!/bin/sh\necho hi\n", 0o644)

	tests := []struct {
		name string
		args []string
		code int // 0: any non-zero
	}{
		{"nonexistent-prog", []string{"run", "--", "/nonexistent/prog"}, 0},
		{"nonexistent-prog-in-path", []string{"run", "--", "no-such-program-glassbox-test"}, 0},
		{"nonexistent-root", []string{"run", "--root", "/nonexistent", "--", bb, "true"}, 0},
		{"root-is-a-file", []string{"run", "--root", text, "--", bb, "true"}, 0},
		{"bogus-flag", []string{"--bogus-flag"}, 2},
		{"run-bogus-flag", []string{"run", "--bogus-flag", "--", bb, "true"}, 2},
		{"bogus-command", []string{"no-such-subcommand"}, 2},
		{"run-without-prog", []string{"run"}, 2},
		{"run-without-prog-after-dashes", []string{"run", "--"}, 2},
		{"bad-env", []string{"run", "--env", "NOEQUALSSIGN", "--", bb, "true"}, 2},
		// A text file without #! is ENOEXEC for execve (a shell would then
		// run it as a script; glassbox is not a shell).
		{"not-elf", []string{"run", "--", text}, 0},
		{"directory", []string{"run", "--", dir}, 0},
		{"no-exec-permission", []string{"run", "--", noexec}, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := runGlassboxRaw(t, tc.args...)
			checkOneLineError(t, strings.Join(tc.args, " "), r, tc.code)
		})
	}
}

// TestGoodInput: the CLI forms that must work, as controls for TestBadInput.
func TestGoodInput(t *testing.T) {
	t.Parallel()
	bb := busybox(t)
	r := runGlassboxRaw(t, "run", "--", bb, "echo", "ok")
	expect(t, "run -- busybox echo ok", r, "ok\n", 0)
	r = runGlassboxRaw(t, "run", bb, "echo", "ok") // "--" is optional
	expect(t, "run busybox echo ok", r, "ok\n", 0)
	r = runGlassboxRaw(t, "run", "--", bb, "sh", "-c", "exit 42")
	expect(t, "run -- busybox sh -c 'exit 42'", r, "", 42)
	// Flags after PROG belong to the guest.
	r = runGlassboxRaw(t, "run", "--", bb, "echo", "--root", "x")
	expect(t, "guest flags", r, "--root x\n", 0)
}

// TestTimeout: --timeout kills the whole guest (a shell and its child) and
// glassbox exits 124, silently as timeout(1) does; --verbose says so.
func TestTimeout(t *testing.T) {
	t.Parallel()
	r := runGlassboxRaw(t, "run", "--timeout", "300ms", "--", "/bin/sh", "-c", "sleep 30; echo not reached")
	if r.Code != 124 || r.Stdout != "" || r.Stderr != "" {
		t.Errorf("want exit 124 and nothing printed: %s", r)
	}
	r = runGlassboxRaw(t, "run", "-v", "--timeout", "300ms", "--", "/bin/sh", "-c", "sleep 30; echo not reached")
	if r.Code != 124 || r.Stdout != "" || r.Stderr != "glassbox: /bin/sh timed out after 300ms\n" {
		t.Errorf("-v: want exit 124 and a timeout line: %s", r)
	}
}
