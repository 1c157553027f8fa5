// Package tmpfs is an in-memory file system: directories, regular files
// and symlinks that live only as long as the sandbox (Linux: mm/shmem.c).
//
// A regular file's bytes live in memory-file frames (one reference per
// page, held by the file); holes read as zeros and take no frames. A file
// is its own mm.Mappable, so MAP_SHARED mappings see the same frames as
// read and write, and MAP_PRIVATE ones copy on write as for any file. A
// file's frames are released when it has no names and no open
// descriptions; a file that was ever mapped keeps them until the file
// system goes away, because mappings of files are not counted (see
// File.Mappable).
//
// The root may have a lower layer (Options.Lower): a read-only directory
// whose names show through where the root has none of its own. Removing
// such a name hides it (a whiteout); lower entries cannot be renamed
// (EXDEV, so mv copies them) and everything below them is the lower file
// system's, read-only. This lets a tmpfs at /tmp keep the host's /tmp
// visible, as the host root's overlay will (DESIGN.md).
//
// Ownership: FS owns the tree; a Dir owns its entries; an entry holds one
// of the inode's links (node.nlink). Open descriptions (fileOps) count in
// File.opens.
//
// Lock order: vfs Dentry.mu → FS.mu (the tree: every Dir's entries,
// parent and removed flag, the whiteouts) → node.mu (one inode's
// attributes and extended attributes, and a File's size and frames) → memfile.File.mu. mm calls
// File.Translate with MM.mu held, so MM.mu → node.mu; nothing here takes
// MM.mu. FS.mu is never taken with a node.mu held, and never while calling
// into the lower layer except for lookups, which do not call back.
package tmpfs
