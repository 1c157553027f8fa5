package memfile

import (
	"bytes"
	"math/rand"
	"testing"

	"glassbox/internal/abi"
)

// TestCopyInto: CopyInto gives each destination frame its source's bytes,
// whether the sources are one contiguous run, scattered, repeated or more
// than one pwritev's vector, and leaves the frames around them alone.
func TestCopyInto(t *testing.T) {
	f, err := New(64 << 20)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	const n = 1100 // > iovMax scattered sources
	src, err := f.Alloc(2 * n)
	if err != nil {
		t.Fatal(err)
	}
	rand.New(rand.NewSource(2)).Read(f.Bytes(src, 2*n))
	scattered := make([]Frame, n)
	for i := range scattered {
		scattered[i] = src + Frame(2*i)
	}
	contiguous := make([]Frame, 64)
	for i := range contiguous {
		contiguous[i] = src + 100 + Frame(i)
	}
	mixed := []Frame{src + 5, src + 6, src + 7, src + 3, src + 3, src + 2*n - 1, src}
	for _, c := range []struct {
		name string
		srcs []Frame
	}{{"contiguous", contiguous}, {"scattered", scattered}, {"mixed", mixed}, {"one", []Frame{src + 9}}} {
		guard, err := f.Alloc(uint64(len(c.srcs)) + 2)
		if err != nil {
			t.Fatal(err)
		}
		for _, g := range []Frame{guard, guard + Frame(len(c.srcs)) + 1} {
			copy(f.Bytes(g, 1), bytes.Repeat([]byte{0xa5}, abi.PageSize))
		}
		dst := guard + 1
		f.CopyInto(dst, c.srcs)
		for i, s := range c.srcs {
			if !bytes.Equal(f.Bytes(dst+Frame(i), 1), f.Bytes(s, 1)) {
				t.Fatalf("%s: frame %d differs from its source", c.name, i)
			}
		}
		for _, g := range []Frame{guard, guard + Frame(len(c.srcs)) + 1} {
			if !bytes.Equal(f.Bytes(g, 1), bytes.Repeat([]byte{0xa5}, abi.PageSize)) {
				t.Fatalf("%s: a neighbouring frame changed", c.name)
			}
		}
		f.DecRef(guard, uint64(len(c.srcs))+2)
	}
	if got := f.Stats().InUse; got != 2*n {
		t.Fatalf("frames in use %d, want %d", got, 2*n)
	}
}
