package pipe

import (
	"bytes"
	"math/rand"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

func TestRingModel(t *testing.T) {
	ctx := newCtx()
	r, w := NewFiles(ctx, unix.O_NONBLOCK)
	defer r.DecRef()
	defer w.DecRef()
	pipeOf(r).SetSize(8192, false)
	rng := rand.New(rand.NewSource(2))
	var model []byte
	for i := 0; i < 5000; i++ {
		if rng.Intn(2) == 0 {
			b := make([]byte, rng.Intn(3000))
			rng.Read(b)
			n, _ := w.Write(ctx, [][]byte{b[:len(b)/3], b[len(b)/3:]}, -1)
			model = append(model, b[:n]...)
		} else {
			b1, b2 := make([]byte, rng.Intn(2000)), make([]byte, rng.Intn(2000))
			n, _ := r.Read(ctx, [][]byte{b1, b2}, -1)
			got := append(b1, b2...)[:n]
			if !bytes.Equal(got, model[:n]) {
				t.Fatalf("step %d: read differs from the model", i)
			}
			model = model[n:]
		}
		if pipeOf(r).Len() != len(model) {
			t.Fatalf("step %d: Len %d, model %d", i, pipeOf(r).Len(), len(model))
		}
	}
}

// TestLikeHost replays sequences whose results were taken from Linux
// 6.18 (nonblocking pipes; w = write, r = read, [] = FIONREAD).
func TestLikeHost(t *testing.T) {
	for _, c := range []struct {
		flags int
		ops   []int // > 0 write n, < 0 read -n, 0 FIONREAD
		want  string
	}{
		{0, []int{3000, 3000, 3000, 3000, 3000, 3000, 3000, 3000, 3000, 3000, 3000, 3000, 3000, 3000, 3000, 3000, 3000, 0},
			"3000 3000 3000 3000 3000 3000 3000 3000 3000 3000 3000 3000 3000 3000 3000 3000 EAGAIN [48000]"},
		{0, []int{15*4096 + 1, 4096, 4000, 96, 1, 0, -1, 1, -4095, 5000, 4096, 0},
			"61441 EAGAIN 4000 EAGAIN 1 [65442] 1 1 4095 4096 EAGAIN [65443]"},
		{0, []int{10, 5000, 0, -100000, 70000}, "10 5000 [5010] 5010 65536"},
		{unix.O_DIRECT, []int{10, 20, 5000, 0, -5, -100, -100000, -100000, 0},
			"10 20 5000 [5030] 5 20 4096 904 [0]"},
	} {
		ctx := newCtx()
		r, w := NewFiles(ctx, unix.O_NONBLOCK|c.flags)
		var got []string
		for _, op := range c.ops {
			var n int
			var err error
			switch {
			case op > 0:
				n, err = write(ctx, w, make([]byte, op))
			case op < 0:
				var b []byte
				b, err = read(t, ctx, r, -op)
				n = len(b)
			default:
				got = append(got, "["+strconv.Itoa(pipeOf(r).Len())+"]")
				continue
			}
			if err != nil {
				got = append(got, unix.ErrnoName(err.(unix.Errno)))
			} else {
				got = append(got, strconv.Itoa(n))
			}
		}
		if g := strings.Join(got, " "); g != c.want {
			t.Errorf("ops %v:\n got %s\nwant %s", c.ops, g, c.want)
		}
		r.DecRef()
		w.DecRef()
	}
}
