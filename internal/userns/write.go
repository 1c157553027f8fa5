package userns

import (
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// Capability numbers the map rules name. Linux: include/uapi/linux/capability.h
const (
	capSetgid   = 6
	capSetuid   = 7
	capSysAdmin = 21
)

// Writer is who writes a map or the setgroups file: its namespace, its
// kernel euid and egid, and its capability test (ns_capable).
type Writer struct {
	NS         *NS
	EUID, EGID uint32
	Capable    func(ns *NS, cap int) bool
}

// maxExtents is how many lines a map may have. Linux: UID_GID_MAP_MAX_EXTENTS
const maxExtents = 340

// WriteMap is a write of uid_map (gid false) or gid_map of ns.
// Linux: kernel/user_namespace.c (map_write, new_idmap_permitted)
func WriteMap(ns *NS, w Writer, data string, gid bool) error {
	if ns == nil {
		return unix.EPERM // the initial maps are fixed
	}
	if w.NS != ns && w.NS != ns.Parent {
		return unix.EPERM
	}
	ns.mu.Lock()
	defer ns.mu.Unlock()
	set := &ns.uidSet
	capID := capSetuid
	if gid {
		set, capID = &ns.gidSet, capSetgid
	}
	if set.Load() {
		return unix.EPERM
	}
	if !w.Capable(ns, capSysAdmin) {
		return unix.EPERM
	}
	if !strings.HasSuffix(data, "\n") && strings.Contains(data, "\n") {
		return unix.EINVAL
	}
	var ext []Extent
	for _, line := range strings.Split(strings.TrimSuffix(data, "\n"), "\n") {
		f := strings.Fields(line)
		if len(f) != 3 {
			return unix.EINVAL
		}
		var v [3]uint32
		for i, s := range f {
			n, err := strconv.ParseUint(s, 10, 32)
			if err != nil {
				return unix.EINVAL
			}
			v[i] = uint32(n)
		}
		e := Extent{First: v[0], Lower: v[1], Count: v[2]}
		if e.Count == 0 || uint64(e.First)+uint64(e.Count) > 1<<32-1 ||
			uint64(e.Lower)+uint64(e.Count) > 1<<32-1 {
			return unix.EINVAL
		}
		for _, o := range ext {
			if overlaps(o.First, o.Count, e.First, e.Count) || overlaps(o.Lower, o.Count, e.Lower, e.Count) {
				return unix.EINVAL
			}
		}
		ext = append(ext, e)
		if len(ext) > maxExtents {
			return unix.EINVAL
		}
	}
	if len(ext) == 0 {
		return unix.EINVAL
	}
	// Lower ids are the parent's: turn them into kernel ids.
	for i := range ext {
		k, ok := kid(ns.Parent, ext[i].Lower, gid)
		if !ok {
			return unix.EPERM
		}
		if ext[i].Count > 1 {
			if _, ok := kid(ns.Parent, ext[i].Lower+ext[i].Count-1, gid); !ok {
				return unix.EPERM
			}
		}
		ext[i].Lower = k
	}
	if !idmapPermitted(ns, w, ext, gid, capID) {
		return unix.EPERM
	}
	if gid {
		ns.gidMap = ext
	} else {
		ns.uidMap = ext
	}
	set.Store(true)
	return nil
}

func overlaps(a, an, b, bn uint32) bool {
	return uint64(a) < uint64(b)+uint64(bn) && uint64(b) < uint64(a)+uint64(an)
}

// idmapPermitted: a single line mapping the writer's own euid (egid,
// once setgroups is denied) is allowed to the namespace's owner; any map
// needs the capability in the parent. Called with ns.mu held.
func idmapPermitted(ns *NS, w Writer, ext []Extent, gid bool, capID int) bool {
	if len(ext) == 1 && ext[0].Count == 1 && ns.Owner == w.EUID {
		if !gid && ext[0].Lower == w.EUID {
			return true
		}
		if gid && ns.setgroup == 1 && ext[0].Lower == w.EGID {
			return true
		}
	}
	return w.Capable(ns.Parent, capID)
}

// WriteSetgroups is a write of /proc/PID/setgroups: "allow" or "deny",
// only before gid_map is written, and never allow after deny.
// Linux: kernel/user_namespace.c (proc_setgroups_write)
func WriteSetgroups(ns *NS, w Writer, data string) error {
	v := strings.TrimRight(data, "\n")
	var deny bool
	switch {
	case strings.HasPrefix(v, "allow") && strings.TrimSpace(v[5:]) == "":
	case strings.HasPrefix(v, "deny") && strings.TrimSpace(v[4:]) == "":
		deny = true
	default:
		return unix.EINVAL
	}
	if ns == nil || !w.Capable(ns, capSysAdmin) {
		return unix.EPERM
	}
	ns.mu.Lock()
	defer ns.mu.Unlock()
	if deny {
		if ns.gidSet.Load() {
			return unix.EPERM
		}
		ns.setgroup = 1
		return nil
	}
	if ns.setgroup == 1 {
		return unix.EPERM
	}
	return nil
}
