package hostfs

import (
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"

	"glassbox/internal/memfile"
	"glassbox/internal/vfs"
)

type ctx struct{ c vfs.Creds }

func (c *ctx) Creds() *vfs.Creds          { return &c.c }
func (c *ctx) Interrupt() <-chan struct{} { return nil }
func (c *ctx) Interrupted() bool          { return false }

var root = &ctx{*vfs.RootCreds()}

// env is a writable hostfs over a fresh host directory, as the guest's
// whole namespace.
type env struct {
	t   *testing.T
	dir string // the exported host directory
	fs  *FS
	mf  *memfile.File
	ns  *vfs.Namespace
}

func newEnv(t *testing.T) *env {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "vol")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return newEnvAt(t, dir)
}

func newEnvAt(t *testing.T, dir string) *env {
	t.Helper()
	mf, err := memfile.New(1 << 30)
	if err != nil {
		t.Fatal(err)
	}
	fs, err := New(dir, false, mf)
	if err != nil {
		t.Fatal(err)
	}
	ns := vfs.NewNamespace(vfs.NewRoot(fs.Root()), "hostfs", dir, 0)
	return &env{t: t, dir: dir, fs: fs, mf: mf, ns: ns}
}

func (e *env) host(name string) string { return filepath.Join(e.dir, name) }

func (e *env) open(path string, flags int, mode uint32) *vfs.File {
	e.t.Helper()
	f, err := e.ns.Open(root, e.ns.Root(), e.ns.Root(), path, flags, mode)
	if err != nil {
		e.t.Fatalf("open %s: %v", path, err)
	}
	return f
}

func (e *env) walk(path string, flags int) (vfs.Path, error) {
	return e.ns.Walk(root, e.ns.Root(), e.ns.Root(), path, flags)
}

func (e *env) write(f *vfs.File, s string, off int64) {
	e.t.Helper()
	if n, err := f.Write(root, [][]byte{[]byte(s)}, off); n != len(s) || err != nil {
		e.t.Fatalf("write %q: %d %v", s, n, err)
	}
}

func (e *env) hostData(name string) string {
	e.t.Helper()
	b, err := os.ReadFile(e.host(name))
	if err != nil {
		e.t.Fatal(err)
	}
	return string(b)
}

func (e *env) hostStat(name string) unix.Stat_t {
	e.t.Helper()
	var st unix.Stat_t
	if err := unix.Lstat(e.host(name), &st); err != nil {
		e.t.Fatalf("host stat %s: %v", name, err)
	}
	return st
}

