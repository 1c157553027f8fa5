// Package hostfs exposes a host directory to the guest.
//
// Every host access names a single component relative to an O_PATH
// descriptor of its parent directory, with O_NOFOLLOW / AT_SYMLINK_NOFOLLOW:
// the host never resolves a path or follows a symlink on the guest's
// behalf, so a guest symlink cannot lead outside the exported directory
// (vfs resolves symlinks itself, against the guest's root). Each inode
// remembers the host (dev, ino) it was found with and re-checks it when it
// reopens the name.
//
// O_PATH descriptors are cached per inode in a bounded LRU (the process fd
// limit is finite); a descriptor is pinned while in use so eviction never
// closes it under a caller. Only regular files, directories and symlinks are
// exposed; host devices, fifos and sockets cannot be opened.
//
// Page caches (mm.FileCache) are kept per host (dev, ino, size, mtime) so
// every mapping of a host file shares one copy in the memory file.
//
// Lock order: FS.mu is a leaf, held only for bookkeeping, never across a
// host call.
package hostfs
