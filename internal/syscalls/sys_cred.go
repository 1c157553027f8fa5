package syscalls

import (
	"encoding/binary"

	"golang.org/x/sys/unix"

	"glassbox/internal/kernel"
)

func init() {
	id := func(a kernel.Args, i int) uint32 { return uint32(a[i]) }
	reg(unix.SYS_SETUID, func(t *kernel.Task, a kernel.Args) (uint64, error) { return 0, t.SetUID(id(a, 0)) })
	reg(unix.SYS_SETGID, func(t *kernel.Task, a kernel.Args) (uint64, error) { return 0, t.SetGID(id(a, 0)) })
	reg(unix.SYS_SETREUID, func(t *kernel.Task, a kernel.Args) (uint64, error) {
		return 0, t.SetREUID(id(a, 0), id(a, 1))
	})
	reg(unix.SYS_SETREGID, func(t *kernel.Task, a kernel.Args) (uint64, error) {
		return 0, t.SetREGID(id(a, 0), id(a, 1))
	})
	reg(unix.SYS_SETRESUID, func(t *kernel.Task, a kernel.Args) (uint64, error) {
		return 0, t.SetRESUID(id(a, 0), id(a, 1), id(a, 2))
	})
	reg(unix.SYS_SETRESGID, func(t *kernel.Task, a kernel.Args) (uint64, error) {
		return 0, t.SetRESGID(id(a, 0), id(a, 1), id(a, 2))
	})
	reg(unix.SYS_SETFSUID, func(t *kernel.Task, a kernel.Args) (uint64, error) {
		return uint64(t.SetFSUID(id(a, 0))), nil
	})
	reg(unix.SYS_SETFSGID, func(t *kernel.Task, a kernel.Args) (uint64, error) {
		return uint64(t.SetFSGID(id(a, 0))), nil
	})
	reg(unix.SYS_SETGROUPS, func(t *kernel.Task, a kernel.Args) (uint64, error) {
		n := a.Int(0)
		if n < 0 || n > 65536 {
			return 0, unix.EINVAL
		}
		b := make([]byte, 4*n)
		if err := t.CopyIn(a[1], b); err != nil {
			return 0, err
		}
		g := make([]uint32, n)
		for i := range g {
			g[i] = binary.LittleEndian.Uint32(b[4*i:])
		}
		return 0, t.SetGroups(g)
	})
	reg(unix.SYS_CAPGET, sysCapget, "root has every capability, other users none")
	reg(unix.SYS_CAPSET, sysCapset, "accepted; privilege follows the effective uid")
}

// Capability header versions. Linux: include/uapi/linux/capability.h
const (
	capV1 = 0x19980330
	capV2 = 0x20071026
	capV3 = 0x20080522
)

// capAll is every capability up to CAP_LAST_CAP (40).
const capAll = uint64(1)<<41 - 1

func capHeader(t *kernel.Task, addr uint64) (version uint32, words int, err error) {
	var b [8]byte
	if err := t.CopyIn(addr, b[:]); err != nil {
		return 0, 0, err
	}
	version = binary.LittleEndian.Uint32(b[:])
	if pid := int32(binary.LittleEndian.Uint32(b[4:])); pid != 0 && int(pid) != t.TID() {
		if t.Kernel().TaskByTID(int(pid)) == nil {
			return 0, 0, unix.ESRCH
		}
	}
	switch version {
	case capV1:
		return version, 1, nil
	case capV2, capV3:
		return version, 2, nil
	}
	// Tell the caller the preferred version.
	binary.LittleEndian.PutUint32(b[:], capV3)
	t.CopyOut(addr, b[:4])
	return 0, 0, unix.EINVAL
}

// sysCapget reports effective = permitted = the root model's set.
func sysCapget(t *kernel.Task, a kernel.Args) (uint64, error) {
	_, words, err := capHeader(t, a[0])
	if err != nil {
		if a[1] == 0 && err == unix.EINVAL {
			return 0, nil // probing the version
		}
		return 0, err
	}
	if a[1] == 0 {
		return 0, nil
	}
	var set uint64
	if t.Capable() {
		set = capAll
	}
	b := make([]byte, 12*words)
	for w := 0; w < words; w++ {
		v := uint32(set >> (32 * w))
		binary.LittleEndian.PutUint32(b[12*w:], v)   // effective
		binary.LittleEndian.PutUint32(b[12*w+4:], v) // permitted
	}
	return 0, t.CopyOut(a[1], b)
}

// sysCapset accepts the request (see the comment inside).
func sysCapset(t *kernel.Task, a kernel.Args) (uint64, error) {
	_, words, err := capHeader(t, a[0])
	if err != nil {
		return 0, err
	}
	b := make([]byte, 12*words)
	if err := t.CopyIn(a[1], b); err != nil {
		return 0, err
	}
	// Accepted: in glassbox' model privilege follows the effective uid
	// (root has every capability), so a capability set changes nothing.
	return 0, nil
}
