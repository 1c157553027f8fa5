// Package overlay is a union file system like Linux overlayfs
// (Documentation/filesystems/overlayfs.rst): a read-only lower tree (any
// vfs.Dir, in practice hostfs of the host's /) under a writable upper
// tree (a tmpfs root). The guest sees the upper's names first and the
// lower's where the upper has none; nothing is ever written to the lower.
//
// What it owns:
//
//   - A node per overlay object (node.go), cached per directory for the
//     life of the file system, as Linux's dcache keeps overlay dentries:
//     the node is the object's identity, so a copy-up, a rename or an open
//     descriptor always reaches the same node. A node has the lower object
//     it came from (fixed) and the upper object once there is one (set
//     once, at creation or copy-up, never cleared).
//   - Whiteouts and opaqueness (node.whiteouts, node.lower == nil for a
//     directory made over a removed name) are the overlay's own
//     per-directory state, not markers in the upper.
//   - Inode numbers (fs.go): a lower object on the lower root's device
//     keeps its own number; anything else gets one from a counter above
//     2^48, remembered per lower (dev, ino) and per upper inode, so a
//     number is stable across lookups and copy-up.
//   - Copy-up (copyup.go): regular file data (holes kept), symlink
//     targets, directories without contents, and mode, owner and times,
//     parents first, before any change to a lower object.
//   - Open files (file.go): reads go to whichever layer holds the object
//     now; mmap delegates to that layer's file.
//
// It never resolves a path: every layer access is a single-component
// Lookup (or Create, Mkdir...) through the vfs interfaces, so the lower
// layer's own containment (hostfs never follows host symlinks) holds.
//
// Lock order: FS.wmu (serializes every modification, file system wide:
// copy-up, including its data copy, and namespace changes) → fileOps.mu →
// the layers' own locks. FS.mu (the tree: each node's parent, name, dead
// flag, gen, children and whiteouts; the inode maps) is a leaf, never held
// across a call into a layer. The vfs holds a Dentry.mu around Lookup,
// which takes only FS.mu. Lookups and readdir do not take FS.wmu: they ask
// the layers without locks and re-check the directory's gen before caching
// a node (node.child), so a change made meanwhile makes them start again.
package overlay
