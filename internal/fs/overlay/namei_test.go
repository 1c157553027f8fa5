package overlay

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"golang.org/x/sys/unix"

	"glassbox/internal/vfs"
)

// TestWhiteout: removing a lower name hides it from lookups and listings
// (also in fresh walks); making it again shows the new object.
func TestWhiteout(t *testing.T) {
	e := newEnv(t)
	r := e.root()
	oldIno := e.stat("/a.txt").Ino
	must(t, e.ns.Unlink(root, r, r, "/a.txt"))
	wantErr(t, "unlink again", e.ns.Unlink(root, r, r, "/a.txt"), unix.ENOENT)
	e2 := *e
	e2.ns = e.freshNS()
	if _, err := e2.walk("/a.txt"); err != unix.ENOENT {
		t.Errorf("lookup after unlink: %v", err)
	}
	if names, _ := e.list("/"); sorted(names) != "big empty exe hard1 hard2 link sub" {
		t.Errorf("root lists %v", names)
	}
	if _, err := e.walk("/link/"); err != unix.ENOENT {
		t.Errorf("dangling link: %v", err)
	}
	e.write("/a.txt", unix.O_CREAT|unix.O_EXCL, "new")
	if got := e.read("/link"); got != "new" {
		t.Errorf("a.txt made again reads %q", got)
	}
	if st := e.stat("/a.txt"); st.Ino == oldIno || st.Ino < allocBase {
		t.Errorf("new a.txt has ino %d (old %d)", st.Ino, oldIno)
	}
	// Unlink of an upper file over a lower name leaves a whiteout too.
	must(t, e.ns.Unlink(root, r, r, "/a.txt"))
	if _, err := e2.walk("/a.txt"); err != unix.ENOENT {
		t.Errorf("lookup after second unlink: %v", err)
	}
	wantErr(t, "unlink a directory", e.ns.Unlink(root, r, r, "/sub"), unix.EISDIR)
	wantErr(t, "rmdir a file", e.ns.Rmdir(root, r, r, "/exe"), unix.ENOTDIR)
}

// TestOpaque: rmdir needs the merged directory empty; a directory made
// again in its place hides the lower one's entries.
func TestOpaque(t *testing.T) {
	e := newEnv(t)
	r := e.root()
	wantErr(t, "rmdir non-empty", e.ns.Rmdir(root, r, r, "/sub"), unix.ENOTEMPTY)
	must(t, e.ns.Unlink(root, r, r, "/sub/deep/f"))
	wantErr(t, "rmdir sub with deep", e.ns.Rmdir(root, r, r, "/sub"), unix.ENOTEMPTY)
	must(t, e.ns.Rmdir(root, r, r, "/sub/deep"))
	must(t, e.ns.Unlink(root, r, r, "/sub/g"))
	if names, _ := e.list("/sub"); len(names) != 0 {
		t.Errorf("emptied sub lists %v", names)
	}
	must(t, e.ns.Rmdir(root, r, r, "/sub"))
	if _, err := e.walk("/sub/g"); err != unix.ENOENT {
		t.Errorf("sub/g after rmdir sub: %v", err)
	}
	must(t, e.ns.Mkdir(root, r, r, "/sub", 0o700))
	if names, _ := e.list("/sub"); len(names) != 0 {
		t.Errorf("opaque sub lists %v", names)
	}
	for _, p := range []string{"/sub/g", "/sub/deep"} {
		if _, err := e.freshNS().Walk(root, e.root(), e.root(), p, 0); err != unix.ENOENT {
			t.Errorf("%s in opaque sub: %v", p, err)
		}
	}
	e.write("/sub/g", unix.O_CREAT, "mine")
	if got := e.read("/sub/g"); got != "mine" {
		t.Errorf("sub/g: %q", got)
	}
	if st := e.stat("/sub"); st.Mode != unix.S_IFDIR|0o700 || st.Nlink != 2 {
		t.Errorf("new sub: mode %o nlink %d", st.Mode, st.Nlink)
	}
	// An empty lower directory goes at once.
	must(t, e.ns.Rmdir(root, r, r, "/empty"))
}

