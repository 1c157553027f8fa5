// Package hostfs exposes a host directory to the guest, read-only or
// writable.
//
// Every host access names a single component relative to an O_PATH
// descriptor of its parent directory, with O_NOFOLLOW / AT_SYMLINK_NOFOLLOW
// (or acts on the inode's own descriptor with AT_EMPTY_PATH): the host
// never resolves a path or follows a symlink on the guest's behalf, so a
// guest symlink cannot lead outside the exported directory (vfs resolves
// symlinks itself, against the guest's root). Names that are not one
// component ("", ".", "..", anything with '/') never reach the host. Each
// inode remembers the host (dev, ino) it was found with and re-checks it
// when it reopens the name; a file is opened for I/O only through an
// O_PATH descriptor that passed the check (reopened via /proc/self/fd), so
// nothing renamed over the name in between — a FIFO, a device — is opened.
//
// O_PATH descriptors are cached per inode in a bounded LRU (the process fd
// limit is finite); a descriptor is pinned while in use so eviction never
// closes it under a caller. Only regular files, directories and symlinks
// can be opened; host devices, fifos and sockets cannot.
//
// Read-only: page caches (mm.FileCache) are kept per host (dev, ino, size,
// mtime) so every mapping of a host file shares one copy in the memory
// file; they name their host file (mm.HostFiler: the cache's own
// descriptor, open until Close), which nothing in the sandbox can write,
// so a platform that can map host files gives private read-only mappings
// the host's pages instead of copies. Writable (New with readOnly false): the namespace operations are
// in namei.go, attribute changes in attr.go, open files in write.go, and a
// coherent page cache per host inode in pagecache.go (write(2), truncation
// and MAP_SHARED stores agree; stores reach the host at close and Sync).
//
// Lock order: hfile.mu, then FS.mu. FS.mu is a leaf, held only for
// bookkeeping, never across a host call.
package hostfs
