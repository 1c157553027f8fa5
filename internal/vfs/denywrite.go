package vfs

import (
	"sync"

	"golang.org/x/sys/unix"
)

// Write access and running executables: a regular file open for writing
// can't be executed, and a file a process runs can't be opened for
// writing (ETXTBSY). Each file's count is positive for writers, negative
// for the processes running it. Linux: include/linux/fs.h
// (get_write_access, deny_write_access), kernel/fork.c (set_mm_exe_file)
var writeAccess = struct {
	mu sync.Mutex
	m  map[fileKey]int
}{m: map[fileKey]int{}}

// ExeKey names a file for DenyWrite and AllowWrite.
type ExeKey = fileKey

// KeyOf returns the key of the file st describes.
func KeyOf(st *Stat) ExeKey { return fileKey{st.Dev, st.Ino} }

// DenyWrite records that a process runs the file k names: ETXTBSY if
// the file is open for writing.
func DenyWrite(k ExeKey) error {
	writeAccess.mu.Lock()
	defer writeAccess.mu.Unlock()
	if writeAccess.m[k] > 0 {
		return unix.ETXTBSY
	}
	writeAccess.m[k]--
	return nil
}

// AllowWrite undoes one DenyWrite.
func AllowWrite(k ExeKey) { putAccess(k, 1) }

// getWriteAccess records a writer: ETXTBSY if a process runs the file.
func getWriteAccess(k fileKey) error {
	writeAccess.mu.Lock()
	defer writeAccess.mu.Unlock()
	if writeAccess.m[k] < 0 {
		return unix.ETXTBSY
	}
	writeAccess.m[k]++
	return nil
}

func putAccess(k fileKey, d int) {
	writeAccess.mu.Lock()
	defer writeAccess.mu.Unlock()
	if writeAccess.m[k] += d; writeAccess.m[k] == 0 {
		delete(writeAccess.m, k)
	}
}
