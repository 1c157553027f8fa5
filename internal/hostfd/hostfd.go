// Package hostfd bounds the host descriptors glassbox keeps open on its
// guests' behalf: hostfs files, O_PATH descriptors and page caches, host
// sockets. Every such descriptor is counted when it is opened (Opened) and
// uncounted when it is closed (Close); past the bound the open fails with
// ENFILE, as Linux's open and socket do when the system's file table is
// full, so a guest that opens files or sockets without end meets an errno
// and glassbox keeps the descriptors it needs for itself (the memory file,
// the stubs, the Go runtime). The bound is per glassbox process (the host
// fd table is), by default three quarters of its RLIMIT_NOFILE.
// Descriptors opened and closed within one operation are not counted.
//
// Lock order: mu is a leaf.
package hostfd

import (
	"sync"

	"golang.org/x/sys/unix"
)

var (
	mu    sync.Mutex
	used  int
	limit int // 0 until first needed
)

func limitLocked() int {
	if limit == 0 {
		var rl unix.Rlimit
		if unix.Getrlimit(unix.RLIMIT_NOFILE, &rl) != nil || rl.Cur > 1<<30 {
			rl.Cur = 1024
		}
		limit = max(int(rl.Cur)/4*3, 64)
	}
	return limit
}

// Acquire counts a descriptor about to be opened (ENFILE past the
// bound); Release uncounts it if the open failed.
func Acquire() error {
	mu.Lock()
	defer mu.Unlock()
	if used >= limitLocked() {
		return unix.ENFILE
	}
	used++
	return nil
}

// Release uncounts a descriptor Acquire counted that was not opened, or
// was closed.
func Release() {
	mu.Lock()
	used--
	mu.Unlock()
}

// Opened counts fd, just opened on a guest's behalf (err is the open's
// error, returned as is). Past the bound fd is closed again and the
// error is ENFILE.
func Opened(fd int, err error) (int, error) {
	if err != nil {
		return fd, err
	}
	if err := Acquire(); err != nil {
		unix.Close(fd)
		return -1, err
	}
	return fd, nil
}

// Close closes a counted descriptor.
func Close(fd int) error {
	err := unix.Close(fd)
	Release()
	return err
}

// InUse is how many counted descriptors are open.
func InUse() int {
	mu.Lock()
	defer mu.Unlock()
	return used
}

// SetLimit changes the bound (n <= 0: the default) and returns the old
// one.
func SetLimit(n int) int {
	mu.Lock()
	defer mu.Unlock()
	old := limitLocked()
	limit = 0
	if n > 0 {
		limit = n
	}
	return old
}
