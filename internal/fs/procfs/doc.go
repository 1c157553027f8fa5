// Package procfs is the sandbox's /proc. It knows nothing of the kernel's
// types: the kernel hands it a Source that answers questions about
// processes, so the package stays below the kernel in the layering.
//
// Contents are generated when a file is opened (synth.File), so a reader
// sees one consistent snapshot per open. A lookup in /proc's root finds
// the one name asked (FS.find) without listing every process; a
// /proc/PID directory makes each entry at its first lookup (lazyChildren).
//
// A /proc/PID directory is kept while its process lives (pidCache), so its
// inode numbers stay put between lookups as in Linux.
//
// Locks: lazyChildren.mu guards one directory's made entries, and
// pidCache.mu the kept directories; each is held while an entry is made,
// which may call Source methods (they take the kernel's locks); nothing
// takes them with a kernel lock held. pidCache.mu is taken before a
// directory's lazyChildren.mu is ever needed, never inside it.
package procfs
