package unix

import (
	"bytes"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// FuzzParseAddr: any sockaddr_un a guest passes splits without a panic
// into an abstract name (kept exactly) or a path without NULs, never
// longer than sockaddr_un.
func FuzzParseAddr(f *testing.F) {
	f.Add(append([]byte{unix.AF_UNIX, 0}, "/tmp/s\x00"...))
	f.Add(append([]byte{unix.AF_UNIX, 0}, "\x00abstract"...))
	f.Add([]byte{unix.AF_UNIX, 0})
	f.Add(append([]byte{unix.AF_UNIX, 0}, bytes.Repeat([]byte{'a'}, 108)...))
	f.Fuzz(func(t *testing.T, b []byte) {
		n, err := ParseAddr(b)
		if err != nil {
			return
		}
		if len(n.Raw) > addrMax+1 || strings.IndexByte(n.Path, 0) >= 0 {
			t.Fatalf("name %q, path %q", n.Raw, n.Path)
		}
		if n.Abstract() && !bytes.Equal(n.Raw, b) {
			t.Fatalf("abstract name %q from %q", n.Raw, b)
		}
	})
}