// TestReadDirMerge: upper names first, then lower ones, no duplicates, and
// each entry's inode number is what stat says.
func TestReadDirMerge(t *testing.T) {
	e := newEnv(t)
	r := e.root()
	e.write("/zz", unix.O_CREAT, "z")
	must(t, e.ns.Mkdir(root, r, r, "/sub/new", 0o755))
	e.write("/sub/g", unix.O_APPEND, "more") // now in both layers
	names, inos := e.list("/sub")
	if sorted(names) != "deep g new" || names[0] != "new" && names[0] != "g" {
		t.Errorf("sub lists %v", names)
	}
	names, inos2 := e.list("/")
	if sorted(names) != "a.txt big empty exe hard1 hard2 link sub zz" {
		t.Errorf("root lists %v", names)
	}
	e2 := *e
	e2.ns = e.freshNS()
	for name, ino := range inos {
		if st := e2.stat("/sub/" + name); st.Ino != ino {
			t.Errorf("sub/%s: readdir ino %d, stat %d", name, ino, st.Ino)
		}
	}
	for name, ino := range inos2 {
		if st := e2.stat("/" + name); st.Ino != ino {
			t.Errorf("%s: readdir ino %d, stat %d", name, ino, st.Ino)
		}
	}
}

// TestRename: files move (lower ones copied up, the old name whited out);
// lower directories answer EXDEV; upper directories move and stay opaque.
func TestRename(t *testing.T) {
	e := newEnv(t)
	r := e.root()
	ren := func(a, b string, flags int) error { return e.ns.Rename(root, r, r, a, r, b, flags) }
	ino := e.stat("/a.txt").Ino
	must(t, ren("/a.txt", "/sub/moved", 0))
	if _, err := e.walk("/a.txt"); err != unix.ENOENT {
		t.Errorf("old name: %v", err)
	}
	if got, st := e.read("/sub/moved"), e.stat("/sub/moved"); got != "hello\n" || st.Ino != ino {
		t.Errorf("moved: %q ino %d want %d", got, st.Ino, ino)
	}
	must(t, ren("/sub/moved", "/exe", 0)) // over a lower file
	if got := e.read("/exe"); got != "hello\n" {
		t.Errorf("exe after rename over it: %q", got)
	}
	wantErr(t, "rename lower dir", ren("/sub", "/sub2", 0), unix.EXDEV)
	wantErr(t, "rename noreplace", ren("/hard1", "/hard2", unix.RENAME_NOREPLACE), unix.EEXIST)
	wantErr(t, "file over dir", ren("/hard1", "/empty", 0), unix.EISDIR)
	must(t, e.ns.Mkdir(root, r, r, "/d", 0o755))
	e.write("/d/x", unix.O_CREAT, "x")
	wantErr(t, "dir over non-empty", ren("/d", "/sub", 0), unix.ENOTEMPTY)
	wantErr(t, "dir over file", ren("/d", "/hard1", 0), unix.ENOTDIR)
	must(t, ren("/d", "/empty", 0)) // over an empty lower directory
	if names, _ := e.list("/empty"); sorted(names) != "x" {
		t.Errorf("empty after rename: %v", names)
	}
	must(t, ren("/empty", "/e2", 0))
	if _, err := e.freshNS().Walk(root, e.root(), e.root(), "/empty", 0); err != unix.ENOENT {
		t.Errorf("empty after moving away: %v", err)
	}
	if got := e.read("/e2/x"); got != "x" {
		t.Errorf("e2/x: %q", got)
	}
	must(t, ren("/hard1", "/link", unix.RENAME_EXCHANGE))
	at, _ := e.walk("/hard1")
	if s, _ := at.Inode().(vfs.Symlink).Readlink(root); s != "a.txt" || e.read("/link") != "hh\n" {
		t.Errorf("exchange: hard1 -> %q", s)
	}
}

// TestHardlink: a link to a lower file copies it up and shares its inode.
func TestHardlink(t *testing.T) {
	e := newEnv(t)
	r := e.root()
	old, _ := e.walk("/sub/g")
	must(t, e.ns.Link(root, old, r, r, "/g2"))
	a, b := e.stat("/sub/g"), e.stat("/g2")
	if a.Ino != b.Ino || a.Nlink != 2 || b.Nlink != 2 {
		t.Errorf("links: ino %d/%d nlink %d/%d", a.Ino, b.Ino, a.Nlink, b.Nlink)
	}
	e.write("/g2", unix.O_APPEND, "via g2")
	if got := e.read("/sub/g"); got != "g\nvia g2" {
		t.Errorf("sub/g: %q", got)
	}
	old, _ = e.walk("/sub")
	wantErr(t, "link a directory", e.ns.Link(root, old, r, r, "/s2"), unix.EPERM)
	old, _ = e.walk("/a.txt")
	wantErr(t, "link over a lower name", e.ns.Link(root, old, r, r, "/exe"), unix.EEXIST)
	must(t, e.ns.Unlink(root, r, r, "/sub/g"))
	if st := e.stat("/g2"); st.Nlink != 1 {
		t.Errorf("g2 nlink after unlink: %d", st.Nlink)
	}
}

