package tests

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// fixedTime is the mtime of every file the busybox tests list, so that
// `ls -l` output is stable.
var fixedTime = time.Date(2021, time.March, 4, 5, 6, 7, 0, time.UTC)

// busyboxData is the content of the file the busybox applets read: a few
// lines plus enough bytes to span more than one page.
func busyboxData() string {
	var b strings.Builder
	b.WriteString("first line\nsecond line\n\n")
	for i := 0; b.Len() < 10000; i++ {
		b.WriteString("line " + strconv.Itoa(i) + " of the busybox test file\n")
	}
	return b.String()
}

// TestBusybox runs busybox applets natively and under glassbox.
func TestBusybox(t *testing.T) {
	t.Parallel()
	bb := busybox(t)
	dir := t.TempDir()
	data := busyboxData()
	file := filepath.Join(dir, "data.txt")
	writeFile(t, file, data, 0o644)
	sum := sha256.Sum256([]byte(data))

	// A directory for ls -l: fixed names, modes, sizes and times.
	lsDir := filepath.Join(dir, "lsdir")
	if err := os.Mkdir(lsDir, 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(lsDir, "alpha"), "alpha\n", 0o644)
	writeFile(t, filepath.Join(lsDir, "beta.sh"), "#!/bin/sh\necho beta\n", 0o755)
	writeFile(t, filepath.Join(lsDir, "empty"), "", 0o600)
	if err := os.Mkdir(filepath.Join(lsDir, "subdir"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(filepath.Join(lsDir, "subdir"), 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("alpha", filepath.Join(lsDir, "link")); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"alpha", "beta.sh", "empty", "subdir", "."} {
		if err := os.Chtimes(filepath.Join(lsDir, n), fixedTime, fixedTime); err != nil {
			t.Fatal(err)
		}
	}
	// The symlink's own mtime (ls -l shows it) cannot be set with os.Chtimes,
	// which follows links; let busybox touch -h do it natively.
	stamp := fixedTime.Local().Format("200601021504.05")
	if r := runNative(t, []string{bb, "touch", "-h", "-t", stamp, filepath.Join(lsDir, "link")}); r.Code != 0 {
		t.Fatalf("touch -h: %s", r)
	}

	tests := []struct {
		name string
		argv []string
		want string // expected native stdout, "" to only compare
	}{
		{"echo", []string{"echo", "hello"}, "hello\n"},
		{"echo-args", []string{"echo", "-n", "a", "b  c", ""}, "a b  c "},
		{"cat", []string{"cat", file}, data},
		{"wc-c", []string{"wc", "-c", file}, strconv.Itoa(len(data)) + " " + file + "\n"},
		{"wc", []string{"wc", file}, ""},
		{"sha256sum", []string{"sha256sum", file}, hex.EncodeToString(sum[:]) + "  " + file + "\n"},
		{"head", []string{"head", "-n", "3", file}, "first line\nsecond line\n\n"},
		{"ls-l", []string{"ls", "-l", lsDir}, ""},
		{"ls-l-full-time", []string{"ls", "-l", "--full-time", lsDir}, ""},
		{"ls-la", []string{"ls", "-la", lsDir + "/subdir"}, ""},
		{"ls", []string{"ls", lsDir}, "alpha\nbeta.sh\nempty\nlink\nsubdir\n"},
		{"ls-root", []string{"ls", "/"}, ""},
		{"true", []string{"true"}, ""},
		{"false", []string{"false"}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			native, _ := diff(t, append([]string{bb}, tc.argv...))
			if tc.want != "" && native.Stdout != tc.want {
				t.Errorf("native stdout %q, want %q", native.Stdout, tc.want)
			}
			wantCode := 0
			if tc.name == "false" {
				wantCode = 1
			}
			if native.Code != wantCode {
				t.Errorf("native exit %d, want %d:\n%s", native.Code, wantCode, native)
			}
		})
	}

	// Sanity of the ls -l fixture: the fixed time is what ls shows.
	t.Run("ls-l-fixture", func(t *testing.T) {
		t.Parallel()
		native := runNative(t, []string{bb, "ls", "-l", lsDir})
		day := fixedTime.Local().Format("Jan _2  2006")
		if strings.Count(native.Stdout, day) != 5 {
			t.Errorf("ls -l does not show the fixed time %q five times:\n%s", day, native.Stdout)
		}
	})
}
