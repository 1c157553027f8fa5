package overlay

import (
	"path/filepath"
	"slices"
	"testing"

	"golang.org/x/sys/unix"

	"glassbox/internal/vfs"
)

// A lower file's attributes show through the overlay; changing one copies
// the file up with all of them, and the host file keeps its own.
func TestXattrCopyUp(t *testing.T) {
	e := newEnvWith(t, 1<<20, func(dir string) {
		for _, kv := range [][2]string{{"user.a", "1"}, {"user.b", "22"}} {
			if err := unix.Setxattr(filepath.Join(dir, "a.txt"), kv[0], []byte(kv[1]), 0); err != nil {
				t.Skipf("the host directory keeps no user xattrs: %v", err)
			}
		}
	})
	p, err := e.walk("/a.txt")
	if err != nil {
		t.Fatal(err)
	}
	if v, err := vfs.GetXattr(root, p, "user.b"); err != nil || string(v) != "22" {
		t.Fatalf("lower user.b = %q, %v", v, err)
	}
	if _, err := vfs.GetXattr(root, p, "user.c"); err != unix.ENODATA {
		t.Fatalf("lower user.c: %v, want ENODATA", err)
	}
	if err := vfs.RemoveXattr(root, p, "user.c"); err != unix.ENODATA {
		t.Fatalf("remove absent: %v, want ENODATA", err)
	}
	if unwrap(p.Inode()).up() != nil {
		t.Fatal("removing an absent attribute copied the file up")
	}
	if err := vfs.SetXattr(root, p, "user.a", []byte("one"), unix.XATTR_REPLACE); err != nil {
		t.Fatal(err)
	}
	if unwrap(p.Inode()).up() == nil {
		t.Fatal("setting an attribute did not copy the file up")
	}
	l, err := vfs.ListXattr(root, p)
	if err != nil || string(l) != "user.a\x00user.b\x00" {
		t.Fatalf("list after copy-up = %q, %v", l, err)
	}
	if v, err := vfs.GetXattr(root, p, "user.a"); err != nil || string(v) != "one" {
		t.Fatalf("upper user.a = %q, %v", v, err)
	}
	buf := make([]byte, 16)
	n, err := unix.Getxattr(filepath.Join(e.low, "a.txt"), "user.a", buf)
	if err != nil || string(buf[:n]) != "1" {
		t.Fatalf("host user.a = %q, %v: the lower changed", buf[:n], err)
	}
	if err := vfs.RemoveXattr(root, p, "user.b"); err != nil {
		t.Fatal(err)
	}
	if names, _ := vfs.ListXattr(root, p); !slices.Equal(names, []byte("user.a\x00")) {
		t.Fatalf("list after remove = %q", names)
	}
}
