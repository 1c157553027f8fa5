package syscalls

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/sys/unix"

	"glassbox/internal/abi"
	"glassbox/internal/kernel"
	"glassbox/internal/vfs"
)

// Argument kinds for tracing, one letter each:
//
//	d int  l long  u unsigned  x hex  f fd  s path  i input buffer (length
//	in the next argument)  o output buffer (length is the result)  O open
//	flags  m octal mode  p prot  M mmap flags  S signal
//
// specs is made at the first traced call: a run without --trace never
// builds the map.
var specs = sync.OnceValue(func() map[int]string {
	return map[int]string{
		0: "fou", 1: "fiu", 2: "sOm", 3: "f", 4: "sx", 5: "fx", 6: "sx", 7: "xud", 8: "fld",
		9: "xupMfx", 10: "xup", 11: "xu", 12: "x", 13: "Sxxu", 14: "dxxu", 16: "fxx", 17: "foul",
		18: "fiul", 19: "fxd", 20: "fxd", 21: "sd", 22: "x", 25: "xuudx", 28: "xud", 32: "f",
		33: "ff", 35: "xx", 40: "ffxu", 39: "", 56: "xxxxx", 57: "", 58: "", 59: "sxx", 60: "d", 61: "dxdx",
		62: "dS", 63: "x", 72: "fdx", 78: "fxu", 79: "xu", 80: "s", 81: "f", 83: "sm", 84: "s",
		87: "s", 89: "sou", 95: "m", 96: "xx", 97: "dx", 102: "", 104: "", 107: "", 108: "",
		110: "", 131: "xx", 157: "dxxxx", 158: "xx", 186: "", 200: "dS", 201: "x", 202: "xdxxxx",
		217: "fxu", 218: "x", 228: "dx", 229: "dx", 230: "ddxx", 231: "d", 234: "ddS",
		257: "fsOm", 262: "fsxd", 263: "fsd", 267: "fsou", 269: "fsd", 273: "xu", 292: "ffd",
		293: "xd", 302: "ddxx", 318: "xux", 322: "fsxxd", 332: "fsdxx", 334: "xuxx", 435: "xu",
		439: "fsdd", 247: "ddxxx", 424: "fSxx", 434: "dx", 438: "ffx", 329: "xupd", 330: "xx", 331: "d",
	}
})

func format(t *kernel.Task, nr int, a kernel.Args, ret uint64, err error) (string, string) {
	spec, ok := specs()[nr]
	if !ok {
		spec = "xxx"
	}
	parts := make([]string, 0, len(spec))
	for i := 0; i < len(spec) && i < 6; i++ {
		parts = append(parts, formatArg(t, spec[i], a, i, ret, err))
	}
	return strings.Join(parts, ", "), formatResult(nr, ret, err)
}

func formatArg(t *kernel.Task, k byte, a kernel.Args, i int, ret uint64, err error) string {
	v := a[i]
	switch k {
	case 'd':
		return strconv.Itoa(a.Int(i))
	case 'l':
		return strconv.FormatInt(int64(v), 10)
	case 'u':
		return strconv.FormatUint(v, 10)
	case 'f':
		if a.Int(i) == kernel.AtFDCWD {
			return "AT_FDCWD"
		}
		return strconv.Itoa(a.Int(i))
	case 's':
		if v == 0 {
			return "NULL"
		}
		s, e := t.ReadString(v, 4096)
		if e != nil {
			return fmt.Sprintf("%#x", v)
		}
		return strconv.Quote(s)
	case 'i':
		n := a[i+1]
		return quoteMem(t, v, n)
	case 'o':
		if err != nil || errors.Is(err, kernel.ErrNoReturn) {
			return fmt.Sprintf("%#x", v)
		}
		return quoteMem(t, v, ret)
	case 'O':
		return openFlags(a.Int(i))
	case 'm':
		return fmt.Sprintf("%#o", v)
	case 'p':
		return protString(int(v))
	case 'M':
		return mapFlags(int(v))
	case 'S':
		return abi.SignalName(a.Int(i))
	}
	if v == 0 {
		return "NULL"
	}
	return fmt.Sprintf("%#x", v)
}

