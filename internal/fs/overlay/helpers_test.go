package overlay

import (
	"crypto/sha256"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"glassbox/internal/fs/hostfs"
	"glassbox/internal/fs/tmpfs"
	"glassbox/internal/memfile"
	"glassbox/internal/vfs"
)

type ctx struct{ c vfs.Creds }

func (c *ctx) Creds() *vfs.Creds          { return &c.c }
func (c *ctx) Interrupt() <-chan struct{} { return nil }
func (c *ctx) Interrupted() bool          { return false }

var root = &ctx{*vfs.RootCreds()}

// env is an overlay of a tmpfs over a hostfs of a fresh host directory.
type env struct {
	t     *testing.T
	low   string // the host directory
	up    *tmpfs.FS
	fs    *FS
	ns    *vfs.Namespace
	mtime time.Time // every lower object's mtime
}

// lowerTree is what newEnv puts on the host: path → content ("/" suffix
// for directories, "-> target" for symlinks, "=> name" for a hard link).
var lowerTree = []struct {
	path, content string
	mode          uint32 // with the setuid bit, which os.FileMode spells differently
}{
	{"a.txt", "hello\n", 0o644},
	{"exe", "#!/bin/sh\n", 0o4755},
	{"sub/", "", 0o750},
	{"sub/g", "g\n", 0o600},
	{"sub/deep/", "", 0o755},
	{"sub/deep/f", "deep\n", 0o644},
	{"link", "-> a.txt", 0},
	{"empty/", "", 0o755},
	{"hard1", "hh\n", 0o644},
	{"hard2", "=> hard1", 0},
}

func newEnv(t *testing.T) *env { return newEnvWith(t, 64<<20, nil) }

