package platform

import (
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

// HostRunnable is the host's count of runnable threads (/proc/loadavg's
// fourth field, the caller included); a large number if unknown. Whoever
// polls instead of sleeping asks it first: a poller must never wait out
// another thread's time slice.
// Linux: fs/proc/loadavg.c (nr_running)
func HostRunnable() int {
	var b [128]byte
	fd, err := unix.Open("/proc/loadavg", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return 1 << 20
	}
	n, _ := unix.Read(fd, b[:])
	unix.Close(fd)
	f := strings.Fields(string(b[:max(n, 0)]))
	if len(f) < 4 {
		return 1 << 20
	}
	r, _, ok := strings.Cut(f[3], "/")
	v, err := strconv.Atoi(r)
	if !ok || err != nil {
		return 1 << 20
	}
	return v
}

// loadSample is HostRunnable's last answer for RecentRunnable, and when
// (monotonic nanoseconds since loadEpoch) it was read.
var (
	loadEpoch  = time.Now()
	loadAt     atomic.Int64
	loadCount  atomic.Int64
	loadMaxAge = int64(2 * time.Millisecond)
)

// RecentRunnable is HostRunnable read at most a couple of milliseconds
// ago (by any goroutine): for a decision made far more often than
// /proc/loadavg can be read.
func RecentRunnable() int {
	now := int64(time.Since(loadEpoch))
	if at := loadAt.Load(); at != 0 && now-at < loadMaxAge {
		return int(loadCount.Load())
	}
	n := HostRunnable()
	loadCount.Store(int64(n))
	loadAt.Store(max(now, 1))
	return n
}
