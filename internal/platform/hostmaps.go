package platform

import (
	"bufio"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// HostMap is one line of a host process's /proc/PID/maps: the range, its
// PROT_* bits and its name ("[vdso]", a path, or "").
type HostMap struct {
	Start, End uint64
	Prot       int
	Name       string
}

// ReadHostMaps reads the host's /proc/PID/maps (the platforms use it to
// find the vDSO pieces and a new stub's stack).
func ReadHostMaps(pid int) ([]HostMap, error) {
	f, err := os.Open("/proc/" + strconv.Itoa(pid) + "/maps")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []HostMap
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fs := strings.Fields(sc.Text())
		if len(fs) < 5 {
			continue
		}
		se := strings.SplitN(fs[0], "-", 2)
		s, _ := strconv.ParseUint(se[0], 16, 64)
		e, _ := strconv.ParseUint(se[1], 16, 64)
		m := HostMap{Start: s, End: e}
		if fs[1][0] == 'r' {
			m.Prot |= unix.PROT_READ
		}
		if fs[1][1] == 'w' {
			m.Prot |= unix.PROT_WRITE
		}
		if fs[1][2] == 'x' {
			m.Prot |= unix.PROT_EXEC
		}
		if len(fs) >= 6 {
			m.Name = fs[5]
		}
		out = append(out, m)
	}
	return out, sc.Err()
}
