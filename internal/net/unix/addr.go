package unix

import (
	"bytes"
	"fmt"
	"math/rand/v2"

	"golang.org/x/sys/unix"

	"glassbox/internal/vfs"
)

// Sizes of struct sockaddr_un. Linux: include/uapi/linux/un.h
const (
	familyLen = 2   // sizeof(sa_family_t) = offsetof(struct sockaddr_un, sun_path)
	addrMax   = 110 // sizeof(struct sockaddr_un)
)

// Name is an address resolved for bind, connect or sendto.
type Name struct {
	// Raw is the sockaddr_un as Linux keeps it: for an abstract name every
	// byte given, for a pathname the family, the path and one NUL.
	Raw []byte
	// Path is the path of a pathname address ("" for an abstract one);
	// the caller resolves it into Dir and Base.
	Path string
	Dir  vfs.Path
	Base string
}

// Abstract reports whether n is in the abstract namespace (sun_path
// starts with a NUL byte).
func (n *Name) Abstract() bool { return n.Path == "" }

// ParseAddr checks a sockaddr_un of the length the caller gave and
// splits it: abstract names keep their exact length, pathnames end at
// their first NUL. Linux: net/unix/af_unix.c (unix_validate_addr,
// unix_mkname_bsd)
func ParseAddr(b []byte) (*Name, error) {
	if len(b) <= familyLen || len(b) > addrMax {
		return nil, unix.EINVAL
	}
	if b[0] != unix.AF_UNIX || b[1] != 0 {
		return nil, unix.EINVAL
	}
	if b[familyLen] == 0 {
		return &Name{Raw: bytes.Clone(b)}, nil
	}
	path := b[familyLen:]
	if i := bytes.IndexByte(path, 0); i >= 0 {
		path = path[:i]
	}
	raw := append(append(bytes.Clone(b[:familyLen]), path...), 0)
	return &Name{Raw: raw, Path: string(path)}, nil
}

// unnamed is what getsockname reports for an unbound socket.
var unnamed = []byte{unix.AF_UNIX, 0}

type abstractKey struct {
	typ  int
	name string
}

// Linux hashes abstract names with the socket type, so each type has its
// own abstract namespace. Linux: net/unix/af_unix.c (unix_abstract_hash)
func abstractKeyOf(typ int, raw []byte) abstractKey { return abstractKey{typ, string(raw)} }

func (ns *Namespace) unbindAbstractLocked(s *Socket) {
	if s.addr == nil || s.addr[familyLen] != 0 {
		return
	}
	k := abstractKeyOf(s.typ, s.addr)
	if ns.abstract[k] == s {
		delete(ns.abstract, k)
	}
}

// autobindLocked gives an unbound socket an abstract name of five hex
// digits. Linux: net/unix/af_unix.c (unix_autobind)
func (s *Socket) autobindLocked() error {
	if s.addr != nil {
		return nil
	}
	n := rand.Uint32() & 0xfffff
	for range 0x100000 {
		n = (n + 1) & 0xfffff
		raw := append([]byte{unix.AF_UNIX, 0, 0}, fmt.Sprintf("%05x", n)...)
		k := abstractKeyOf(s.typ, raw)
		if s.ns.abstract[k] == nil {
			s.ns.abstract[k] = s
			s.addr = raw
			return nil
		}
	}
	return unix.ENOSPC
}

// find returns the socket n names, of type typ: ECONNREFUSED when no
// socket has the name, EPROTOTYPE for a pathname socket of another type.
// Linux: net/unix/af_unix.c (unix_find_other)
func (ns *Namespace) find(ctx vfs.Ctx, n *Name, typ int) (*Socket, error) {
	if n.Abstract() {
		ns.mu.Lock()
		defer ns.mu.Unlock()
		if s := ns.abstract[abstractKeyOf(typ, n.Raw)]; s != nil {
			return s, nil
		}
		return nil, unix.ECONNREFUSED
	}
	if ns.paths == nil {
		return nil, unix.ECONNREFUSED
	}
	s, err := ns.paths.Lookup(ctx, n.Dir, n.Base)
	if err != nil {
		return nil, err
	}
	if s.typ != typ {
		return nil, unix.EPROTOTYPE
	}
	return s, nil
}

// LocalAddr returns the socket's address (getsockname): the bound
// sockaddr_un, or just the family when unbound. Linux: unix_getname
func (s *Socket) LocalAddr() []byte {
	s.ns.mu.Lock()
	defer s.ns.mu.Unlock()
	return addrOrUnnamed(s.addr)
}

// PeerAddr returns the peer's address (getpeername); ENOTCONN without a
// peer.
func (s *Socket) PeerAddr() ([]byte, error) {
	s.ns.mu.Lock()
	defer s.ns.mu.Unlock()
	if s.peer == nil {
		return nil, unix.ENOTCONN
	}
	return addrOrUnnamed(s.peer.addr), nil
}

func addrOrUnnamed(a []byte) []byte {
	if a == nil {
		return unnamed
	}
	return a
}
