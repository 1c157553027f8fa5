package hostfs

import (
	"bytes"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"glassbox/internal/memfile"
	"glassbox/internal/mm"
	"glassbox/internal/vfs"
)

func (e *env) mappable(f *vfs.File) mm.Mappable {
	e.t.Helper()
	obj, err := f.Ops().(vfs.MappableFile).Mappable()
	if err != nil {
		e.t.Fatalf("mappable: %v", err)
	}
	return obj
}

// translate gets page pg's frame as a mapping would (one reference, which
// the test drops with release).
func (e *env) translate(obj mm.Mappable, pg uint64) memfile.Frame {
	e.t.Helper()
	fr, _, err := obj.Translate(pg, 1)
	if err != nil {
		e.t.Fatalf("translate %d: %v", pg, err)
	}
	return fr
}

// TestCacheCoherent: write(2) reaches mapped pages; stores into a shared
// writable mapping reach read(2) at once and the host at close or Sync;
// truncation and extension fix the cached pages up; the frames are freed
// when nothing maps them.
func TestCacheCoherent(t *testing.T) {
	e := newEnv(t)
	f := e.open("/m", unix.O_RDWR|unix.O_CREAT, 0o644)
	e.write(f, strings.Repeat("a", 3*4096), 0)
	obj := e.mappable(f)
	if obj.Size() != 3*4096 || !obj.(interface{ Writable() bool }).Writable() {
		t.Fatalf("size %d", obj.Size())
	}
	fr0 := e.translate(obj, 0)
	page := func(fr memfile.Frame) []byte { return e.mf.Bytes(fr, 1) }
	if page(fr0)[0] != 'a' {
		t.Fatal("page not read in")
	}
	// Another description writes: the mapped page sees it, and a second
	// mapping shares the frame.
	w := e.open("/m", unix.O_WRONLY, 0)
	e.write(w, "BBBB", 100)
	if string(page(fr0)[100:104]) != "BBBB" {
		t.Fatal("write did not reach the mapped page")
	}
	ro := e.open("/m", unix.O_RDONLY, 0)
	robj := e.mappable(ro)
	if robj.(interface{ Writable() bool }).Writable() {
		t.Fatal("a read-only open gave a writable mapping")
	}
	if fr := e.translate(robj, 0); fr != fr0 {
		t.Fatal("two mappings of one file do not share its pages")
	} else {
		e.mf.DecRef(fr, 1)
	}

	// A store through the shared mapping: read sees it, the host gets it
	// when a description is closed.
	fr1 := e.translate(obj, 1)
	copy(page(fr1)[10:], "stored")
	buf := make([]byte, 6)
	if n, _ := ro.Read(root, [][]byte{buf}, 4096+10); n != 6 || string(buf) != "stored" {
		t.Fatalf("read after a mapped store: %q", buf[:n])
	}
	ro.DecRef()
	if got := e.hostData("m"); got[4096+10:4096+16] != "stored" || got[100:104] != "BBBB" {
		t.Fatal("close did not write the store back")
	}
	copy(page(fr1)[20:], "synced")
	must(t, "sync", e.fs.Sync())
	if got := e.hostData("m"); got[4096+20:4096+26] != "synced" {
		t.Fatal("Sync did not write the store back")
	}

	// Shrink to the middle of page 1, then extend: the tail reads zeros,
	// page 2 is gone from the cache.
	must(t, "ftruncate", vfs.FTruncate(root, w, 4096+12))
	if obj.Size() != 4096+12 || page(fr1)[12] != 0 || string(page(fr1)[10:12]) != "st" {
		t.Fatalf("after shrink: size %d, page %q", obj.Size(), page(fr1)[10:14])
	}
	if _, _, err := obj.Translate(2, 1); err != unix.EFAULT {
		t.Fatalf("page past the end: %v", err)
	}
	e.write(w, "Z", 3*4096)
	if obj.Size() != 3*4096+1 {
		t.Fatalf("size after extension %d", obj.Size())
	}
	fr2 := e.translate(obj, 2)
	if !bytes.Equal(page(fr2)[:4], []byte{0, 0, 0, 0}) || page(fr2)[4095] != 0 {
		t.Fatal("hole after extension not zero")
	}
	// fallocate punching a hole under a cached page.
	must(t, "punch", vfs.Fallocate(root, w, unix.FALLOC_FL_PUNCH_HOLE|unix.FALLOC_FL_KEEP_SIZE, 0, 4096))
	if page(fr0)[100] != 0 {
		t.Fatal("punched page still cached")
	}
	// O_TRUNC through the cache.
	tr := e.open("/m", unix.O_WRONLY|unix.O_TRUNC, 0)
	tr.DecRef()
	if obj.Size() != 0 {
		t.Fatal("O_TRUNC did not reach the cache")
	}
	for _, fr := range []memfile.Frame{fr0, fr1, fr2} {
		e.mf.DecRef(fr, 1)
	}
	w.DecRef()
	f.DecRef()
	if n := e.mf.Stats().InUse; n != 0 {
		t.Fatalf("%d frames still in use with nothing mapped", n)
	}
}

// TestCacheReopen: a file mapped, closed and written again is seen fresh
// by the next mapping, even within one mtime tick and at the same size
// (the read-only cache's key would not notice).
func TestCacheReopen(t *testing.T) {
	e := newEnv(t)
	f := e.open("/x", unix.O_RDWR|unix.O_CREAT, 0o644)
	e.write(f, "AAAA", 0)
	fr := e.translate(e.mappable(f), 0)
	e.mf.DecRef(fr, 1)
	f.DecRef()
	g := e.open("/x", unix.O_WRONLY, 0)
	e.write(g, "BBBB", 0)
	g.DecRef()
	h := e.open("/x", unix.O_RDONLY, 0)
	fr = e.translate(e.mappable(h), 0)
	if got := string(e.mf.Bytes(fr, 1)[:4]); got != "BBBB" {
		t.Fatalf("mapping after rewrite: %q", got)
	}
	e.mf.DecRef(fr, 1)
	h.DecRef()
}

// TestAppendConcurrent: O_APPEND writers from many descriptions never
// overwrite each other.
func TestAppendConcurrent(t *testing.T) {
	e := newEnv(t)
	e.open("/log", unix.O_WRONLY|unix.O_CREAT, 0o644).DecRef()
	done := make(chan bool)
	for i := 0; i < 8; i++ {
		go func(i int) {
			f, err := e.ns.Open(root, e.ns.Root(), e.ns.Root(), "/log", unix.O_WRONLY|unix.O_APPEND, 0)
			if err != nil {
				t.Error(err)
				done <- false
				return
			}
			for j := 0; j < 100; j++ {
				f.Write(root, [][]byte{[]byte("0123456789")}, -1)
			}
			f.DecRef()
			done <- true
		}(i)
	}
	for i := 0; i < 8; i++ {
		<-done
	}
	if got := e.hostData("log"); got != strings.Repeat("0123456789", 800) {
		t.Fatalf("appends interleaved badly: %d bytes", len(got))
	}
}