func quoteMem(t *kernel.Task, addr, n uint64) string {
	const max = 32
	m := min(n, max)
	b := make([]byte, m)
	if t.CopyIn(addr, b) != nil {
		return fmt.Sprintf("%#x", addr)
	}
	s := strconv.Quote(string(b))
	if n > max {
		s += "..."
	}
	return s
}

func formatResult(nr int, ret uint64, err error) string {
	if err == kernel.ErrNoReturn {
		return "?"
	}
	if err != nil {
		var en unix.Errno
		if errors.As(err, &en) {
			return fmt.Sprintf("-1 %s (%s)", errnoName(en), en.Error())
		}
		return "-1 " + err.Error()
	}
	switch nr {
	case unix.SYS_MMAP, unix.SYS_BRK, unix.SYS_MREMAP:
		return fmt.Sprintf("%#x", ret)
	}
	return strconv.FormatInt(int64(ret), 10)
}

func errnoName(e unix.Errno) string {
	if n := unix.ErrnoName(e); n != "" {
		return n
	}
	return "E" + strconv.Itoa(int(e))
}

func joinFlags(v int, names []struct {
	bit  int
	name string
}) string {
	var out []string
	for _, n := range names {
		if n.bit != 0 && v&n.bit == n.bit {
			out = append(out, n.name)
			v &^= n.bit
		}
	}
	if v != 0 {
		out = append(out, fmt.Sprintf("%#x", v))
	}
	return strings.Join(out, "|")
}

func openFlags(f int) string {
	acc := []string{"O_RDONLY", "O_WRONLY", "O_RDWR", "O_ACCMODE"}[f&3]
	rest := joinFlags(f&^3, []struct {
		bit  int
		name string
	}{{unix.O_CREAT, "O_CREAT"}, {unix.O_EXCL, "O_EXCL"}, {unix.O_NOCTTY, "O_NOCTTY"},
		{unix.O_TRUNC, "O_TRUNC"}, {unix.O_APPEND, "O_APPEND"}, {unix.O_NONBLOCK, "O_NONBLOCK"},
		{unix.O_DIRECTORY, "O_DIRECTORY"}, {unix.O_NOFOLLOW, "O_NOFOLLOW"}, {unix.O_CLOEXEC, "O_CLOEXEC"},
		{unix.O_PATH, "O_PATH"}, {vfs.OLargefile, "O_LARGEFILE"}, {unix.O_DIRECT, "O_DIRECT"}})
	if rest != "" {
		return acc + "|" + rest
	}
	return acc
}

func protString(p int) string {
	if p == 0 {
		return "PROT_NONE"
	}
	return joinFlags(p, []struct {
		bit  int
		name string
	}{{unix.PROT_READ, "PROT_READ"}, {unix.PROT_WRITE, "PROT_WRITE"}, {unix.PROT_EXEC, "PROT_EXEC"}})
}

func mapFlags(f int) string {
	return joinFlags(f, []struct {
		bit  int
		name string
	}{{unix.MAP_SHARED_VALIDATE, "MAP_SHARED_VALIDATE"}, {unix.MAP_SHARED, "MAP_SHARED"},
		{unix.MAP_PRIVATE, "MAP_PRIVATE"}, {unix.MAP_FIXED, "MAP_FIXED"}, {unix.MAP_ANONYMOUS, "MAP_ANONYMOUS"},
		{unix.MAP_DENYWRITE, "MAP_DENYWRITE"}, {unix.MAP_NORESERVE, "MAP_NORESERVE"},
		{unix.MAP_POPULATE, "MAP_POPULATE"}, {unix.MAP_STACK, "MAP_STACK"},
		{unix.MAP_FIXED_NOREPLACE, "MAP_FIXED_NOREPLACE"}, {unix.MAP_GROWSDOWN, "MAP_GROWSDOWN"}})
}
