package hostfs

import (
	"os"
	"testing"

	"golang.org/x/sys/unix"

	"glassbox/internal/memfile"
	"glassbox/internal/vfs"
)

// A writable hostfs keeps the guest's attributes on the host files; a
// symlink's own attributes are the symlink's, never its target's; a
// read-only hostfs shows the host's and changes none.
func TestXattr(t *testing.T) {
	e := newEnv(t)
	os.WriteFile(e.host("f"), nil, 0o644)
	os.Symlink("f", e.host("l"))
	if err := unix.Setxattr(e.host("f"), "user.host", []byte("h"), 0); err != nil {
		t.Skipf("the host directory keeps no user xattrs: %v", err)
	}
	p, err := e.walk("/f", 0)
	must(t, "walk f", err)
	must(t, "set", vfs.SetXattr(root, p, "user.g", []byte("guest"), unix.XATTR_CREATE))
	wantErr(t, "create again", vfs.SetXattr(root, p, "user.g", nil, unix.XATTR_CREATE), unix.EEXIST)
	buf := make([]byte, 16)
	n, err := unix.Getxattr(e.host("f"), "user.g", buf)
	if err != nil || string(buf[:n]) != "guest" {
		t.Fatalf("host user.g = %q, %v", buf[:n], err)
	}
	l, err := vfs.ListXattr(root, p)
	if err != nil || string(l) != "user.host\x00user.g\x00" && string(l) != "user.g\x00user.host\x00" {
		t.Fatalf("list = %q, %v", l, err)
	}
	v, err := vfs.GetXattr(root, p, "user.host")
	if err != nil || string(v) != "h" {
		t.Fatalf("get user.host = %q, %v", v, err)
	}
	must(t, "remove", vfs.RemoveXattr(root, p, "user.g"))
	wantErr(t, "remove again", vfs.RemoveXattr(root, p, "user.g"), unix.ENODATA)

	lp, err := e.walk("/l", 0)
	must(t, "walk l", err)
	wantErr(t, "get through symlink inode", func() error { _, err := vfs.GetXattr(root, lp, "user.host"); return err }(), unix.ENODATA)
	sec, ok := lp.Inode().(vfs.Xattrer)
	if !ok {
		t.Fatal("symlink is not an Xattrer")
	}
	// Past the vfs' user.* rule, the host call still lands on the link.
	wantErr(t, "set user.* on the link", sec.SetXattr(root, "user.x", []byte("1"), 0), unix.EPERM)
	if _, err := unix.Getxattr(e.host("f"), "user.x", buf); err != unix.ENODATA {
		t.Fatalf("the target got the link's attribute: %v", err)
	}

	mf, _ := memfile.New(1 << 20)
	ro, err := New(e.dir, true, mf)
	must(t, "new read-only", err)
	f, err := ro.Root().(vfs.Dir).Lookup(root, "f")
	must(t, "lookup", err)
	xa := f.(vfs.Xattrer)
	v, err = xa.GetXattr(root, "user.host")
	if err != nil || string(v) != "h" {
		t.Fatalf("read-only get = %q, %v", v, err)
	}
	wantErr(t, "read-only set", xa.SetXattr(root, "user.y", nil, 0), unix.EROFS)
	wantErr(t, "read-only remove", xa.RemoveXattr(root, "user.host"), unix.EROFS)
}