// newEnvWith makes an env whose upper holds at most size bytes, after
// more(dir) adds to the host tree.
func newEnvWith(t *testing.T, size uint64, more func(dir string)) *env {
	t.Helper()
	dir := t.TempDir()
	e := &env{t: t, low: dir, mtime: time.Unix(1600000000, 123456789)}
	for _, f := range lowerTree {
		p := filepath.Join(dir, f.path)
		var err error
		switch {
		case strings.HasSuffix(f.path, "/"):
			err = os.Mkdir(p, 0o700)
		case strings.HasPrefix(f.content, "-> "):
			err = os.Symlink(f.content[3:], p)
		case strings.HasPrefix(f.content, "=> "):
			err = os.Link(filepath.Join(dir, f.content[3:]), p)
		default:
			err = os.WriteFile(p, []byte(f.content), 0o600)
		}
		if err == nil && f.mode != 0 {
			err = unix.Chmod(p, f.mode)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	// A sparse file: 3 MiB with two bytes of data.
	big, err := os.Create(filepath.Join(dir, "big"))
	if err != nil {
		t.Fatal(err)
	}
	big.WriteAt([]byte("B"), 0)
	big.WriteAt([]byte("E"), 2<<20+5)
	big.Truncate(3 << 20)
	big.Close()
	if more != nil {
		more(dir)
	}
	// Fixed times, deepest first so directories keep theirs.
	var paths []string
	filepath.WalkDir(dir, func(p string, _ fs.DirEntry, _ error) error { paths = append(paths, p); return nil })
	for i := len(paths) - 1; i >= 0; i-- {
		ts := []unix.Timespec{unix.NsecToTimespec(e.mtime.UnixNano()), unix.NsecToTimespec(e.mtime.UnixNano())}
		if err := unix.UtimesNanoAt(unix.AT_FDCWD, paths[i], ts, unix.AT_SYMLINK_NOFOLLOW); err != nil {
			t.Fatal(err)
		}
	}
	before := snapshot(t, dir)
	t.Cleanup(func() {
		if after := snapshot(t, dir); after != before {
			t.Errorf("the lower directory changed on the host:\nbefore:\n%s\nafter:\n%s", before, after)
		}
	})
	mf, err := memfile.New(1 << 30)
	if err != nil {
		t.Fatal(err)
	}
	low, err := hostfs.New(dir, true, mf)
	if err != nil {
		t.Fatal(err)
	}
	e.up = tmpfs.New(mf, tmpfs.Options{Size: size})
	if e.fs, err = New(e.up.Root().(vfs.Dir), low.Root().(vfs.Dir)); err != nil {
		t.Fatal(err)
	}
	e.ns = e.freshNS()
	return e
}

// freshNS returns a namespace over the same overlay with no cached
// dentries, so every walk asks the overlay again.
func (e *env) freshNS() *vfs.Namespace {
	return vfs.NewNamespace(vfs.NewRoot(e.fs.Root()), "overlay", "overlay", 0)
}

// snapshot lists a host tree with each object's type, mode, owner, size,
// mtime, links and content hash (atime may change: reads are allowed).
func snapshot(t *testing.T, dir string) string {
	t.Helper()
	var b strings.Builder
	err := filepath.WalkDir(dir, func(p string, _ fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		var st unix.Stat_t
		if err := unix.Lstat(p, &st); err != nil {
			return err
		}
		extra := ""
		switch st.Mode & unix.S_IFMT {
		case unix.S_IFREG:
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			extra = fmt.Sprintf("%x", sha256.Sum256(data))
		case unix.S_IFLNK:
			extra, _ = os.Readlink(p)
		}
		rel, _ := filepath.Rel(dir, p)
		fmt.Fprintf(&b, "%s %o %d:%d size=%d mtime=%d.%d nlink=%d ino=%d %s\n", rel, st.Mode, st.Uid, st.Gid,
			st.Size, st.Mtim.Sec, st.Mtim.Nsec, st.Nlink, st.Ino, extra)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func (e *env) root() vfs.Path { return e.ns.Root() }

func (e *env) walk(p string) (vfs.Path, error) {
	return e.ns.Walk(root, e.root(), e.root(), p, 0)
}

func (e *env) stat(p string) vfs.Stat {
	e.t.Helper()
	at, err := e.walk(p)
	if err != nil {
		e.t.Fatalf("walk %s: %v", p, err)
	}
	st, err := at.Inode().Stat()
	if err != nil {
		e.t.Fatalf("stat %s: %v", p, err)
	}
	return st
}

func (e *env) open(p string, flags int) *vfs.File {
	e.t.Helper()
	f, err := e.ns.Open(root, e.root(), e.root(), p, flags, 0o644)
	if err != nil {
		e.t.Fatalf("open %s: %v", p, err)
	}
	return f
}

func readFile(t *testing.T, f *vfs.File) string {
	t.Helper()
	var out []byte
	buf := make([]byte, 64<<10)
	for {
		n, err := f.Read(root, [][]byte{buf}, -1)
		if err != nil {
			t.Fatalf("read: %v", err)
		}
		if n == 0 {
			return string(out)
		}
		out = append(out, buf[:n]...)
	}
}

func (e *env) read(p string) string {
	e.t.Helper()
	f := e.open(p, unix.O_RDONLY)
	defer f.DecRef()
	return readFile(e.t, f)
}

func (e *env) write(p string, flags int, s string) {
	e.t.Helper()
	f := e.open(p, unix.O_WRONLY|flags)
	defer f.DecRef()
	if n, err := f.Write(root, [][]byte{[]byte(s)}, -1); n != len(s) || err != nil {
		e.t.Fatalf("write %s: %d %v", p, n, err)
	}
}

// list returns a directory's names in getdents order, with inode numbers.
func (e *env) list(p string) ([]string, map[string]uint64) {
	e.t.Helper()
	f := e.open(p, unix.O_RDONLY|unix.O_DIRECTORY)
	defer f.DecRef()
	ents, err := f.Ops().(vfs.DirReader).ReadDir(root)
	if err != nil {
		e.t.Fatalf("readdir %s: %v", p, err)
	}
	var names []string
	inos := map[string]uint64{}
	for _, d := range ents {
		if _, dup := inos[d.Name]; dup {
			e.t.Errorf("readdir %s: %s listed twice", p, d.Name)
		}
		names = append(names, d.Name)
		inos[d.Name] = d.Ino
	}
	return names, inos
}

func sorted(s []string) string {
	s = append([]string(nil), s...)
	sort.Strings(s)
	return strings.Join(s, " ")
}

// upperHas reports whether the upper tmpfs has path (walked by hand).
func (e *env) upperHas(p string) bool {
	var in vfs.Inode = e.up.Root()
	for _, c := range strings.Split(p, "/") {
		d, ok := in.(vfs.Dir)
		if !ok {
			return false
		}
		var err error
		if in, err = d.Lookup(root, c); err != nil {
			return false
		}
	}
	return true
}

func hostIno(t *testing.T, p string) uint64 {
	t.Helper()
	fi, err := os.Lstat(p)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Sys().(*syscall.Stat_t).Ino
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func wantErr(t *testing.T, what string, got, want error) {
	t.Helper()
	if got != want {
		t.Errorf("%s: got %v, want %v", what, got, want)
	}
}
