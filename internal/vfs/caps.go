package vfs

import (
	"golang.org/x/sys/unix"

	"glassbox/internal/userns"
)

// CapLast is the highest capability number (CAP_CHECKPOINT_RESTORE).
const CapLast = unix.CAP_LAST_CAP

// CapFull is every capability.
const CapFull = uint64(1)<<(CapLast+1) - 1

// CapBit is the set holding only capability c.
func CapBit(c int) uint64 { return 1 << uint(c) }

// NSCapable reports whether c holds capability cap in namespace ns: its
// effective set counts in its own namespace and those below it, and the
// owner of a namespace has every capability in it.
// Linux: security/commoncap.c (cap_capable)
func (c *Creds) NSCapable(ns *userns.NS, cap int) bool {
	for {
		if ns == c.UserNS {
			return c.CapEff&CapBit(cap) != 0
		}
		if userns.Level(ns) <= userns.Level(c.UserNS) {
			return false
		}
		if ns.Parent == c.UserNS && ns.Owner == c.EUID {
			return true
		}
		ns = ns.Parent
	}
}

// Capable is capable(2)'s test: cap in the sandbox's initial namespace.
func (c *Creds) Capable(cap int) bool { return c.NSCapable(nil, cap) }

// HasCap is cap in the caller's own user namespace (ns_capable(current_user_ns())).
func (c *Creds) HasCap(cap int) bool { return c.NSCapable(c.UserNS, cap) }

// CapableWrt is cap in the caller's namespace over a file owned by (uid,
// gid): both must be mapped there. Linux: kernel/capability.c
// (capable_wrt_inode_uidgid)
func (c *Creds) CapableWrt(cap int, uid, gid uint32) bool {
	if !c.HasCap(cap) {
		return false
	}
	_, uok := userns.UIDIn(c.UserNS, uid)
	_, gok := userns.GIDIn(c.UserNS, gid)
	return uok && gok
}

// NewCreds returns the credentials a process started by glassbox has:
// the ids given, and for uid 0 root's capabilities as a container's root
// has them (the host's bounding set, which every process starts with).
func NewCreds(uid, gid uint32, groups []uint32) *Creds {
	c := &Creds{UID: uid, GID: gid, EUID: uid, EGID: gid, SUID: uid, SGID: gid, FSUID: uid, FSGID: gid,
		Groups: groups, CapBnd: userns.HostBounding()}
	if uid == 0 {
		c.CapPrm, c.CapEff = c.CapBnd, c.CapBnd
	}
	return c
}

// RootCreds are the credentials of glassbox' own work in the file tree
// (setting up mounts, copy-up): root with every capability.
func RootCreds() *Creds { return &Creds{CapEff: CapFull, CapPrm: CapFull, CapBnd: CapFull} }
