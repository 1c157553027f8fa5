package vfs

import (
	"sync"

	"golang.org/x/sys/unix"
)

// Character devices by number, for device nodes made with mknod(2): a
// node anywhere (tmpfs, a container's /dev) opens the device its number
// names, as on Linux, but only among the devices glassbox itself
// provides (the memory devices); every other number is a device with no
// driver (ENXIO). No node ever reaches a host device.
// Linux: fs/char_dev.c (chrdev_open)

var charDevs struct {
	sync.RWMutex
	m map[uint64]func() FileOps
}

// RegisterCharDevice makes device number rdev open with open (devfs does
// this for /dev/null and its siblings).
func RegisterCharDevice(rdev uint64, open func() FileOps) {
	charDevs.Lock()
	defer charDevs.Unlock()
	if charDevs.m == nil {
		charDevs.m = map[uint64]func() FileOps{}
	}
	charDevs.m[rdev] = open
}

// OpenCharDevice opens character device rdev; ENXIO if glassbox has no
// such device.
func OpenCharDevice(rdev uint64) (FileOps, error) {
	charDevs.RLock()
	open := charDevs.m[rdev]
	charDevs.RUnlock()
	if open == nil {
		return nil, unix.ENXIO
	}
	return open(), nil
}
