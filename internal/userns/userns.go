// Package userns owns user namespaces and capability sets: the id maps a
// namespace translates with (uid_map, gid_map, setgroups) and the rule by
// which a set of capabilities in one namespace counts in another.
//
// Ids held by credentials and inodes are kernel ids: the ids of the
// sandbox's initial user namespace (nil *NS). A namespace's maps are
// written once (the first write of uid_map, of gid_map) and never change
// after, so readers need no lock once Mapped reports them set.
//
// Lock order: NS.mu is a leaf.
package userns

import (
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// Overflow is the id shown for a kernel id with no mapping in a
// namespace (/proc/sys/kernel/overflowuid).
const Overflow = 65534

// MaxLevel is how deep user namespaces nest. Linux: kernel/user_namespace.c
const MaxLevel = 32

// Extent maps Count ids from First (in the namespace) to Lower (kernel
// ids).
type Extent struct{ First, Lower, Count uint32 }

// NS is a user namespace; nil is the sandbox's initial one, whose maps
// are the identity.
type NS struct {
	Parent *NS
	Level  int
	// Owner and Group are the kernel euid and egid of the creator.
	Owner, Group uint32
	Inode        uint64

	mu       sync.Mutex
	uidMap   []Extent
	gidMap   []Extent
	uidSet   atomic.Bool
	gidSet   atomic.Bool
	setgroup int // 0: allow, 1: deny (setgroups file)
}

var nextInode atomic.Uint64

// InitInode is the inode number of the initial namespaces' links, as
// Linux numbers them (PROC_USER_INIT_INO).
const InitInode = 0xEFFFFFFD

func init() { nextInode.Store(0xF0000000) }

// NewInode returns a fresh namespace inode number (for every kind).
func NewInode() uint64 { return nextInode.Add(1) }

// New returns a child namespace of parent created by (euid, egid).
func New(parent *NS, euid, egid uint32) (*NS, error) {
	lvl := 1
	if parent != nil {
		lvl = parent.Level + 1
	}
	if lvl > MaxLevel {
		return nil, unix.EUSERS
	}
	n := &NS{Parent: parent, Level: lvl, Owner: euid, Group: egid, Inode: NewInode()}
	if parent != nil && parent.SetgroupsDenied() {
		n.setgroup = 1
	}
	return n, nil
}

// InodeOf returns the inode number of ns' /proc/PID/ns/user link.
func InodeOf(ns *NS) uint64 {
	if ns == nil {
		return InitInode
	}
	return ns.Inode
}

func lookupDown(m []Extent, id uint32) (uint32, bool) {
	for _, e := range m {
		if id >= e.First && id-e.First < e.Count {
			return e.Lower + (id - e.First), true
		}
	}
	return 0, false
}

func lookupUp(m []Extent, k uint32) (uint32, bool) {
	for _, e := range m {
		if k >= e.Lower && k-e.Lower < e.Count {
			return e.First + (k - e.Lower), true
		}
	}
	return 0, false
}

func (n *NS) maps(gid bool) []Extent {
	if gid {
		if !n.gidSet.Load() {
			return nil
		}
		return n.gidMap
	}
	if !n.uidSet.Load() {
		return nil
	}
	return n.uidMap
}

// KUID turns a uid of ns into a kernel uid (false: not mapped).
// Linux: kernel/user_namespace.c (make_kuid)
func KUID(ns *NS, uid uint32) (uint32, bool) { return kid(ns, uid, false) }

// KGID is KUID for group ids.
func KGID(ns *NS, gid uint32) (uint32, bool) { return kid(ns, gid, true) }

func kid(ns *NS, id uint32, gid bool) (uint32, bool) {
	if id == ^uint32(0) {
		return 0, false
	}
	if ns == nil {
		return id, true
	}
	return lookupDown(ns.maps(gid), id)
}

// UIDIn returns how ns sees kernel uid k (false: unmapped).
func UIDIn(ns *NS, k uint32) (uint32, bool) { return idIn(ns, k, false) }

// GIDIn is UIDIn for groups.
func GIDIn(ns *NS, k uint32) (uint32, bool) { return idIn(ns, k, true) }

func idIn(ns *NS, k uint32, gid bool) (uint32, bool) {
	if ns == nil {
		return k, true
	}
	return lookupUp(ns.maps(gid), k)
}

// ShowUID is from_kuid_munged: the overflow uid for an unmapped id.
func ShowUID(ns *NS, k uint32) uint32 {
	if v, ok := UIDIn(ns, k); ok {
		return v
	}
	return Overflow
}

// ShowGID is ShowUID for groups.
func ShowGID(ns *NS, k uint32) uint32 {
	if v, ok := GIDIn(ns, k); ok {
		return v
	}
	return Overflow
}

// SetgroupsDenied reports whether setgroups(2) is disabled in ns.
func (n *NS) SetgroupsDenied() bool {
	if n == nil {
		return false
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.setgroup == 1
}

// HasGIDMap reports whether gid_map has been written.
func (n *NS) HasGIDMap() bool { return n != nil && n.gidSet.Load() }

// IsAncestor reports whether a is ns or one of its ancestors.
func IsAncestor(a, ns *NS) bool {
	for {
		if ns == a {
			return true
		}
		if ns == nil {
			return false
		}
		ns = ns.Parent
	}
}

// Level returns ns' depth (0 for the initial namespace).
func Level(ns *NS) int {
	if ns == nil {
		return 0
	}
	return ns.Level
}

// FormatMap renders uid_map (gid false) or gid_map of ns as a reader in
// namespace reader sees it: lower ids in the reader's namespace, or in
// ns' parent when the reader is inside ns. Linux: kernel/user_namespace.c
// (uid_m_show)
func FormatMap(ns, reader *NS, gid bool) string {
	var m []Extent
	if ns == nil {
		m = []Extent{{0, 0, ^uint32(0)}}
	} else {
		m = ns.maps(gid)
	}
	lowerNS := reader
	if reader == ns && ns != nil {
		lowerNS = ns.Parent
	}
	var b strings.Builder
	for _, e := range m {
		lower, ok := idIn(lowerNS, e.Lower, gid)
		if !ok {
			continue
		}
		b.WriteString(pad(e.First) + " " + pad(lower) + " " + pad(e.Count) + "\n")
	}
	return b.String()
}

func pad(v uint32) string {
	s := strconv.FormatUint(uint64(v), 10)
	if len(s) < 10 {
		s = strings.Repeat(" ", 10-len(s)) + s
	}
	return s
}

// Setgroups returns the setgroups file's text.
func Setgroups(ns *NS) string {
	if ns.SetgroupsDenied() {
		return "deny\n"
	}
	return "allow\n"
}
