// Package procfs is the sandbox's /proc. It knows nothing of the kernel's
// types: the kernel hands it a Source that answers questions about
// processes, so the package stays below the kernel in the layering.
//
// Contents are generated when a file is opened (synth.File), so a reader
// sees one consistent snapshot per open. No locks of its own; Source
// methods take the kernel's.
package procfs
