package overlay

import (
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"glassbox/internal/vfs"
)

// TestLookupStat: lower objects show their own attributes under the
// overlay's device, with inode numbers stable across lookups.
func TestLookupStat(t *testing.T) {
	e := newEnv(t)
	st := e.stat("/a.txt")
	if st.Mode != unix.S_IFREG|0o644 || st.Size != 6 || st.Mtime.Nano() != e.mtime.UnixNano() {
		t.Errorf("a.txt: mode %o size %d mtime %v", st.Mode, st.Size, st.Mtime)
	}
	if st.Dev != e.fs.Dev() || st.Ino != hostIno(t, filepath.Join(e.low, "a.txt")) {
		t.Errorf("a.txt: dev %#x ino %d, want %#x and the host's", st.Dev, st.Ino, e.fs.Dev())
	}
	if st := e.stat("/sub"); st.Mode != unix.S_IFDIR|0o750 || st.Nlink != 3 {
		t.Errorf("sub: mode %o nlink %d", st.Mode, st.Nlink)
	}
	if h1, h2 := e.stat("/hard1"), e.stat("/hard2"); h1.Ino != h2.Ino || h1.Nlink != 2 {
		t.Errorf("hard links: ino %d/%d nlink %d", h1.Ino, h2.Ino, h1.Nlink)
	}
	if e.read("/sub/deep/f") != "deep\n" || e.read("/link") != "hello\n" {
		t.Error("reading lower files")
	}
	at, _ := e.walk("/link")
	if s, err := at.Inode().(vfs.Symlink).Readlink(root); s != "a.txt" || err != nil {
		t.Errorf("readlink: %q %v", s, err)
	}
	// A fresh walk reaches the same objects.
	e2 := *e
	e2.ns = e.freshNS()
	for _, p := range []string{"/", "/a.txt", "/sub", "/sub/deep/f", "/link"} {
		if a, b := e.stat(p), e2.stat(p); a.Ino != b.Ino || a.Dev != b.Dev {
			t.Errorf("%s: ino %d then %d", p, a.Ino, b.Ino)
		}
	}
	if _, err := e.walk("/nope"); err != unix.ENOENT {
		t.Errorf("missing name: %v", err)
	}
	if s := e.stat("/"); s.Nlink != 1 || s.Mode&0o7777 != e.stat("/sub/..").Mode&0o7777 {
		t.Errorf("root: nlink %d (a merged directory reports 1)", s.Nlink)
	}
}

// TestCopyUpFile: writing a lower file copies it up with its attributes;
// the host file is untouched; a descriptor opened before reads the copy.
func TestCopyUpFile(t *testing.T) {
	e := newEnv(t)
	before := e.stat("/a.txt")
	ro := e.open("/a.txt", unix.O_RDONLY)
	defer ro.DecRef()
	buf := make([]byte, 2)
	ro.Read(root, [][]byte{buf}, -1)
	e.write("/a.txt", unix.O_APPEND, "world\n")
	if got := e.read("/a.txt"); got != "hello\nworld\n" {
		t.Errorf("after append: %q", got)
	}
	if got := readFile(t, ro); got != "llo\nworld\n" {
		t.Errorf("descriptor opened before copy-up reads %q", got)
	}
	after := e.stat("/a.txt")
	if after.Ino != before.Ino || after.Dev != before.Dev || after.Mode != before.Mode || after.UID != before.UID {
		t.Errorf("copy-up changed identity or attributes: %+v -> %+v", before, after)
	}
	if !e.upperHas("a.txt") {
		t.Error("a.txt not in the upper")
	}
	// chmod copies up, keeping the mtime; a write by a non-root user
	// during copy-up does not drop the setuid bit.
	if st := e.stat("/exe"); st.Mode != unix.S_IFREG|0o4755 {
		t.Errorf("exe: mode %o", st.Mode)
	}
	at, _ := e.walk("/exe")
	must(t, vfs.Chmod(root, at, 0o4711))
	if st := e.stat("/exe"); st.Mode != unix.S_IFREG|0o4711 || st.Mtime.Nano() != e.mtime.UnixNano() || st.Size != 10 {
		t.Errorf("exe after chmod: mode %o mtime %v size %d", st.Mode, st.Mtime, st.Size)
	}
	// O_TRUNC copies up without data.
	e.write("/hard1", unix.O_TRUNC, "x")
	if got := e.read("/hard1"); got != "x" {
		t.Errorf("hard1 after O_TRUNC: %q", got)
	}
	if got := e.read("/hard2"); got != "hh\n" {
		t.Errorf("hard2 (the host's other link) reads %q", got)
	}
}

