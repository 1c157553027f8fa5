package platform

import "errors"

// HostFile is a host file a HostFileMapper may map straight into a guest
// address space. Dev and Ino (the file's stat device and inode numbers)
// name it for the platform's own bookkeeping; FD is its owner's descriptor
// and is valid only for the call: a platform that needs the file later
// takes its own reference (a dup, or a copy passed to the stub).
type HostFile struct {
	FD       int
	Dev, Ino uint64
}

// HostFileMapper is a Mapper that can also map pages of a host file into
// the address space directly, private and never writable: the host's page
// cache backs them with no copy into the memory file, and the host's own
// faults fill them in. mm uses it only for files the sandbox can never
// write, and only for pages that have no frame of their own; anything
// that changes such a range (munmap, mprotect, a frame mapped over a page)
// goes through Map/Unmap as for any other mapping. Where a platform lacks
// it, mm copies the file's pages into the memory file and maps frames.
type HostFileMapper interface {
	// MapHostFile maps [addr, addr+length) to f's bytes from off (page
	// aligned) with MAP_PRIVATE|MAP_FIXED; prot is a subset of
	// PROT_READ|PROT_EXEC. ErrNoHostFile says the platform cannot do it
	// now (nothing changed: the caller maps frames instead); any other
	// error is as Map's.
	MapHostFile(addr, length uint64, prot int, f HostFile, off uint64) error
}

// ErrNoHostFile is MapHostFile's answer when it cannot map the file (no
// room for another file in the address space's host process, say); the
// host's mappings are unchanged.
var ErrNoHostFile = errors.New("platform: cannot map a host file here")
