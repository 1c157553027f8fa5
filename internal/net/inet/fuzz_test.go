package inet

import (
	"bytes"
	"testing"

	"golang.org/x/sys/unix"
)

// FuzzSockaddr: a guest's sockaddr for an AF_INET or AF_INET6 socket, of
// any length and content, decodes without a panic; what decodes encodes
// back to the same address and port, and the host's copy of it
// (hostSockaddr) never grows past the family's size.
func FuzzSockaddr(f *testing.F) {
	f.Add(uint8(0), sa4("127.0.0.1", 80))
	f.Add(uint8(1), sa6("::1", 443))
	f.Add(uint8(1), sa6("::ffff:10.0.0.1", 8080))
	f.Add(uint8(0), []byte{unix.AF_UNSPEC, 0})
	f.Add(uint8(1), []byte{unix.AF_INET6, 0, 1, 2, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, which uint8, b []byte) {
		family := unix.AF_INET
		if which&1 != 0 {
			family = unix.AF_INET6
		}
		in := bytes.Clone(b)
		ap, unspec, err := parseAddr(family, b)
		if !bytes.Equal(in, b) {
			t.Fatal("parseAddr changed its input")
		}
		if err == nil && !unspec {
			back, _, err := parseAddr(family, encodeAddr(family, ap))
			if err != nil || back != ap {
				t.Fatalf("%v encodes to something that decodes as %v, %v", ap, back, err)
			}
		}
		if h, err := hostSockaddr(family, b); err == nil && len(h) > unix.SizeofSockaddrInet6 {
			t.Fatalf("host sockaddr of %d bytes", len(h))
		}
		toSockaddr(family, b)
	})
}
