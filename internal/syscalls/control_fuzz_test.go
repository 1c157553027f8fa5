package syscalls

import (
	"encoding/binary"
	"testing"

	"golang.org/x/sys/unix"

	unixsock "glassbox/internal/net/unix"
	"glassbox/internal/vfs"
)

// cmsg builds one control message with its padding.
func cmsg(level, typ int32, data []byte) []byte {
	b := make([]byte, cmsgHdrLen, cmsgAlign(cmsgHdrLen+len(data)))
	binary.LittleEndian.PutUint64(b, uint64(cmsgHdrLen+len(data)))
	binary.LittleEndian.PutUint32(b[8:], uint32(level))
	binary.LittleEndian.PutUint32(b[12:], uint32(typ))
	b = append(b, data...)
	return b[:cap(b)]
}

type countingOps struct {
	vfs.BaseOps
	released *int
}

func (o countingOps) Release()                       { *o.released++ }
func (o countingOps) Stat(vfs.Ctx) (vfs.Stat, error) { return vfs.Stat{}, nil }

// FuzzControl: a sendmsg control buffer of any content decodes without
// a panic, within SCM_MAX_FD descriptors, and an error leaves no
// reference taken (descriptors 0-3 exist here; credentials naming pid 1
// pass the check).
func FuzzControl(f *testing.F) {
	fds := func(n ...int32) []byte {
		b := make([]byte, 4*len(n))
		for i, v := range n {
			binary.LittleEndian.PutUint32(b[4*i:], uint32(v))
		}
		return b
	}
	cred := fds(1, 0, 0)
	f.Add(cmsg(unix.SOL_SOCKET, unix.SCM_RIGHTS, fds(0, 1, 2)))
	f.Add(append(cmsg(unix.SOL_SOCKET, unix.SCM_RIGHTS, fds(3)), cmsg(unix.SOL_SOCKET, unix.SCM_CREDENTIALS, cred)...))
	f.Add(append(cmsg(unix.SOL_SOCKET, unix.SCM_RIGHTS, fds(0, 9)), cmsg(unix.SOL_IP, 1, fds(5))...))
	f.Add(cmsg(unix.SOL_SOCKET, unix.SCM_CREDENTIALS, fds(2, 0, 0)))
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 1, 0, 0, 0, 1, 0, 0, 0})
	f.Fuzz(func(t *testing.T, ctl []byte) {
		released := 0
		file := vfs.NewAnonFile(countingOps{released: &released}, "test", unix.O_RDWR)
		getFile := func(fd int) (*vfs.File, error) {
			if fd < 0 || fd > 3 {
				return nil, unix.EBADF
			}
			file.IncRef()
			return file, nil
		}
		check := func(c unixsock.Cred) error {
			if c.PID != 1 {
				return unix.EPERM
			}
			return nil
		}
		rights, _, err := decodeControl(ctl, getFile, check)
		if len(rights) > scmMaxFD {
			t.Fatalf("%d descriptors passed", len(rights))
		}
		if err != nil && len(rights) != 0 {
			t.Fatalf("error %v with %d descriptors", err, len(rights))
		}
		dropFiles(rights)
		file.DecRef()
		if released != 1 {
			t.Fatalf("the file was released %d times (references taken and not dropped, or dropped twice)", released)
		}
	})
}
