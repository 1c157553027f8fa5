package tests

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// makeRoot creates dir/bin/busybox, a copy of the host's static busybox,
// and returns dir.
func makeRoot(t *testing.T, dir string) string {
	t.Helper()
	data, err := os.ReadFile(busybox(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "bin"), 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "bin", "busybox"), string(data), 0o755)
	return dir
}

// TestRootOnlyBusybox: --root R where R holds nothing but bin/busybox.
func TestRootOnlyBusybox(t *testing.T) {
	t.Parallel()
	root := makeRoot(t, t.TempDir())
	gb := []string{"--root", root}

	r := runGlassbox(t, gb, []string{"/bin/busybox", "echo", "hi"})
	expect(t, "busybox echo hi", r, "hi\n", 0)

	r = runGlassbox(t, gb, []string{"/bin/busybox", "ls", "/"})
	expect(t, "busybox ls /", r, "bin\n", 0)

	r = runGlassbox(t, gb, []string{"/bin/busybox", "ls", "/bin"})
	expect(t, "busybox ls /bin", r, "busybox\n", 0)

	// PROG without a slash is looked up in PATH inside the root.
	r = runGlassbox(t, append(gb, "--env", "PATH=/bin"), []string{"busybox", "echo", "via", "PATH"})
	expect(t, "busybox via PATH", r, "via PATH\n", 0)
}

// TestRootEscape: nothing under --root R reaches outside R: not `..` above
// the root, not a relative symlink climbing out, not an absolute symlink to a
// host directory (it is resolved inside R), not a host absolute path.
//
// Layout:
//
//	base/marker            a host file outside the root
//	base/root/bin/busybox
//	base/root/etcl -> /etc  (R has no etc, so this dangles inside R)
//	base/root/up -> ../..   (inside R this is just /)
//	base/root/abs -> base/marker (absolute host path of the marker)
//
// Expected outputs are what `chroot R` gives on the host.
func TestRootEscape(t *testing.T) {
	t.Parallel()
	base := t.TempDir()
	root := makeRoot(t, filepath.Join(base, "root"))
	const secret = "glassbox-escape-marker: if you can read this, the root leaked\n"
	marker := filepath.Join(base, "marker")
	writeFile(t, marker, secret, 0o644)
	for link, target := range map[string]string{"etcl": "/etc", "up": "../..", "abs": marker} {
		if err := os.Symlink(target, filepath.Join(root, link)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := os.Stat(filepath.Join(root, "etc")); err == nil {
		t.Fatal("the root must have no etc")
	}
	hostname, _ := os.ReadFile("/etc/hostname")
	passwdFile, _ := os.ReadFile("/etc/passwd")
	passwd, _, _ := strings.Cut(string(passwdFile), "\n") // its first line, "root:x:0:0:..."

	// Must fail: the file does not exist inside R.
	mustFail := []struct {
		name string
		argv []string
	}{
		{"etc-symlink", []string{"cat", "/etcl/hostname"}},
		{"dotdot-etc", []string{"cat", "/../../../etc/passwd"}},
		{"dotdot-marker", []string{"cat", "/../marker"}},
		{"symlink-up-marker", []string{"cat", "/up/marker"}},
		{"symlink-up-dotdot-marker", []string{"cat", "/up/../marker"}},
		{"symlink-up-up-marker", []string{"cat", "/up/up/../up/marker"}},
		{"abs-symlink-marker", []string{"cat", "/abs"}},
		{"host-abs-marker", []string{"cat", marker}},
		{"etc-dir", []string{"ls", "/etcl/"}},
	}
	for _, tc := range mustFail {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := runGlassbox(t, []string{"--root", root}, append([]string{"/bin/busybox"}, tc.argv...))
			if r.Code != 1 || r.Stdout != "" {
				t.Errorf("%q under --root must fail with exit 1 and no output, got %s", tc.argv, r)
			}
			if !strings.Contains(r.Stderr, "No such file or directory") {
				t.Errorf("%q: stderr lacks ENOENT message:\n%s", tc.argv, r.Stderr)
			}
			for what, leak := range map[string][]byte{"marker": []byte(secret),
				"/etc/hostname": hostname, "/etc/passwd": []byte(passwd)} {
				if s := strings.TrimSpace(string(leak)); s != "" &&
					(strings.Contains(r.Stdout, s) || strings.Contains(r.Stderr, s)) {
					t.Errorf("%q leaked the host's %s:\n%s", tc.argv, what, r)
				}
			}
		})
	}

	// Must succeed, seeing only R.
	const rootList = "abs\nbin\netcl\nup\n"
	mustWork := []struct {
		name string
		argv []string
		want string
	}{
		{"ls-root", []string{"ls", "/"}, rootList},
		{"ls-up", []string{"ls", "/up"}, rootList},
		{"ls-up-slash", []string{"ls", "/up/"}, rootList},
		{"ls-up-dotdot", []string{"ls", "/up/.."}, rootList},
		{"ls-dotdot", []string{"ls", "/../../.."}, rootList},
		{"ls-up-bin", []string{"ls", "/up/up/bin"}, "busybox\n"},
		{"readlink-up", []string{"readlink", "/up"}, "../..\n"},
		{"readlink-etcl", []string{"readlink", "/etcl"}, "/etc\n"},
		{"realpath-up", []string{"realpath", "/up/up/bin/../up"}, "/\n"},
		{"sh-cd-up", []string{"sh", "-c", "cd /up/up/.. && pwd -P && echo *"}, "/\nabs bin etcl up\n"},
		{"sh-cd-dotdot", []string{"sh", "-c", "cd /bin/../../.. && pwd -P && echo *"}, "/\nabs bin etcl up\n"},
	}
	for _, tc := range mustWork {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := runGlassbox(t, []string{"--root", root}, append([]string{"/bin/busybox"}, tc.argv...))
			expect(t, strings.Join(tc.argv, " "), r, tc.want, 0)
		})
	}

	// The host files are untouched and the marker is still where it was.
	t.Cleanup(func() {
		if got, err := os.ReadFile(marker); err != nil || string(got) != secret {
			t.Errorf("marker changed: %q, %v", got, err)
		}
	})
}
