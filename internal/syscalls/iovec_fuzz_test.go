package syscalls

import (
	"encoding/binary"
	"testing"

	"golang.org/x/sys/unix"
)

func iovecBytes(v ...uint64) []byte {
	b := make([]byte, 8*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint64(b[8*i:], x)
	}
	return b
}

// FuzzIovecs: an iovec array of any content (up to UIO_MAXIOV entries)
// imports as Linux imports it, with no panic: EINVAL if any length is
// negative, else EFAULT if any segment ends beyond TASK_SIZE_MAX (or
// wraps), else every segment kept in order with its base, lengths cut
// only from the first one that crosses MAX_RW_COUNT on, and a total that
// is the array's total capped at MAX_RW_COUNT.
func FuzzIovecs(f *testing.F) {
	f.Add(iovecBytes(0x1000, 10, 0x2000, 20))
	f.Add(iovecBytes(0x1000, maxRW, 0x2000, 1, 0x3000, ^uint64(0)))
	f.Add(iovecBytes(0x1000, 1<<62, 0x2000, 1<<62))
	f.Add(iovecBytes(taskSizeMax, 0, taskSizeMax-4096, 4096, taskSizeMax-4096, 4097))
	f.Add(iovecBytes(^uint64(0), 0))
	f.Add(iovecBytes(^uint64(0)-5, 10))
	f.Add([]byte{1, 2, 3})
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) > 16*uioMaxIOV {
			b = b[:16*uioMaxIOV]
		}
		got, err := importIovecs(b)
		le := binary.LittleEndian
		n := len(b) / 16
		neg, fault := false, false
		var want uint64
		for i := 0; i < n; i++ {
			base, l := le.Uint64(b[16*i:]), le.Uint64(b[16*i+8:])
			neg = neg || int64(l) < 0
			fault = fault || base+l < base || base+l > taskSizeMax
			want = min(want+l&(1<<63-1), maxRW) // no overflow: each l < 2^63, want <= maxRW
		}
		switch {
		case neg:
			if err != unix.EINVAL {
				t.Fatalf("negative length: %v", err)
			}
			return
		case fault:
			if err != unix.EFAULT {
				t.Fatalf("segment beyond the user address space: %v", err)
			}
			return
		case err != nil:
			t.Fatalf("valid array refused: %v", err)
		}
		if len(got) != n {
			t.Fatalf("%d segments from %d", len(got), n)
		}
		var total uint64
		cut := false
		for i, v := range got {
			base, l := le.Uint64(b[16*i:]), le.Uint64(b[16*i+8:])
			if v.base != base || v.len > l || cut && v.len != 0 {
				t.Fatalf("segment %d: %+v from base 0x%x len %d (cut before: %v)", i, v, base, l, cut)
			}
			cut = cut || v.len < l
			total += v.len
			if total > maxRW {
				t.Fatalf("total %d beyond MAX_RW_COUNT", total)
			}
		}
		if total != want {
			t.Fatalf("total %d, want %d", total, want)
		}
		// The remote side of process_vm_* only decodes: same lengths, no cut.
		if d, err := decodeIovecs(b); err != nil || len(d) != n {
			t.Fatalf("decode: %d segments, %v", len(d), err)
		}
	})
}

