package syscalls

import (
	"golang.org/x/sys/unix"

	"glassbox/internal/kernel"
)

// Calls whose answer follows from what glassbox does not have (advisory
// caching hints).
func init() {
	reg(unix.SYS_FADVISE64, func(t *kernel.Task, a kernel.Args) (uint64, error) {
		// Linux: mm/fadvise.c (ksys_fadvise64_64, generic_fadvise)
		f, err := getFileIO(t, a.Int(0))
		if err != nil {
			return 0, err
		}
		st, err := f.Stat(t)
		f.DecRef()
		if err == nil && st.Mode&unix.S_IFMT == unix.S_IFIFO {
			return 0, unix.ESPIPE
		}
		if a.Int(2) < 0 || a[3] > 5 {
			return 0, unix.EINVAL
		}
		return 0, nil
	}, "advice ignored")
}
