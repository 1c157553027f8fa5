package memfile

import (
	"math/rand"
	"slices"
	"testing"
)

// TestPageMap checks PageMap against a Go map under random operations,
// with pages clustered so that chunks fill, empty and hold runs.
func TestPageMap(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	var m PageMap
	ref := map[uint64]Frame{}
	page := func() uint64 {
		base := []uint64{0, 511, 512, 5000, 1 << 40}[rng.Intn(5)]
		return base + uint64(rng.Intn(1100))
	}
	sorted := func(from, to uint64) []uint64 {
		var ps []uint64
		for p := range ref {
			if p >= from && p < to {
				ps = append(ps, p)
			}
		}
		slices.Sort(ps)
		return ps
	}
	for op := 0; op < 200000; op++ {
		pg := page()
		switch r := rng.Intn(100); {
		case r < 40: // a run of consecutive frames
			fr := Frame(rng.Intn(1 << 20))
			for i := uint64(0); i < uint64(rng.Intn(40)+1); i++ {
				m.Set(pg+i, fr+Frame(i))
				ref[pg+i] = fr + Frame(i)
			}
		case r < 70:
			fr, ok := m.Delete(pg)
			want, wok := ref[pg]
			if ok != wok || fr != want {
				t.Fatalf("Delete(%d) = %d, %v; want %d, %v", pg, fr, ok, want, wok)
			}
			delete(ref, pg)
		case r < 80:
			n := uint64(rng.Intn(1200))
			fr, got := m.Run(pg, n)
			want, ok := ref[pg]
			wgot := uint64(0)
			if ok && n > 0 {
				for wgot = 1; wgot < n; wgot++ {
					if f, ok := ref[pg+wgot]; !ok || f != want+Frame(wgot) {
						break
					}
				}
			} else {
				want = 0
			}
			if fr != want || got != wgot {
				t.Fatalf("Run(%d, %d) = %d, %d; want %d, %d", pg, n, fr, got, want, wgot)
			}
		case r < 85:
			n := uint64(rng.Intn(1200))
			w := uint64(0)
			for w < n {
				if _, ok := ref[pg+w]; ok {
					break
				}
				w++
			}
			if got := m.Holes(pg, n); got != w {
				t.Fatalf("Holes(%d, %d) = %d, want %d", pg, n, got, w)
			}
		case r < 90:
			w := pg
			for {
				if _, ok := ref[w]; !ok {
					break
				}
				w++
			}
			if got := m.NextHole(pg); got != w {
				t.Fatalf("NextHole(%d) = %d, want %d", pg, got, w)
			}
			ps := sorted(pg, ^uint64(0))
			got, ok := m.NextPresent(pg)
			if ok != (len(ps) > 0) || ok && got != ps[0] {
				t.Fatalf("NextPresent(%d) = %d, %v; want %v", pg, got, ok, ps)
			}
		case r < 95: // Range, deleting every other page it visits
			to := pg + uint64(rng.Intn(3000))
			if rng.Intn(4) == 0 {
				to = ^uint64(0)
			}
			want := sorted(pg, to)
			var got []uint64
			m.Range(pg, to, func(p uint64, fr Frame) bool {
				if fr != ref[p] {
					t.Fatalf("Range: page %d frame %d, want %d", p, fr, ref[p])
				}
				got = append(got, p)
				if len(got)%2 == 0 {
					m.Delete(p)
					delete(ref, p)
				}
				return true
			})
			if !slices.Equal(got, want) {
				t.Fatalf("Range(%d, %d) visited %v, want %v", pg, to, got, want)
			}
		default:
			fr, ok := m.Get(pg)
			want, wok := ref[pg]
			if ok != wok || fr != want {
				t.Fatalf("Get(%d) = %d, %v; want %d, %v", pg, fr, ok, want, wok)
			}
		}
		if m.Len() != len(ref) {
			t.Fatalf("Len = %d, want %d", m.Len(), len(ref))
		}
	}
	// Emptying the map drops every chunk.
	m.Range(0, ^uint64(0), func(p uint64, _ Frame) bool { m.Delete(p); return true })
	if m.Len() != 0 || len(m.chunks) != 0 {
		t.Fatalf("after deleting everything: %d pages, %d chunks", m.Len(), len(m.chunks))
	}
	// Range stops when told to.
	for i := uint64(0); i < 10; i++ {
		m.Set(i*1000, Frame(i))
	}
	n := 0
	m.Range(0, ^uint64(0), func(uint64, Frame) bool { n++; return n < 3 })
	if n != 3 {
		t.Fatalf("Range went on after false: %d calls", n)
	}
}

// TestPageMapLargestFrame: the largest frame a memory file can have
// round-trips.
func TestPageMapLargestFrame(t *testing.T) {
	var m PageMap
	m.Set(7, maxFrames-1)
	if fr, ok := m.Get(7); !ok || fr != maxFrames-1 {
		t.Fatalf("Get = %d, %v", fr, ok)
	}
	if fr, n := m.Run(7, 2); fr != maxFrames-1 || n != 1 {
		t.Fatalf("Run = %d, %d", fr, n)
	}
}

func BenchmarkPageMapSet(b *testing.B) {
	var m PageMap
	for i := 0; i < b.N; i++ {
		m.Set(uint64(i), Frame(i))
	}
}

// TestBound: SetBound leaves glassbox its reserve, Limit reports the
// bound, and Alloc stops at the usable frames.
func TestBound(t *testing.T) {
	for _, c := range []struct{ bound, usable uint64 }{
		{256 << 20, 256<<20 - ReserveBase - 256<<20/4096*ReservePerPage},
		{12052 << 20, 12052<<20 - ReserveBase - 12052<<20/4096*ReservePerPage},
		{40 << 20, 20 << 20},
		{0, 0},
	} {
		if got := Usable(c.bound); got != c.usable&^4095 {
			t.Errorf("Usable(%d) = %d, want %d", c.bound, got, c.usable&^4095)
		}
	}
	f, err := New(256 << 20)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	f.SetBound(128 << 20)
	if f.Limit() != 128<<20 || f.Overhead() != 128<<20-Usable(128<<20) {
		t.Fatalf("Limit %d, Overhead %d", f.Limit(), f.Overhead())
	}
	n := Usable(128<<20) >> 12
	fr, err := f.Alloc(n)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Alloc(1); err != ErrLimit {
		t.Fatalf("Alloc past the usable frames: %v", err)
	}
	f.DecRef(fr, n)
	if s := f.Stats(); s.InUse != 0 {
		t.Fatalf("%d frames in use after DecRef", s.InUse)
	}
}