// TestConcurrent: lookups, listings, copy-ups and creations at once (run
// with -race).
func TestConcurrent(t *testing.T) {
	e := newEnv(t)
	var wg sync.WaitGroup
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			ns := e.freshNS()
			rt := ns.Root()
			for i := 0; i < 50; i++ {
				if f, err := ns.Open(root, rt, rt, "/sub/deep/f", unix.O_RDONLY, 0); err == nil {
					f.Read(root, [][]byte{make([]byte, 8)}, -1)
					f.DecRef()
				}
				if f, err := ns.Open(root, rt, rt, "/sub/g", unix.O_WRONLY|unix.O_APPEND, 0); err == nil {
					f.Write(root, [][]byte{[]byte("x")}, -1)
					f.DecRef()
				}
				name := fmt.Sprintf("/sub/deep/w%d-%d", w, i%4)
				if f, err := ns.Open(root, rt, rt, name, unix.O_WRONLY|unix.O_CREAT, 0o644); err == nil {
					f.DecRef()
				}
				ns.Rename(root, rt, rt, name, rt, fmt.Sprintf("/sub/r%d", w), 0)
				if d, err := ns.Walk(root, rt, rt, "/sub/deep", 0); err == nil {
					d.Inode().(vfs.Dir).ReadDir(root)
				}
			}
		}(w)
	}
	wg.Wait()
	if got := e.read("/sub/g"); got != "g\n"+strings.Repeat("x", 400) {
		t.Errorf("sub/g after appends: %d bytes", len(got))
	}
	names, _ := e.list("/sub")
	if len(names) != 2+8 {
		t.Errorf("sub lists %v", names)
	}
}

// TestCopyUpFailure: a copy-up the upper has no room for fails cleanly
// (no partial file in the upper, the lower file reads as it was); holes
// take no room.
func TestCopyUpFailure(t *testing.T) {
	data := strings.Repeat("0123456789abcdef", 2<<20/16)
	e := newEnvWith(t, 1<<20, func(dir string) {
		must(t, os.WriteFile(filepath.Join(dir, "dense"), []byte(data), 0o644))
	})
	if _, err := e.ns.Open(root, e.root(), e.root(), "/dense", unix.O_WRONLY|unix.O_APPEND, 0); err != unix.ENOSPC {
		t.Errorf("copy-up of 2 MiB into 1 MiB: %v", err)
	}
	if e.upperHas("dense") {
		t.Error("a failed copy-up left a file in the upper")
	}
	if got := e.read("/dense"); got != data {
		t.Errorf("dense reads %d bytes after the failed copy-up", len(got))
	}
	e.write("/big", 0, "x") // 3 MiB, sparse: fits
	at, _ := e.walk("/dense")
	must(t, vfs.Truncate(root, at, 100)) // copies only what it keeps
	if got := e.read("/dense"); got != data[:100] {
		t.Errorf("dense after truncate: %q", got)
	}
}

// TestUnlinkOpen: a lower file unlinked while open still reads; mknod
// makes what the upper can.
func TestUnlinkOpen(t *testing.T) {
	e := newEnv(t)
	r := e.root()
	f := e.open("/sub/deep/f", unix.O_RDONLY)
	defer f.DecRef()
	must(t, e.ns.Unlink(root, r, r, "/sub/deep/f"))
	if got := readFile(t, f); got != "deep\n" {
		t.Errorf("read after unlink: %q", got)
	}
	must(t, e.ns.Mknod(root, r, r, "/sub/deep/f", unix.S_IFREG|0o600, 0))
	if st := e.stat("/sub/deep/f"); st.Size != 0 || st.Mode != unix.S_IFREG|0o600 {
		t.Errorf("mknod'ed f: mode %o size %d", st.Mode, st.Size)
	}
	wantErr(t, "mknod over a lower name", e.ns.Mknod(root, r, r, "/a.txt", unix.S_IFREG|0o600, 0), unix.EEXIST)
	must(t, e.ns.Symlink(root, r, r, "/sub/sl", "deep/f"))
	if got := e.read("/sub/sl"); got != "" {
		t.Errorf("through the new symlink: %q", got)
	}
}