// TestCopyUpSparse: holes stay holes; truncate copies what it keeps.
func TestCopyUpSparse(t *testing.T) {
	e := newEnv(t)
	f := e.open("/big", unix.O_RDWR)
	if n, err := f.Write(root, [][]byte{[]byte("M")}, 1<<20); n != 1 || err != nil {
		t.Fatal(n, err)
	}
	st, _ := f.Stat(root)
	if st.Size != 3<<20 || st.Blocks > 3*8 {
		t.Errorf("big after copy-up: size %d blocks %d", st.Size, st.Blocks)
	}
	b := make([]byte, 3)
	for off, want := range map[int64]string{0: "B\x00\x00", 1 << 20: "M\x00\x00", 2<<20 + 4: "\x00E\x00", 3<<20 - 1: "\x00"} {
		n, _ := f.Read(root, [][]byte{b}, off)
		if string(b[:n]) != want {
			t.Errorf("at %d: %q, want %q", off, b[:n], want)
		}
	}
	f.DecRef()
	e2 := newEnv(t)
	at, _ := e2.walk("/big")
	must(t, vfs.Truncate(root, at, 1))
	if got := e2.read("/big"); got != "B" {
		t.Errorf("after truncate: %q", got)
	}
}

// TestCopyUpChain: copying up a deep file copies its directories first,
// with their attributes and times; a symlink copies up with its target.
func TestCopyUpChain(t *testing.T) {
	e := newEnv(t)
	e.write("/sub/deep/f", unix.O_APPEND, "er\n")
	for _, p := range []string{"sub", "sub/deep", "sub/deep/f"} {
		if !e.upperHas(p) {
			t.Errorf("%s not copied up", p)
		}
	}
	if e.upperHas("sub/g") || e.upperHas("a.txt") {
		t.Error("copy-up took more than the chain")
	}
	for p, mode := range map[string]uint32{"/sub": 0o750, "/sub/deep": 0o755} {
		st := e.stat(p)
		if st.Mode != unix.S_IFDIR|mode || st.Mtime.Nano() != e.mtime.UnixNano() || st.Nlink != 1 {
			t.Errorf("%s: mode %o mtime %v nlink %d", p, st.Mode, st.Mtime, st.Nlink)
		}
	}
	if names, _ := e.list("/sub/deep"); sorted(names) != "f" {
		t.Errorf("sub/deep lists %v", names)
	}
	at, _ := e.walk("/link")
	must(t, vfs.Chown(root, at, 0, 4242))
	st := e.stat("/link")
	at, _ = e.walk("/link")
	target, _ := at.Inode().(vfs.Symlink).Readlink(root)
	if !e.upperHas("link") || st.GID != 4242 || st.Type() != unix.S_IFLNK || target != "a.txt" {
		t.Errorf("symlink copy-up: gid %d mode %o target %q", st.GID, st.Mode, target)
	}
	if got := e.read("/sub/deep/f"); got != "deep\ner\n" {
		t.Errorf("f: %q", got)
	}
}

// TestPermissions: the vfs checks the lower's mode and owner; a refused
// write copies nothing up.
func TestPermissions(t *testing.T) {
	e := newEnv(t)
	user := &ctx{vfs.Creds{UID: 1000, GID: 1000, EUID: 1000, EGID: 1000, FSUID: 1000, FSGID: 1000}}
	if _, err := e.ns.Open(user, e.root(), e.root(), "/a.txt", unix.O_WRONLY, 0); err != unix.EACCES {
		t.Errorf("user writes a.txt: %v", err)
	}
	if _, err := e.ns.Open(user, e.root(), e.root(), "/sub/g", unix.O_RDONLY, 0); err != unix.EACCES {
		t.Errorf("user searches sub: %v", err)
	}
	if err := e.ns.Mkdir(user, e.root(), e.root(), "/sub2", 0o755); err != unix.EACCES && !strings.Contains(err.Error(), "denied") {
		t.Errorf("user mkdir in /: %v", err)
	}
	if e.upperHas("a.txt") || e.upperHas("sub") {
		t.Error("a refused operation copied up")
	}
}

// TestMmapStatFS: mappings come from the layer holding the file; statfs
// reports overlayfs.
func TestMmapStatFS(t *testing.T) {
	e := newEnv(t)
	ro := e.open("/a.txt", unix.O_RDONLY)
	defer ro.DecRef()
	m1, err := ro.Ops().(vfs.MappableFile).Mappable()
	if err != nil || m1.Size() != 6 {
		t.Fatalf("lower mappable: %v", err)
	}
	ro2 := e.open("/a.txt", unix.O_RDONLY)
	m2, _ := ro2.Ops().(vfs.MappableFile).Mappable()
	ro2.DecRef()
	if m1 != m2 {
		t.Error("two opens of a lower file map different caches")
	}
	e.write("/a.txt", unix.O_APPEND, "more")
	m3, err := ro.Ops().(vfs.MappableFile).Mappable()
	if err != nil || m3.Size() != 10 || m3 == m1 {
		t.Errorf("after copy-up: %v size %d", err, m3.Size())
	}
	at, _ := e.walk("/sub")
	s, err := vfs.StatFS(at)
	if err != nil || s.Type != Magic {
		t.Errorf("statfs: %#x %v", s.Type, err)
	}
}
