package tmpfs

import (
	"bytes"
	"fmt"
	"sync"
	"testing"

	"golang.org/x/sys/unix"

	"glassbox/internal/fs/synth"
	"glassbox/internal/memfile"
	"glassbox/internal/vfs"
)

type ctx struct{ c vfs.Creds }

func (c *ctx) Creds() *vfs.Creds          { return &c.c }
func (c *ctx) Interrupt() <-chan struct{} { return nil }
func (c *ctx) Interrupted() bool          { return false }

var root = &ctx{*vfs.RootCreds()}

func newFS(t *testing.T, o Options) (*FS, *memfile.File) {
	t.Helper()
	mf, err := memfile.New(1 << 30)
	if err != nil {
		t.Fatal(err)
	}
	if o.Size == 0 {
		o.Size = 64 << 20
	}
	return New(mf, o), mf
}

func create(t *testing.T, d *Dir, name string) *File {
	t.Helper()
	in, err := d.Create(root, name, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	return in.(*File)
}

// TestFileData: writes, holes, truncation and hole punching, and frames
// all released once the file is gone.
func TestFileData(t *testing.T) {
	fs, mf := newFS(t, Options{})
	f := create(t, fs.root, "f")
	ops, _ := f.Open(root, unix.O_RDWR)
	if n, err := ops.Write(root, [][]byte{[]byte("abc"), []byte("def")}, 8190); n != 6 || err != nil {
		t.Fatalf("write: %d %v", n, err)
	}
	st, _ := f.Stat()
	if st.Size != 8196 || st.Blocks != 16 {
		t.Fatalf("size %d blocks %d", st.Size, st.Blocks)
	}
	buf := make([]byte, 8200)
	if n, _ := ops.Read(root, [][]byte{buf}, 0); n != 8196 || !bytes.Equal(buf[8190:8196], []byte("abcdef")) ||
		!bytes.Equal(buf[:8190], make([]byte, 8190)) {
		t.Fatalf("read %d %q", n, buf[8188:8196])
	}
	if err := f.SetAttr(root, &vfs.Attr{Valid: vfs.AttrSize, Size: 8191}); err != nil {
		t.Fatal(err)
	}
	f.SetAttr(root, &vfs.Attr{Valid: vfs.AttrSize, Size: 9000})
	ops.Read(root, [][]byte{buf}, 8188)
	if !bytes.Equal(buf[:5], []byte{0, 0, 'a', 0, 0}) {
		t.Fatalf("after shrink and grow: %q", buf[:5])
	}
	if st, _ := f.Stat(); st.Blocks != 8 {
		t.Fatalf("before punch: blocks %d", st.Blocks)
	}
	if err := f.Allocate(root, unix.FALLOC_FL_PUNCH_HOLE|unix.FALLOC_FL_KEEP_SIZE, 4096, 4096); err != nil {
		t.Fatal(err)
	}
	if st, _ := f.Stat(); st.Blocks != 0 || st.Size != 9000 {
		t.Fatalf("after punch: blocks %d size %d", st.Blocks, st.Size)
	}
	ops.Write(root, [][]byte{[]byte("z")}, 0)
	if err := fs.root.Unlink(root, "f"); err != nil {
		t.Fatal(err)
	}
	if mf.Stats().InUse == 0 {
		t.Fatal("frames released while the file is open")
	}
	ops.Release()
	if got := mf.Stats().InUse; got != 0 || fs.pages.Load() != 0 {
		t.Fatalf("frames in use after close: %d (fs %d)", got, fs.pages.Load())
	}
}

// TestTranslate: mappings share the file's frames, with a reference each.
func TestTranslate(t *testing.T) {
	fs, mf := newFS(t, Options{})
	f := create(t, fs.root, "m")
	f.SetAttr(root, &vfs.Attr{Valid: vfs.AttrSize, Size: 3 * 4096})
	obj, _ := f.Mappable()
	fr, n, err := obj.Translate(0, 8)
	if err != nil || n != 3 {
		t.Fatalf("translate: %d %v", n, err)
	}
	copy(mf.Bytes(fr+1, 1), "shared")
	buf := make([]byte, 6)
	ops, _ := f.Open(root, unix.O_RDONLY)
	ops.Read(root, [][]byte{buf}, 4096)
	if string(buf) != "shared" || mf.Refs(fr) != 2 {
		t.Fatalf("read %q refs %d", buf, mf.Refs(fr))
	}
	if _, _, err := obj.Translate(3, 1); err != unix.EFAULT {
		t.Fatalf("beyond EOF: %v", err)
	}
}

// TestTree: link counts, renames, ENOTEMPTY, loops and exchange.
func TestTree(t *testing.T) {
	fs, _ := newFS(t, Options{})
	r := fs.root
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(r.Mkdir(root, "a", 0o755))
	a, _ := r.Lookup(root, "a")
	must(a.(*Dir).Mkdir(root, "b", 0o755))
	b, _ := a.(*Dir).Lookup(root, "b")
	if err := r.Rename(root, "a", b, "x", 0); err != unix.EINVAL {
		t.Fatalf("into itself: %v", err)
	}
	if err := r.Rmdir(root, "a"); err != unix.ENOTEMPTY {
		t.Fatalf("rmdir non-empty: %v", err)
	}
	create(t, r, "f")
	must(r.Link(root, "g", mustLookup(t, r, "f")))
	if st, _ := mustLookup(t, r, "g").Stat(); st.Nlink != 2 {
		t.Fatalf("nlink %d", st.Nlink)
	}
	must(r.Rename(root, "f", b, "f", 0))
	must(r.Rename(root, "a", r, "c", unix.RENAME_NOREPLACE))
	if st, _ := r.Stat(); st.Nlink != 3 || st.Size != 40+2*20 {
		t.Fatalf("root nlink %d size %d", st.Nlink, st.Size)
	}
	must(r.Mkdir(root, "e", 0o700))
	must(r.Rename(root, "c", r, "e", unix.RENAME_EXCHANGE))
	if st, _ := mustLookup(t, r, "e").Stat(); st.Mode&0o777 != 0o755 {
		t.Fatalf("exchange: mode %o", st.Mode)
	}
	if err := r.Rename(root, "c", r, "e", 0); err != unix.ENOTEMPTY {
		t.Fatalf("over non-empty: %v", err)
	}
	must(r.Rename(root, "e", r, "c", 0))
	if st, _ := r.Stat(); st.Nlink != 3 {
		t.Fatalf("root nlink after replace %d", st.Nlink)
	}
}

func mustLookup(t *testing.T, d *Dir, name string) vfs.Inode {
	t.Helper()
	in, err := d.Lookup(root, name)
	if err != nil {
		t.Fatalf("lookup %s: %v", name, err)
	}
	return in
}

// TestLower: lower names show through, can be hidden, not renamed or
// replaced by create.
func TestLower(t *testing.T) {
	low := synth.Static(1, 0o1777, map[string]vfs.Inode{
		"host": synth.NewFile(1, func(vfs.Ctx) ([]byte, error) { return []byte("x"), nil }),
		"hdir": synth.Static(1, 0o755, map[string]vfs.Inode{}),
	})
	fs, _ := newFS(t, Options{Lower: low})
	r := fs.root
	if st, _ := r.Stat(); st.Mode != unix.S_IFDIR|0o1777 {
		t.Fatalf("root mode %o", st.Mode)
	}
	mustLookup(t, r, "host")
	if _, err := r.Create(root, "host", 0o644); err != unix.EEXIST {
		t.Fatalf("create over lower: %v", err)
	}
	if err := r.Rename(root, "host", r, "y", 0); err != unix.EXDEV {
		t.Fatalf("rename lower: %v", err)
	}
	if err := r.Unlink(root, "hdir"); err != unix.EISDIR {
		t.Fatalf("unlink lower dir: %v", err)
	}
	if err := r.Unlink(root, "host"); err != nil {
		t.Fatal(err)
	}
	if err := r.Rmdir(root, "hdir"); err != nil {
		t.Fatal(err)
	}
	create(t, r, "mine")
	ents, _ := r.ReadDir(root)
	if len(ents) != 1 || ents[0].Name != "mine" {
		t.Fatalf("entries %v", ents)
	}
	if _, err := r.Lookup(root, "host"); err != unix.ENOENT {
		t.Fatalf("whited-out lookup: %v", err)
	}
}

// TestConcurrent: writers, readers, renamers and unlinkers at once (run
// with -race).
func TestConcurrent(t *testing.T) {
	fs, mf := newFS(t, Options{})
	r := fs.root
	var wg sync.WaitGroup
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				name := fmt.Sprintf("f%d-%d", w, i%5)
				in, err := r.Create(root, name, 0o644)
				if err != nil {
					in, err = r.Lookup(root, name)
					if err != nil {
						continue
					}
				}
				ops, err := in.(*File).Open(root, unix.O_RDWR)
				if err != nil {
					t.Error(err)
					return
				}
				ops.Write(root, [][]byte{bytes.Repeat([]byte{byte(i)}, 5000)}, -1)
				ops.Read(root, [][]byte{make([]byte, 100)}, 10)
				r.Rename(root, name, r, fmt.Sprintf("f%d-%d", (w+1)%8, i%7), 0)
				r.Unlink(root, fmt.Sprintf("f%d-%d", w, (i+3)%7))
				in.Stat()
				r.ReadDir(root)
				ops.Release()
			}
		}(w)
	}
	wg.Wait()
	ents, _ := r.ReadDir(root)
	for _, e := range ents {
		if err := r.Unlink(root, e.Name); err != nil {
			t.Fatal(err)
		}
	}
	if got := mf.Stats().InUse; got != 0 || fs.inodes.Load() != 1 {
		t.Fatalf("after removing everything: %d frames, %d inodes", got, fs.inodes.Load())
	}
}
