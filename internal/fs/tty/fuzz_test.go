package tty

import (
	"testing"

	"golang.org/x/sys/unix"

	"glassbox/internal/vfs"
)

// FuzzTermios: a guest's termios (any flags, any control characters,
// VMIN/VTIME) and winsize, then any bytes typed at the master and written
// to the slave, go through the line discipline without a panic or a
// wait; both sides drain.
func FuzzTermios(f *testing.F) {
	cooked, raw := defaultTermios(), defaultTermios()
	raw.Lflag &^= lICANON | lECHO
	f.Add(cooked.Bytes(), []byte{24, 0, 80, 0, 0, 0, 0, 0}, []byte("ab\x7fc\x15xy\rz\x04"), []byte("out\n"))
	f.Add(raw.Bytes(), []byte{0, 0, 0, 0, 0, 0, 0, 0}, []byte("\x03\x1a\x1c\x11\x13q"), []byte("\t\r\n"))
	f.Add(make([]byte, 36), []byte{0xff, 0xff, 0xff, 0xff, 1, 2, 3, 4}, []byte("\xff\xfe\x00\n"), []byte(nil))
	f.Fuzz(func(t *testing.T, tb, wb, in, out []byte) {
		tb = append(tb, make([]byte, 36)...)[:36]
		wb = append(wb, make([]byte, 8)...)[:8]
		k := newKernel()
		_, m, s := pair(t, k)
		m.SetFile(vfs.NewAnonFile(m, "ptmx", unix.O_RDWR|unix.O_NONBLOCK))
		s.SetFile(vfs.NewAnonFile(s, "pts", unix.O_RDWR|unix.O_NONBLOCK))
		mm := mem{8: tb, 16: wb, 24: make([]byte, 4)}
		s.Ioctl(k, mm, tcsets, 8)
		s.Ioctl(k, mm, tiocswinsz, 16)
		drain := func(f vfs.FileOps) {
			for i := 0; i < 64; i++ {
				if n, err := rd(k, f, 512); n == "" || err != nil {
					return
				}
			}
		}
		for len(in) > 0 || len(out) > 0 {
			n := min(len(in), 97)
			wr(k, m, string(in[:n]))
			in = in[n:]
			drain(s)
			n = min(len(out), 89)
			wr(k, s, string(out[:n]))
			out = out[n:]
			drain(m)
			m.Ioctl(k, mm, fionread, 24)
			s.Ioctl(k, mm, fionread, 24)
		}
		drain(s)
		drain(m)
	})
}
