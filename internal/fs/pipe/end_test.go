package pipe

import (
	"encoding/binary"
	"testing"

	"golang.org/x/sys/unix"

	"glassbox/internal/vfs"
)

func TestFIONREAD(t *testing.T) {
	ctx := newCtx()
	r, w := NewFiles(ctx, 0)
	defer r.DecRef()
	defer w.DecRef()
	write(ctx, w, make([]byte, 123))
	mem := fakeMem{}
	for _, f := range []*vfs.File{r, w} {
		if _, err := f.Ops().(vfs.Ioctler).Ioctl(ctx, mem, 0x541B, 0x1000); err != nil {
			t.Fatal(err)
		}
		if n := binary.LittleEndian.Uint32(mem[0x1000]); n != 123 {
			t.Fatalf("FIONREAD = %d", n)
		}
	}
	if _, err := r.Ops().(vfs.Ioctler).Ioctl(ctx, mem, unix.TCGETS, 0x1000); err != unix.ENOTTY {
		t.Fatalf("TCGETS: %v", err)
	}
}

func TestStatAndStream(t *testing.T) {
	ctx := newCtx()
	r, w := NewFiles(ctx, 0)
	defer r.DecRef()
	defer w.DecRef()
	r2, w2 := NewFiles(ctx, 0)
	defer r2.DecRef()
	defer w2.DecRef()
	st, _ := r.Stat(ctx)
	st2, _ := w.Stat(ctx)
	other, _ := r2.Stat(ctx)
	if st.Mode != unix.S_IFIFO|0o600 || st.Dev != Dev || st.UID != 1000 || st.GID != 100 || st.Blksize != 4096 {
		t.Fatalf("stat %+v", st)
	}
	if st.Ino != st2.Ino || st.Ino == other.Ino {
		t.Fatalf("inos %d %d %d", st.Ino, st2.Ino, other.Ino)
	}
	if r.AnonName() != "pipe:["+itoaU(st.Ino)+"]" {
		t.Fatalf("name %q", r.AnonName())
	}
	if _, err := r.Seek(ctx, 0, unix.SEEK_SET); err != unix.ESPIPE {
		t.Fatalf("lseek: %v", err)
	}
	if _, err := w.Write(ctx, [][]byte{{1}}, 0); err != unix.ESPIPE {
		t.Fatalf("pwrite: %v", err)
	}
	if _, err := r.Write(ctx, [][]byte{{1}}, -1); err != unix.EBADF {
		t.Fatalf("write to the read end: %v", err)
	}
}

func itoaU(n uint64) string {
	if n < 10 {
		return string(rune('0' + n))
	}
	return itoaU(n/10) + string(rune('0'+n%10))
}

func TestReadiness(t *testing.T) {
	ctx := newCtx()
	r, w := NewFiles(ctx, unix.O_NONBLOCK)
	p := pipeOf(r)
	re, we := r.Ops().(*End), w.Ops().(*End)
	if p.Readable() || !p.Writable() || re.Events() != 0 || we.Events() != unix.POLLOUT|pollWrnorm {
		t.Fatalf("empty: %v %v %#x %#x", p.Readable(), p.Writable(), re.Events(), we.Events())
	}
	ch := p.Changed()
	write(ctx, w, make([]byte, DefaultSize-PipeBuf+1))
	select {
	case <-ch:
	default:
		t.Fatal("Changed not closed by a write")
	}
	if !p.Readable() || p.Writable() || re.Events() != unix.POLLIN|pollRdnorm || we.Events() != 0 {
		t.Fatalf("nearly full: %v %v %#x %#x", p.Readable(), p.Writable(), re.Events(), we.Events())
	}
	r.DecRef()
	if !p.Writable() || we.Events() != unix.POLLERR {
		t.Fatalf("no reader: %#x", we.Events())
	}
	w.DecRef()
	if re.Events() != unix.POLLIN|pollRdnorm|unix.POLLHUP {
		t.Fatalf("no writer: %#x", re.Events())
	}
	if rd, wr := p.Ends(); rd != 0 || wr != 0 {
		t.Fatalf("ends %d %d", rd, wr)
	}
	re.Release() // a second release changes nothing
	if rd, _ := p.Ends(); rd != 0 {
		t.Fatalf("double release counted")
	}
}