// FuzzPollfds: a pollfd array of any content is answered with no panic:
// fd and events are left alone, a negative fd gets revents 0 and is not
// looked up, a closed one POLLNVAL, an open one the events it asked for
// plus POLLERR and POLLHUP, and the count is the entries with revents.
// Here fds 0-63 are open, an fd's readiness is a function of the fd.
func FuzzPollfds(f *testing.F) {
	pfd := func(fd int32, ev uint16) []byte {
		b := make([]byte, 8)
		binary.LittleEndian.PutUint32(b, uint32(fd))
		binary.LittleEndian.PutUint16(b[4:], ev)
		binary.LittleEndian.PutUint16(b[6:], 0xffff)
		return b
	}
	f.Add(append(pfd(0, unix.POLLIN), pfd(1, unix.POLLOUT)...))
	f.Add(append(append(pfd(-1, unix.POLLIN), pfd(100, 0)...), pfd(5, 0xffff)...))
	f.Add([]byte{0, 0, 0})
	readiness := func(fd int) uint32 { return uint32(fd) * 0x9e3779b1 }
	f.Fuzz(func(t *testing.T, b []byte) {
		orig := append([]byte(nil), b...)
		looked := map[int]bool{}
		n := pollScan(b, func(fd int) (uint32, bool) {
			looked[fd] = true
			return readiness(fd), fd < 64
		})
		le := binary.LittleEndian
		count := 0
		for i := 0; i+8 <= len(b); i += 8 {
			if le.Uint32(b[i:]) != le.Uint32(orig[i:]) || le.Uint16(b[i+4:]) != le.Uint16(orig[i+4:]) {
				t.Fatalf("entry %d: fd or events changed", i/8)
			}
			fd, ev, rev := int(int32(le.Uint32(b[i:]))), le.Uint16(b[i+4:]), le.Uint16(b[i+6:])
			var want uint16
			switch {
			case fd < 0:
				if looked[fd] {
					t.Fatalf("negative fd %d looked up", fd)
				}
			case fd >= 64:
				want = unix.POLLNVAL
			default:
				want = uint16(readiness(fd)) & (ev | unix.POLLERR | unix.POLLHUP)
			}
			if rev != want {
				t.Fatalf("fd %d events 0x%x: revents 0x%x, want 0x%x", fd, ev, rev, want)
			}
			if rev != 0 {
				count++
			}
		}
		if n != count || len(b)%8 != 0 && string(b[len(b)/8*8:]) != string(orig[len(b)/8*8:]) {
			t.Fatalf("count %d, %d entries have revents (or a partial entry changed)", n, count)
		}
	})
}

// FuzzSelect: read, write and except fd_sets of any content, for any
// nfds up to their size, are answered with no panic: EBADF exactly when
// a set asks for a closed fd below nfds, else result bits only for fds
// below nfds that a set asked for and whose readiness matches that set,
// counted once per set. Here fds 0-99 are open.
func FuzzSelect(f *testing.F) {
	f.Add([]byte{0x07}, []byte{0x02}, []byte{0}, uint16(3))
	f.Add([]byte{0xff, 0xff}, []byte{}, []byte{0x80}, uint16(16))
	f.Add(make([]byte, 16), []byte{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10}, []byte{}, uint16(128))
	readiness := func(fd int) uint32 { return uint32(fd) * 0x9e3779b1 }
	f.Fuzz(func(t *testing.T, r, w, e []byte, nfds uint16) {
		n := int(nfds) % 1025
		size := (n + 63) / 64 * 8
		var sets [3][]byte
		for i, in := range [][]byte{r, w, e} {
			sets[i] = make([]byte, size)
			copy(sets[i], in)
		}
		out, cnt, err := selectScan(sets, n, func(fd int) (uint32, bool) {
			if fd >= n {
				t.Fatalf("fd %d looked up with nfds %d", fd, n)
			}
			return readiness(fd), fd < 100
		})
		masks := [3]uint32{selectIn, selectOut, selectEx}
		bad := false
		want := 0
		for fd := 0; fd < n; fd++ {
			for i := range sets {
				if sets[i][fd/8]&(1<<(fd%8)) == 0 {
					continue
				}
				bad = bad || fd >= 100
				if fd < 100 && readiness(fd)&masks[i] != 0 {
					want++
					if out[i][fd/8]&(1<<(fd%8)) == 0 {
						t.Fatalf("fd %d ready for set %d, not reported", fd, i)
					}
				}
			}
		}
		if bad {
			if err != unix.EBADF {
				t.Fatalf("closed fd asked for: %v", err)
			}
			return
		}
		if err != nil || cnt != want {
			t.Fatalf("count %d, want %d (%v)", cnt, want, err)
		}
		for i := range out {
			for j, x := range out[i] {
				if x&^sets[i][j] != 0 {
					t.Fatalf("set %d byte %d: 0x%x not asked for (0x%x)", i, j, x, sets[i][j])
				}
				for k := 0; k < 8; k++ {
					if x&(1<<k) != 0 && j*8+k >= n {
						t.Fatalf("set %d: fd %d beyond nfds %d", i, j*8+k, n)
					}
				}
			}
		}
	})
}