func must(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func wantErr(t *testing.T, what string, got, want error) {
	t.Helper()
	if got != want {
		t.Fatalf("%s: got %v, want %v", what, got, want)
	}
}

// evictAll closes every cached O_PATH descriptor nobody uses, so the next
// use reopens by name.
func (fs *FS) evictAll() {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	for e := fs.lru.Front(); e != nil; {
		next := e.Next()
		if in := e.Value.(*inode); in.pinned == 0 {
			fs.lru.Remove(e)
			unix.Close(in.fd)
			in.fd, in.elem = -1, nil
		}
		e = next
	}
}

// TestFileIO: create, write, read, append, O_TRUNC, pwrite past the end,
// O_CREAT with mode 0444 still writable, and what the host sees.
func TestFileIO(t *testing.T) {
	e := newEnv(t)
	f := e.open("/f", unix.O_RDWR|unix.O_CREAT|unix.O_EXCL, 0o640)
	e.write(f, "hello", -1)
	e.write(f, " world", -1)
	if got := e.hostData("f"); got != "hello world" {
		t.Fatalf("host sees %q", got)
	}
	if st := e.hostStat("f"); st.Mode != unix.S_IFREG|0o640 {
		t.Fatalf("host mode %o", st.Mode)
	}
	buf := make([]byte, 32)
	if n, _ := f.Read(root, [][]byte{buf}, 6); string(buf[:n]) != "world" {
		t.Fatalf("pread %q", buf[:n])
	}
	f.DecRef()
	_, err := e.ns.Open(root, e.ns.Root(), e.ns.Root(), "/f", unix.O_RDWR|unix.O_CREAT|unix.O_EXCL, 0o640)
	wantErr(t, "O_EXCL existing", err, unix.EEXIST)

	a := e.open("/f", unix.O_WRONLY|unix.O_APPEND, 0)
	e.write(a, "!", -1)
	e.write(a, "?", 0) // pwrite on an O_APPEND file appends, as Linux's does
	a.DecRef()
	if got := e.hostData("f"); got != "hello world!?" {
		t.Fatalf("after append: %q", got)
	}
	tr := e.open("/f", unix.O_WRONLY|unix.O_TRUNC, 0)
	e.write(tr, "new", -1)
	e.write(tr, "X", 8190)
	tr.DecRef()
	if got := e.hostData("f"); len(got) != 8191 || got[:3] != "new" || got[8190] != 'X' || got[3] != 0 {
		t.Fatalf("after O_TRUNC and pwrite: %d bytes %q", len(got), got[:4])
	}
	ro := e.open("/ro", unix.O_WRONLY|unix.O_CREAT, 0o444)
	e.write(ro, "made read-only", -1)
	ro.DecRef()
	if e.hostData("ro") != "made read-only" || e.hostStat("ro").Mode&0o777 != 0o444 {
		t.Fatalf("0444 create: %q %o", e.hostData("ro"), e.hostStat("ro").Mode)
	}
	rt := e.open("/ro", unix.O_RDONLY|unix.O_TRUNC, 0) // Linux truncates
	rt.DecRef()
	if e.hostStat("ro").Size != 0 {
		t.Fatal("O_RDONLY|O_TRUNC did not truncate")
	}
}

// TestTree: mkdir (the host umask does not apply twice), mknod, symlink,
// link, unlink, rmdir, rename with its flags, and their errors.
func TestTree(t *testing.T) {
	e := newEnv(t)
	r, n := e.ns.Root(), e.ns
	old := unix.Umask(0o077)
	defer unix.Umask(old)
	must(t, "mkdir", n.Mkdir(root, r, r, "/d", 0o775))
	if st := e.hostStat("d"); st.Mode != unix.S_IFDIR|0o775 {
		t.Fatalf("mkdir mode %o", st.Mode)
	}
	wantErr(t, "mkdir again", n.Mkdir(root, r, r, "/d", 0o755), unix.EEXIST)
	must(t, "mkdir d/e", n.Mkdir(root, r, r, "/d/e", 0o700))
	must(t, "mknod reg", n.Mknod(root, r, r, "/d/reg", unix.S_IFREG|0o604, 0))
	must(t, "mkfifo", n.Mknod(root, r, r, "/fifo", unix.S_IFIFO|0o666, 0))
	if st := e.hostStat("fifo"); st.Mode != unix.S_IFIFO|0o666 || e.hostStat("d/reg").Mode != unix.S_IFREG|0o604 {
		t.Fatalf("mknod modes %o %o", st.Mode, e.hostStat("d/reg").Mode)
	}
	wantErr(t, "mknod chr", n.Mknod(root, r, r, "/chr", unix.S_IFCHR|0o600, 0x103), unix.EPERM)
	wantErr(t, "mknod sock", n.Mknod(root, r, r, "/sock", unix.S_IFSOCK|0o600, 0), unix.EPERM)
	_, err := n.Open(root, r, r, "/fifo", unix.O_RDONLY|unix.O_NONBLOCK, 0)
	wantErr(t, "open fifo", err, unix.EACCES)

	must(t, "symlink", n.Symlink(root, r, r, "/d/sl", "../f"))
	if tgt, _ := os.Readlink(e.host("d/sl")); tgt != "../f" {
		t.Fatalf("host link target %q", tgt)
	}
	f := e.open("/d/sl", unix.O_WRONLY|unix.O_CREAT, 0o600) // dangling: creates /f
	e.write(f, "data", -1)
	f.DecRef()
	if e.hostData("f") != "data" {
		t.Fatal("create through a dangling symlink")
	}
	old2, _ := e.walk("/f", 0)
	must(t, "link", n.Link(root, old2, r, r, "/d/hard"))
	if st := e.hostStat("f"); st.Nlink != 2 || e.hostData("d/hard") != "data" {
		t.Fatalf("link: nlink %d", st.Nlink)
	}
	dp, _ := e.walk("/d", 0)
	wantErr(t, "link dir", n.Link(root, dp, r, r, "/dl"), unix.EPERM)
	wantErr(t, "link onto existing", n.Link(root, old2, r, r, "/d/reg"), unix.EEXIST)

	wantErr(t, "rmdir non-empty", n.Rmdir(root, r, r, "/d"), unix.ENOTEMPTY)
	wantErr(t, "unlink dir", n.Unlink(root, r, r, "/d"), unix.EISDIR)
	wantErr(t, "rmdir file", n.Rmdir(root, r, r, "/f"), unix.ENOTDIR)
	must(t, "unlink hard", n.Unlink(root, r, r, "/d/hard"))
	if e.hostStat("f").Nlink != 1 {
		t.Fatal("unlink did not drop the link")
	}

	must(t, "rename f g", n.Rename(root, r, r, "/f", r, "/g", 0))
	if _, err := os.Stat(e.host("f")); !os.IsNotExist(err) || e.hostData("g") != "data" {
		t.Fatal("rename on the host")
	}
	must(t, "mkdir x", n.Mkdir(root, r, r, "/x", 0o755))
	wantErr(t, "NOREPLACE", n.Rename(root, r, r, "/g", r, "/d/reg", unix.RENAME_NOREPLACE), unix.EEXIST)
	must(t, "EXCHANGE", n.Rename(root, r, r, "/g", r, "/x", unix.RENAME_EXCHANGE))
	if st := e.hostStat("g"); st.Mode&unix.S_IFMT != unix.S_IFDIR || e.hostData("x") != "data" {
		t.Fatal("exchange on the host")
	}
	wantErr(t, "dir into itself", n.Rename(root, r, r, "/d", r, "/d/e/z", 0), unix.EINVAL)
	wantErr(t, "file over dir", n.Rename(root, r, r, "/x", r, "/d", 0), unix.EISDIR)
	wantErr(t, "dir over non-empty", n.Rename(root, r, r, "/g", r, "/d", 0), unix.ENOTEMPTY)
	must(t, "rmdir e", n.Rmdir(root, r, r, "/d/e"))
	if _, err := os.Stat(e.host("d/e")); !os.IsNotExist(err) {
		t.Fatal("rmdir on the host")
	}
}

// TestRenameKeepsInodes: a directory held open (a working directory) and a
// file in it keep working after the directory moves, even once their
// cached host descriptors are gone.
func TestRenameKeepsInodes(t *testing.T) {
	e := newEnv(t)
	r, n := e.ns.Root(), e.ns
	must(t, "mkdir", n.Mkdir(root, r, r, "/a", 0o755))
	must(t, "mkdir", n.Mkdir(root, r, r, "/a/b", 0o755))
	f := e.open("/a/b/f", unix.O_WRONLY|unix.O_CREAT, 0o644)
	f.DecRef()
	cwd, err := e.walk("/a/b", 0)
	must(t, "walk", err)
	file, err := e.walk("/a/b/f", 0)
	must(t, "walk", err)
	must(t, "rename", n.Rename(root, r, r, "/a", r, "/z", 0))
	e.fs.evictAll()
	if _, err := file.Inode().Stat(); err != nil {
		t.Fatalf("stat of a moved file: %v", err)
	}
	must(t, "create in moved cwd", n.Mkdir(root, r, cwd, "new", 0o755))
	if st := e.hostStat("z/b/new"); st.Mode&unix.S_IFMT != unix.S_IFDIR {
		t.Fatal("mkdir relative to a moved directory")
	}
	must(t, "chmod moved", vfs.Chmod(root, file, 0o600))
	if e.hostStat("z/b/f").Mode&0o777 != 0o600 {
		t.Fatal("chmod of a moved file")
	}
	// A hard link renamed onto its twin: nothing happens.
	must(t, "link", n.Link(root, file, r, r, "/twin"))
	must(t, "rename twins", n.Rename(root, r, r, "/twin", r, "/z/b/f", 0))
	if _, err := os.Lstat(e.host("twin")); err != nil {
		t.Fatal("rename between two names of one inode removed one")
	}
}

// TestSetAttr: chmod, chown, utimes (explicit, now, omitted, on a
// symlink), truncate, fallocate, statfs.
func TestSetAttr(t *testing.T) {
	e := newEnv(t)
	r, n := e.ns.Root(), e.ns
	f := e.open("/f", unix.O_RDWR|unix.O_CREAT, 0o644)
	e.write(f, "0123456789", -1)
	p, _ := e.walk("/f", 0)
	must(t, "chmod", vfs.Chmod(root, p, 0o4751))
	if e.hostStat("f").Mode&0o7777 != 0o4751 {
		t.Fatalf("chmod: %o", e.hostStat("f").Mode)
	}
	must(t, "symlink", n.Symlink(root, r, r, "/sl", "f"))
	sl, _ := e.walk("/sl", 0)
	wantErr(t, "chmod symlink", vfs.Chmod(root, sl, 0o600), unix.EOPNOTSUPP)
	if os.Geteuid() == 0 {
		must(t, "chown", vfs.Chown(root, p, 1234, 5678))
		if st := e.hostStat("f"); st.Uid != 1234 || st.Gid != 5678 || st.Mode&0o7777 != 0o751 {
			t.Fatalf("chown: %d:%d %o", st.Uid, st.Gid, st.Mode)
		}
		must(t, "lchown", vfs.Chown(root, sl, 42, -1))
		if st := e.hostStat("sl"); st.Uid != 42 || e.hostStat("f").Uid != 1234 {
			t.Fatal("lchown followed the link")
		}
	}
	ts := [2]unix.Timespec{{Sec: 1000, Nsec: 5}, {Sec: 2000, Nsec: 7}}
	must(t, "utimes", vfs.Utimes(root, p, &ts))
	if st := e.hostStat("f"); st.Atim != ts[0] || st.Mtim != ts[1] {
		t.Fatalf("utimes: %v %v", st.Atim, st.Mtim)
	}
	ts = [2]unix.Timespec{{Nsec: unix.UTIME_OMIT}, {Sec: 3000}}
	must(t, "utimes omit", vfs.Utimes(root, p, &ts))
	if st := e.hostStat("f"); st.Atim.Sec != 1000 || st.Mtim.Sec != 3000 {
		t.Fatalf("utimes omit: %v %v", st.Atim, st.Mtim)
	}
	ts = [2]unix.Timespec{{Sec: 77}, {Sec: 88}}
	must(t, "utimes symlink", vfs.Utimes(root, sl, &ts))
	if st := e.hostStat("sl"); st.Mtim.Sec != 88 || e.hostStat("f").Mtim.Sec != 3000 {
		t.Fatal("utimes on a symlink followed it")
	}
	must(t, "utimes now", vfs.Utimes(root, p, nil))
	if st := e.hostStat("f"); st.Mtim.Sec < 1e9 {
		t.Fatal("utimes now")
	}
	must(t, "truncate", vfs.Truncate(root, p, 4))
	must(t, "ftruncate", vfs.FTruncate(root, f, 6))
	if got := e.hostData("f"); got != "0123\x00\x00" {
		t.Fatalf("truncate: %q", got)
	}
	must(t, "fallocate", vfs.Fallocate(root, f, 0, 0, 100))
	if e.hostStat("f").Size != 100 {
		t.Fatal("fallocate did not extend")
	}
	must(t, "punch", vfs.Fallocate(root, f, unix.FALLOC_FL_PUNCH_HOLE|unix.FALLOC_FL_KEEP_SIZE, 0, 2))
	if got := e.hostData("f"); got[:4] != "\x00\x0023" || len(got) != 100 {
		t.Fatalf("punch: %q", got[:4])
	}
	f.DecRef()
	s, err := vfs.StatFS(p)
	var hs unix.Statfs_t
	unix.Statfs(e.dir, &hs)
	if err != nil || s.Type != hs.Type || s.Blocks != hs.Blocks {
		t.Fatalf("statfs: %v %x vs %x", err, s.Type, hs.Type)
	}
}

// TestCreatorIDs: as root on the host, files are made with the guest's
// fsuid and fsgid.
func TestCreatorIDs(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root on the host")
	}
	e := newEnv(t)
	must(t, "chmod", os.Chmod(e.dir, 0o777))
	u := &ctx{vfs.Creds{UID: 1000, EUID: 1000, FSUID: 1000, GID: 1001, EGID: 1001, FSGID: 1001}}
	r := e.ns.Root()
	f, err := e.ns.Open(u, r, r, "/mine", unix.O_WRONLY|unix.O_CREAT, 0o600)
	must(t, "create", err)
	f.DecRef()
	must(t, "mkdir", e.ns.Mkdir(u, r, r, "/dir", 0o700))
	must(t, "symlink", e.ns.Symlink(u, r, r, "/ln", "x"))
	for _, name := range []string{"mine", "dir", "ln"} {
		if st := e.hostStat(name); st.Uid != 1000 || st.Gid != 1001 {
			t.Errorf("%s: owner %d:%d", name, st.Uid, st.Gid)
		}
	}
	if unix.Getuid() != 0 || os.Geteuid() != 0 {
		t.Fatal("the thread's ids leaked")
	}
	var st unix.Stat_t
	must(t, "stat", unix.Stat(e.dir, &st))
	fd, err := unix.Open(filepath.Join(e.dir, "asroot"), unix.O_CREAT|unix.O_WRONLY|unix.O_CLOEXEC, 0o600)
	must(t, "host create", err)
	unix.Close(fd)
	if st := e.hostStat("asroot"); st.Uid != 0 {
		t.Fatalf("fsuid leaked to another call: %d", st.Uid)
	}
}

// TestReadOnly: a read-only hostfs has none of the abilities.
func TestReadOnly(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "f"), []byte("x"), 0o644)
	mf, _ := memfile.New(1 << 20)
	fs, err := New(dir, true, mf)
	must(t, "new", err)
	d := fs.Root()
	if _, ok := d.(vfs.Creator); ok {
		t.Fatal("read-only root is a Creator")
	}
	f, err := d.(vfs.Dir).Lookup(root, "f")
	must(t, "lookup", err)
	if _, ok := f.(vfs.Setattrer); ok {
		t.Fatal("read-only file is a Setattrer")
	}
	if _, err := f.(vfs.Opener).Open(root, unix.O_WRONLY); err != unix.EROFS {
		t.Fatalf("open for write: %v", err)
	}
}
