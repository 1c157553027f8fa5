package procfs

import (
	"bytes"
	"fmt"
	"os"
	"strings"
	"sync"

	"golang.org/x/sys/unix"

	"glassbox/internal/fs/synth"
	"glassbox/internal/hostrand"
	"glassbox/internal/vfs"
)

// addGlobal adds the system-wide files. Their numbers are the sandbox's:
// its processes, its memory, its uptime; hardware facts (cpuinfo, total
// memory) are the host's. kernelExtra joins /proc/sys/kernel.
func (fs *FS) addGlobal(kernelExtra map[string]vfs.Inode) {
	gen := func(f func(s System) string) vfs.Inode {
		return synth.NewFile(Dev, func(vfs.Ctx) ([]byte, error) { return []byte(f(fs.src.System())), nil })
	}
	fixed := func(s string) vfs.Inode {
		return synth.NewFile(Dev, func(vfs.Ctx) ([]byte, error) { return []byte(s), nil })
	}
	g := fs.global
	g["uptime"] = gen(func(s System) string { return fmt.Sprintf("%.2f %.2f\n", s.Uptime, s.Idle) })
	g["loadavg"] = gen(func(s System) string {
		return fmt.Sprintf("0.00 0.00 0.00 1/%d %d\n", s.Threads, s.LastPID)
	})
	g["version"] = gen(func(s System) string {
		return fmt.Sprintf("Linux version %s (glassbox) %s\n", s.Release, s.Version)
	})
	g["meminfo"] = gen(meminfo)
	g["stat"] = gen(func(s System) string {
		cpu := fmt.Sprintf("%d 0 0 %d 0 0 0 0 0 0", s.CPUTicks, uint64(s.Idle*100))
		return fmt.Sprintf("cpu  %s\ncpu0 %s\nintr 0\nctxt %d\nbtime %d\nprocesses %d\nprocs_running 1\nprocs_blocked 0\nsoftirq 0\n",
			cpu, cpu, s.ContextSwitches, s.BootTime, s.LastPID)
	})
	g["cpuinfo"] = synth.NewFile(Dev, func(vfs.Ctx) ([]byte, error) { return hostFile("/proc/cpuinfo"), nil })
	// The kernel's build configuration is the host kernel's: tools read
	// it to learn what the kernel offers.
	if _, err := os.Stat("/proc/config.gz"); err == nil {
		g["config.gz"] = synth.NewFile(Dev, func(vfs.Ctx) ([]byte, error) { return hostFile("/proc/config.gz"), nil })
	}
	// host is a /proc/sys entry whose value is the host kernel's: a limit
	// or fact the sandbox does not change.
	host := func(name string) vfs.Inode {
		return synth.NewFile(Dev, func(vfs.Ctx) ([]byte, error) { return hostFile("/proc/sys/" + name), nil })
	}
	g["filesystems"] = fixed("nodev\tproc\nnodev\ttmpfs\nnodev\tdevtmpfs\nnodev\tsysfs\nnodev\tpipefs\n\thostfs\n")
	g["sys"] = synth.Static(Dev, 0o555, map[string]vfs.Inode{
		"kernel": synth.Static(Dev, 0o555, merge(kernelExtra, map[string]vfs.Inode{
			"pid_max":      host("kernel/pid_max"),
			"version":      host("kernel/version"),
			"tainted":      host("kernel/tainted"),
			"threads-max":  host("kernel/threads-max"),
			"cap_last_cap": host("kernel/cap_last_cap"),
			"overflowuid":  host("kernel/overflowuid"),
			"overflowgid":  host("kernel/overflowgid"),
			"ostype":       fixed("Linux\n"),
			"osrelease":    gen(func(s System) string { return s.Release + "\n" }),
			"hostname":     fs.utsFile(false),
			"domainname":   fs.utsFile(true),
			"ngroups_max":  fixed("65536\n"),
			"random": synth.Static(Dev, 0o555, map[string]vfs.Inode{
				"boot_id": synth.NewFile(Dev, func(vfs.Ctx) ([]byte, error) { return []byte(bootID() + "\n"), nil }),
				"uuid": synth.NewFile(Dev, func(vfs.Ctx) ([]byte, error) {
					return []byte(newUUID() + "\n"), nil
				}),
				"entropy_avail": host("kernel/random/entropy_avail"),
				"poolsize":      host("kernel/random/poolsize"),
			}),
		})),
		"vm": synth.Static(Dev, 0o555, map[string]vfs.Inode{
			"overcommit_memory": fixed("0\n"),
			"max_map_count":     fixed("65530\n"),
		}),
		"fs": synth.Static(Dev, 0o555, map[string]vfs.Inode{
			"pipe-max-size": fixed("1048576\n"),
			"file-max":      fixed("9223372036854775807\n"),
			"nr_open":       fixed("1048576\n"),
			"inotify": synth.Static(Dev, 0o555, map[string]vfs.Inode{
				"max_user_watches":   host("fs/inotify/max_user_watches"),
				"max_user_instances": host("fs/inotify/max_user_instances"),
				"max_queued_events":  host("fs/inotify/max_queued_events"),
			}),
			"lease-break-time":     host("fs/lease-break-time"),
			"leases-enable":        host("fs/leases-enable"),
			"pipe-user-pages-soft": host("fs/pipe-user-pages-soft"),
			"pipe-user-pages-hard": host("fs/pipe-user-pages-hard"),
			"protected_symlinks":   host("fs/protected_symlinks"),
			"protected_hardlinks":  host("fs/protected_hardlinks"),
		}),
		"net": synth.Static(Dev, 0o555, map[string]vfs.Inode{
			"unix": synth.Static(Dev, 0o555, map[string]vfs.Inode{"max_dgram_qlen": fixed("512\n")}),
		}),
	})
}

