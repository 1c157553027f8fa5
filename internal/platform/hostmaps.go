package platform

import (
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
// find the vDSO pieces and a new stub's stack). It reads with plain
// system calls: an os.File would first be offered to the runtime's
// poller, and a scanner costs more than the kernel's own rendering.
func ReadHostMaps(pid int) ([]HostMap, error) {
	b, err := readProcFile("/proc/" + strconv.Itoa(pid) + "/maps")
	if err != nil {
		return nil, err
	}
	var out []HostMap
	for len(b) > 0 {
		line := b
		if i := strings.IndexByte(b, '\n'); i >= 0 {
			line, b = b[:i], b[i+1:]
		} else {
			b = ""
		}
		fs := strings.Fields(line)
		if len(fs) < 5 {
			continue
		}
		se := strings.SplitN(fs[0], "-", 2)
		if len(se) != 2 || len(fs[1]) < 3 {
			continue
		}
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
	return out, nil
}

// readProcFile reads a whole /proc file.
func readProcFile(path string) (string, error) {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return "", &pathError{path, err}
	}
	defer unix.Close(fd)
	buf := make([]byte, 8<<10)
	n := 0
	for {
		if n == len(buf) {
			buf = append(buf, make([]byte, len(buf))...)
		}
		m, err := unix.Read(fd, buf[n:])
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return "", &pathError{path, err}
		}
		if m == 0 {
			return string(buf[:n]), nil
		}
		n += m
	}
}

// pathError is an error of reading path, as os.PathError says it.
type pathError struct {
	path string
	err  error
}

func (e *pathError) Error() string { return "read " + e.path + ": " + e.err.Error() }
func (e *pathError) Unwrap() error { return e.err }
