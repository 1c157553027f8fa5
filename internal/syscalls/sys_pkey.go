package syscalls

import (
	"golang.org/x/sys/unix"

	"glassbox/internal/abi"
	"glassbox/internal/kernel"
)

// Memory protection keys: glassbox answers as a Linux kernel does on an
// x86 CPU without PKU (OSPKE off), although the host has it: keys would
// have to be allocated in each stub's host address space, applied to every
// host mapping of a keyed range, and reset for signal handlers, none of
// which the ptrace platform does. Programs that probe for keys (V8, glibc
// users) take their no-keys path, as on such a machine.
// Linux: mm/mprotect.c (pkey_alloc, pkey_free, do_mprotect_pkey),
// arch/x86/include/asm/pkeys.h, arch/x86/kernel/fpu/xstate.c
// (arch_set_user_pkey_access)
func init() {
	reg(unix.SYS_PKEY_ALLOC, sysPkeyAlloc, "as on a CPU without protection keys: EINVAL, then ENOSPC")
	reg(unix.SYS_PKEY_FREE, func(t *kernel.Task, a kernel.Args) (uint64, error) {
		// No key is ever allocated: key 0 counts as the execute-only
		// key there (mm->context.execute_only_pkey is 0), never as one
		// the program may free.
		return 0, unix.EINVAL
	}, "as on a CPU without protection keys: always EINVAL")
	reg(unix.SYS_PKEY_MPROTECT, sysPkeyMprotect, "pkey -1 only (mprotect); any key is EINVAL, as without protection keys")
}

// pkeyAccessMask is PKEY_DISABLE_ACCESS|PKEY_DISABLE_WRITE.
const pkeyAccessMask = 0x3

// sysPkeyAlloc is pkey_alloc(flags, access_rights). Without PKU, x86 has
// one key (arch_max_pkey() is 1), and a fresh address space's allocation
// map is empty: the first call allocates key 0, fails to set its rights
// (EINVAL) and cannot free it again, so every later call finds the map
// full (ENOSPC).
func sysPkeyAlloc(t *kernel.Task, a kernel.Args) (uint64, error) {
	if a[0] != 0 || a[1]&^pkeyAccessMask != 0 {
		return 0, unix.EINVAL
	}
	if old := t.MM().UpdatePkeys(func(m uint16) uint16 { return m | 1 }); old&1 != 0 {
		return 0, unix.ENOSPC
	}
	return 0, unix.EINVAL
}

// sysPkeyMprotect is pkey_mprotect(addr, len, prot, pkey): mprotect for
// pkey -1; any other key is not allocated, which do_mprotect_pkey reports
// after its argument checks.
func sysPkeyMprotect(t *kernel.Task, a kernel.Args) (uint64, error) {
	addr, length, prot, pkey := a[0], a[1], a.Int(2), a.Int(3)
	if pkey == -1 {
		return 0, t.MM().Mprotect(t.Mapper(), addr, length, prot)
	}
	const grows = unix.PROT_GROWSDOWN | unix.PROT_GROWSUP
	if prot&grows == grows || addr&abi.PageMask != 0 {
		return 0, unix.EINVAL
	}
	if length == 0 {
		return 0, nil
	}
	if l, ok := abi.PageUp(length); !ok || addr+l <= addr {
		return 0, unix.ENOMEM
	}
	return 0, unix.EINVAL // a bad prot, or the key
}