// merge adds extra's entries to m.
func merge(extra, m map[string]vfs.Inode) map[string]vfs.Inode {
	for k, v := range extra {
		m[k] = v
	}
	return m
}

// bootID names this sandbox's boot, fixed per glassbox process (made
// when it is first read).
var bootID = sync.OnceValue(newUUID)

// newUUID returns a random (version 4) UUID, as each read of
// /proc/sys/kernel/random/uuid gives. Linux: drivers/char/random.c
// (proc_do_uuid, generate_random_uuid)
func newUUID() string {
	var b [16]byte
	hostrand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// hostFile reads a host file glassbox passes through (hardware facts).
func hostFile(path string) []byte {
	b, _ := os.ReadFile(path)
	return b
}

// meminfo reports the sandbox: MemTotal is the memory limit (or the
// host's total if that is smaller), the rest comes from the memory file and
// the page tables (mm.SystemTotals), swap from the sandbox's swap area.
// Linux: fs/proc/meminfo.c
func meminfo(s System) string {
	total := uint64(0)
	for _, line := range strings.Split(string(hostFile("/proc/meminfo")), "\n") {
		if strings.HasPrefix(line, "MemTotal:") {
			fmt.Sscanf(strings.TrimPrefix(line, "MemTotal:"), "%d", &total)
		}
	}
	if lim := s.MemLimit / 1024; lim > 0 && lim < total {
		total = lim
	}
	kb := func(b uint64) uint64 { return b / 1024 }
	used := kb(s.MemUsed)
	free := uint64(0)
	if total > used {
		free = total - used
	}
	cached := kb(s.Mem.FileMapped + s.Mem.ShmemMapped)
	var b strings.Builder
	line := func(name string, v uint64) { fmt.Fprintf(&b, "%-16s%8d kB\n", name+":", v) }
	line("MemTotal", total)
	line("MemFree", free)
	line("MemAvailable", free)
	line("Buffers", 0)
	line("Cached", cached)
	line("SwapCached", 0)
	line("Active", used)
	line("Inactive", 0)
	line("Unevictable", kb(s.Mem.Mlocked))
	line("Mlocked", kb(s.Mem.Mlocked))
	line("SwapTotal", kb(s.SwapTotal))
	line("SwapFree", kb(s.SwapTotal-s.SwapUsed))
	line("Dirty", 0)
	line("Writeback", 0)
	line("AnonPages", kb(s.Mem.AnonPages))
	line("Mapped", cached)
	line("Shmem", kb(s.Mem.ShmemMapped))
	return b.String()
}

// formatMounts renders /proc/mounts lines.
func formatMounts(ms []MountLine) []byte {
	var b strings.Builder
	for _, m := range ms {
		fmt.Fprintf(&b, "%s %s %s %s 0 0\n", m.Source, m.Point, m.FSType, m.Opts)
	}
	return []byte(b.String())
}

// formatMountinfo renders /proc/PID/mountinfo lines.
func formatMountinfo(ms []MountLine) []byte {
	var b strings.Builder
	for _, m := range ms {
		fmt.Fprintf(&b, "%d %d 0:%d %s %s %s - %s %s %s\n", m.ID, m.ParentID, m.ID, m.Root, m.Point, m.Opts,
			m.FSType, m.Source, m.Opts)
	}
	return []byte(b.String())
}

// utsTask is the reader or writer of /proc/sys/kernel/{hostname,domainname}:
// the names are those of its UTS namespace.
type utsTask interface {
	Hostname() string
	Domainname() string
	SetUTSName(name string, domain bool)
}

// utsFile is /proc/sys/kernel/hostname (domain false) or domainname: the
// caller's UTS namespace's name, written as sethostname would set it (up
// to the first newline, at most 64 bytes; root only, by the file's mode).
// Linux: kernel/utsname_sysctl.c (proc_do_uts_string), kernel/sysctl.c (proc_dostring)
func (fs *FS) utsFile(domain bool) vfs.Inode {
	return &synth.File{Attr: synth.NewAttr(Dev, unix.S_IFREG|0o644),
		Gen: func(ctx vfs.Ctx) ([]byte, error) {
			s := fs.src.System()
			name := s.Hostname
			if domain {
				name = s.Domainname
			}
			if u, ok := ctx.(utsTask); ok {
				if name = u.Hostname(); domain {
					name = u.Domainname()
				}
			}
			return []byte(name + "\n"), nil
		},
		Write: func(ctx vfs.Ctx, b []byte) error {
			u, ok := ctx.(utsTask)
			if !ok {
				return unix.EPERM
			}
			if i := bytes.IndexByte(b, '\n'); i >= 0 {
				b = b[:i]
			}
			if len(b) > 64 { // __NEW_UTS_LEN
				b = b[:64]
			}
			u.SetUTSName(string(b), domain)
			return nil
		}}
}
