package pipe

import (
	"bytes"
	"sync"
	"testing"

	"golang.org/x/sys/unix"
)

// pattern returns n bytes of a counting pattern starting at from.
func pattern(from, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte((from + i) % 251)
	}
	return b
}

func TestSpliceOutKeepsWhatWasNotTaken(t *testing.T) {
	ctx := newCtx()
	r, w := NewFiles(ctx, 0)
	defer r.DecRef()
	defer w.DecRef()
	write(ctx, w, pattern(0, 10000))
	e := r.Ops().(*End)
	var got []byte
	n, err := e.SpliceOut(ctx, 1<<20, false, func(src [][]byte) (int, error) {
		// Take 3000 bytes and say the rest would block, as a full socket does.
		take := 3000
		for _, b := range src {
			m := min(len(b), take)
			got = append(got, b[:m]...)
			take -= m
		}
		return 3000, unix.EAGAIN
	})
	if n != 3000 || err != unix.EAGAIN {
		t.Fatalf("SpliceOut = %d, %v; want 3000, EAGAIN", n, err)
	}
	rest, err := read(t, ctx, r, 20000)
	if err != nil || !bytes.Equal(append(got, rest...), pattern(0, 10000)) {
		t.Fatalf("bytes lost or reordered: got %d + %d bytes, %v", len(got), len(rest), err)
	}
}

func TestSpliceOutEOFAndNonblock(t *testing.T) {
	ctx := newCtx()
	r, w := NewFiles(ctx, 0)
	defer r.DecRef()
	e := r.Ops().(*End)
	drain := func(src [][]byte) (int, error) { return total(src), nil }
	if n, err := e.SpliceOut(ctx, 10, true, drain); n != 0 || err != unix.EAGAIN {
		t.Fatalf("empty, nonblock: %d, %v", n, err)
	}
	w.DecRef()
	if n, err := e.SpliceOut(ctx, 10, false, drain); n != 0 || err != nil {
		t.Fatalf("EOF: %d, %v", n, err)
	}
}

func TestSpliceInFillsFreeSlotsOnly(t *testing.T) {
	ctx := newCtx()
	r, w := NewFiles(ctx, 0)
	defer r.DecRef()
	defer w.DecRef()
	write(ctx, w, pattern(0, 10*pageSize)) // 6 slots stay free
	e := w.Ops().(*End)
	offered := 0
	n, err := e.SpliceIn(ctx, 1<<20, 100, false, func(dst [][]byte) (int, error) {
		offered = total(dst)
		c := cursor{bufs: dst}
		c.copyOut(pattern(10*pageSize, offered))
		return offered, nil
	})
	if want := 6*pageSize - 100; n != want || offered != want || err != nil {
		t.Fatalf("SpliceIn = %d (offered %d), %v; want %d", n, offered, err, want)
	}
	if ev := e.Events(); ev&unix.POLLOUT != 0 {
		t.Fatalf("pipe full but POLLOUT: %#x", ev)
	}
	all, _ := read(t, ctx, r, 1<<20)
	if !bytes.Equal(all, pattern(0, 16*pageSize-100)) {
		want := pattern(0, 16*pageSize-100)
		for i := range all {
			if all[i] != want[i] {
				t.Fatalf("read back %d bytes, differ at %d: %d vs %d", len(all), i, all[i], want[i])
			}
		}
	}
}

func TestSpliceInWaitsForRoomAndReportsEPIPE(t *testing.T) {
	ctx := newCtx()
	r, w := NewFiles(ctx, 0)
	defer w.DecRef()
	write(ctx, w, pattern(0, DefaultSize))
	e := w.Ops().(*End)
	fill := func(dst [][]byte) (int, error) { return total(dst), nil }
	if n, err := e.SpliceIn(ctx, 10, 0, true, fill); n != 0 || err != unix.EAGAIN {
		t.Fatalf("full, nonblock: %d, %v", n, err)
	}
	done := make(chan result, 1)
	go func() {
		n, err := e.SpliceIn(ctx, 10, 0, false, fill)
		done <- result{n: n, err: err}
	}()
	waitBlocked(t, pipeOf(r))
	read(t, ctx, r, pageSize) // frees the head slot
	if res := <-done; res.n != 10 || res.err != nil {
		t.Fatalf("after room was made: %d, %v", res.n, res.err)
	}
	r.DecRef()
	if n, err := e.SpliceIn(ctx, 10, 0, false, fill); n != 0 || err != unix.EPIPE {
		t.Fatalf("no reader: %d, %v", n, err)
	}
}

