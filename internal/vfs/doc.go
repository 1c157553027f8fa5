// Package vfs owns the guest's view of files: mounts, the path walk,
// open file descriptions (File), per-process descriptor tables (FDTable)
// and permission checks.
//
// File systems (internal/fs/...) provide Inodes; vfs wraps them in Dentries
// (a name in a parent directory, with cached children) and Mounts. The path
// walk is glassbox' own: it resolves ".." and symlinks itself, one
// component at a time, and never lets a walk rise above the process's root,
// whatever the symlinks say. File systems never resolve paths themselves.
//
// Lock order: Dentry.mu of a parent before its child's; the lease table's
// mu (lease.go) before File.mu; FDTable.mu and File.mu are leaves (no
// other lock is taken while holding them).
package vfs
