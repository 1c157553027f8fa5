package userns

import (
	"os"
	"strconv"
	"strings"
	"sync"
)

var hostBnd struct {
	once sync.Once
	set  uint64
}

// capFull is every capability up to CAP_LAST_CAP (40).
const capFull = uint64(1)<<41 - 1

// HostBounding returns the capability bounding set glassbox itself runs
// with (CapBnd of /proc/self/status): guests get the same, so the
// sandbox's root is as powerful as a process of the host's container.
func HostBounding() uint64 {
	hostBnd.once.Do(func() {
		hostBnd.set = capFull
		b, err := os.ReadFile("/proc/self/status")
		if err != nil {
			return
		}
		for _, l := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(l, "CapBnd:"); ok {
				if n, err := strconv.ParseUint(strings.TrimSpace(v), 16, 64); err == nil {
					hostBnd.set = n & capFull
				}
			}
		}
	})
	return hostBnd.set
}