func TestSplicePipeToPipeAndTee(t *testing.T) {
	ctx := newCtx()
	r1, w1 := NewFiles(ctx, 0)
	r2, w2 := NewFiles(ctx, 0)
	for _, f := range []interface{ DecRef() }{r1, w1, r2, w2} {
		defer f.DecRef()
	}
	in, out := r1.Ops().(*End), w2.Ops().(*End)
	write(ctx, w1, pattern(0, 5000))
	if n, err := Tee(ctx, in, out, 4500, false); n != 4500 || err != nil {
		t.Fatalf("Tee = %d, %v", n, err)
	}
	if n, err := Splice(ctx, in, out, 1<<20, false); n != 5000 || err != nil {
		t.Fatalf("Splice = %d, %v", n, err)
	}
	if pipeOf(r1).Len() != 0 {
		t.Fatalf("input not consumed")
	}
	got, _ := read(t, ctx, r2, 1<<20)
	if want := append(pattern(0, 4500), pattern(0, 5000)...); !bytes.Equal(got, want) {
		t.Fatalf("output %d bytes, differ", len(got))
	}
	if _, err := Splice(ctx, in, r1.Ops().(*End), 1, false); err != unix.EBADF {
		t.Fatalf("to a read end: %v", err)
	}
	if _, err := Splice(ctx, in, w1.Ops().(*End), 1, false); err != unix.EINVAL {
		t.Fatalf("to itself: %v", err)
	}
}

// TestSpliceConcurrent moves a numbered stream through two pipes with
// writers, a splicer taking part of what it is offered, and readers all
// running at once: every byte arrives once, in order (run with -race).
func TestSpliceConcurrent(t *testing.T) {
	ctx := newCtx()
	r1, w1 := NewFiles(ctx, 0)
	r2, w2 := NewFiles(ctx, 0)
	defer r2.DecRef()
	const size = 1 << 20
	var wg sync.WaitGroup
	wg.Add(3)
	go func() { // producer
		defer wg.Done()
		defer w1.DecRef()
		for off := 0; off < size; off += 3001 {
			write(ctx, w1, pattern(off, min(3001, size-off)))
		}
	}()
	go func() { // splicer: pipe 1 → (partial drains) → pipe 2, and pipe 1 → pipe 2
		defer wg.Done()
		defer w2.DecRef()
		defer r1.DecRef()
		in, out := r1.Ops().(*End), w2.Ops().(*End)
		for i := 0; ; i++ {
			var n int
			var err error
			if i%2 == 0 {
				n, err = Splice(ctx, in, out, 7000, false)
			} else {
				n, err = in.SpliceOut(ctx, 9000, false, func(src [][]byte) (int, error) {
					take := min(1234, total(src))
					var buf []byte
					for _, b := range src {
						buf = append(buf, b...)
					}
					m, err := w2.Write(ctx, [][]byte{buf[:take]}, -1)
					return m, err
				})
			}
			if err != nil {
				t.Errorf("splice: %v", err)
				return
			}
			if n == 0 {
				return
			}
		}
	}()
	var got []byte
	go func() {
		defer wg.Done()
		for {
			b, err := read(t, ctx, r2, 5000)
			if err != nil || len(b) == 0 {
				return
			}
			got = append(got, b...)
		}
	}()
	wg.Wait()
	if !bytes.Equal(got, pattern(0, size)) {
		t.Fatalf("got %d of %d bytes, or out of order", len(got), size)
	}
}
