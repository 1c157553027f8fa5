package unix

import (
	"sync"
	"testing"

	"golang.org/x/sys/unix"

	"glassbox/internal/fs/synth"
	"glassbox/internal/vfs"
)

func TestRegistry(t *testing.T) {
	file := synth.NewFile(1, func(vfs.Ctx) ([]byte, error) { return nil, nil })
	d := synth.Static(1, 0o755, map[string]vfs.Inode{"f": file})
	root := synth.Static(1, 0o755, map[string]vfs.Inode{"d": d})
	vns := vfs.NewNamespace(vfs.NewRoot(root), "synth", "", 0)
	rootCtx := newCtx()
	rootCtx.creds = *vfs.RootCreds()
	dir, err := vns.Walk(rootCtx, vns.Root(), vns.Root(), "/d", vfs.Follow)
	if err != nil {
		t.Fatal(err)
	}
	r := NewRegistry(vns)
	ns := NewNamespace(r)
	f := ns.NewFile(rootCtx, unix.SOCK_STREAM, 0)
	defer f.DecRef()
	s, _ := FromFile(f)
	unbind, err := r.Bind(rootCtx, dir, "s", 0o700, s)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		err  error
	}{{"s", unix.EADDRINUSE}, {"f", unix.EADDRINUSE}, {"..", unix.EADDRINUSE}} {
		if _, err := r.Bind(rootCtx, dir, c.name, 0o777, s); err != c.err {
			t.Errorf("Bind(%q): %v, want %v", c.name, err, c.err)
		}
	}
	if _, err := r.Bind(newCtx(), dir, "t", 0o777, s); err != unix.EACCES {
		t.Errorf("Bind without write permission: %v", err)
	}
	for _, c := range []struct {
		ctx  *fakeCtx
		name string
		err  error
	}{{rootCtx, "s", nil}, {rootCtx, "f", unix.ECONNREFUSED}, {rootCtx, "x", unix.ENOENT}, {newCtx(), "s", unix.EACCES}} {
		got, err := r.Lookup(c.ctx, dir, c.name)
		if err != c.err || err == nil && got != s {
			t.Errorf("Lookup(%q): %v, want %v", c.name, err, c.err)
		}
	}
	unbind()
	if _, err := r.Lookup(rootCtx, dir, "s"); err != unix.ENOENT {
		t.Errorf("Lookup after unbind: %v", err)
	}
	ro := dir
	ro.Mount = &vfs.Mount{Flags: unix.MS_RDONLY}
	if _, err := r.Bind(rootCtx, ro, "s", 0o777, s); err != unix.EROFS {
		t.Errorf("Bind on a read-only mount: %v", err)
	}
}

// memDir is a directory that can make socket nodes.
type memDir struct {
	mu   sync.Mutex
	kids map[string]*memNode
}

type memNode struct{ mode uint32 }

func (n *memNode) Stat() (vfs.Stat, error) { return vfs.Stat{Mode: n.mode}, nil }
func (d *memDir) Stat() (vfs.Stat, error)  { return vfs.Stat{Mode: unix.S_IFDIR | 0o777}, nil }
func (d *memDir) ReadDir(vfs.Ctx) ([]vfs.DirEntry, error) {
	return nil, nil
}

func (d *memDir) Lookup(_ vfs.Ctx, name string) (vfs.Inode, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if n, ok := d.kids[name]; ok {
		return n, nil
	}
	return nil, unix.ENOENT
}

func (d *memDir) Mknod(_ vfs.Ctx, name string, mode uint32, _ uint64) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if _, ok := d.kids[name]; ok {
		return unix.EEXIST
	}
	d.kids[name] = &memNode{mode}
	return nil
}

// TestRegistryInodes: where the directory makes socket nodes, the name
// is a file that outlives the socket, as in Linux.
func TestRegistryInodes(t *testing.T) {
	d := &memDir{kids: map[string]*memNode{}}
	vns := vfs.NewNamespace(vfs.NewRoot(d), "mem", "", 0)
	ctx := newCtx()
	dir := vns.Root()
	r := NewRegistry(vns)
	f := NewNamespace(r).NewFile(ctx, unix.SOCK_STREAM, 0)
	defer f.DecRef()
	s, _ := FromFile(f)
	unbind, err := r.Bind(ctx, dir, "s", 0o751, s)
	if err != nil {
		t.Fatal(err)
	}
	if n := d.kids["s"]; n == nil || n.mode != unix.S_IFSOCK|0o751 {
		t.Fatalf("node %+v", n)
	}
	if _, err := r.Lookup(ctx, dir, "s"); err != unix.EACCES {
		t.Fatalf("Lookup without write permission: %v", err)
	}
	ctx.creds = *vfs.RootCreds()
	if got, err := r.Lookup(ctx, dir, "s"); got != s || err != nil {
		t.Fatalf("Lookup: %v", err)
	}
	unbind()
	if _, err := r.Lookup(ctx, dir, "s"); err != unix.ECONNREFUSED {
		t.Fatalf("Lookup of a stale socket file: %v", err)
	}
	if _, err := r.Bind(ctx, dir, "s", 0o777, s); err != unix.EADDRINUSE {
		t.Fatalf("Bind over a stale socket file: %v", err)
	}
	delete(d.kids, "s")
	dir.Dentry.Forget("s")
	if _, err := r.Lookup(ctx, dir, "s"); err != unix.ENOENT {
		t.Fatalf("Lookup after unlink: %v", err)
	}
	if _, err := r.Bind(ctx, dir, "s", 0o777, s); err != nil {
		t.Fatalf("Bind after unlink: %v", err)
	}
}
