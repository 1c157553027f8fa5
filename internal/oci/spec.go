package oci

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"glassbox"
)

// loadSpec reads BUNDLE/config.json.
func loadSpec(bundle string) (*specs.Spec, error) {
	b, err := os.ReadFile(filepath.Join(bundle, "config.json"))
	if err != nil {
		return nil, fmt.Errorf("bundle %s: %v", bundle, err)
	}
	var s specs.Spec
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("%s/config.json: %v", bundle, err)
	}
	if s.Process == nil || len(s.Process.Args) == 0 {
		return nil, fmt.Errorf("%s/config.json: process.args is empty", bundle)
	}
	if s.Root == nil || s.Root.Path == "" {
		return nil, fmt.Errorf("%s/config.json: root.path is empty", bundle)
	}
	return &s, nil
}

// sandboxPlan is config.json mapped onto a sandbox.
type sandboxPlan struct {
	cfg   glassbox.Config
	argv  []string
	netns string // a network namespace to enter first ("" none)
	tty   bool
	size  *specs.Box
	// traceOut is the host file the trace goes to (annotation
	// org.glassbox.trace-out), opened by the sandbox process.
	traceOut string
}

// plan maps spec onto a glassbox.Config. What glassbox does not apply is
// logged (one line each) and otherwise ignored.
func plan(spec *specs.Spec, bundle string, log *logger) (*sandboxPlan, error) {
	p := &sandboxPlan{argv: spec.Process.Args, tty: spec.Process.Terminal, size: spec.Process.ConsoleSize}
	c := &p.cfg
	root := spec.Root.Path
	if !filepath.IsAbs(root) {
		root = filepath.Join(bundle, root)
	}
	c.Root = root
	c.ReadOnlyRoot = spec.Root.Readonly
	c.CreateMountPoints = true
	c.Hostname = spec.Hostname
	if c.Hostname == "" {
		// A new UTS namespace starts with its creator's names.
		c.Hostname, _ = os.Hostname()
	}
	c.Domainname = spec.Domainname
	c.Net = "host" // no network namespace in the spec: the host's network
	proc := execConfig(spec.Process, root, log)
	c.Env, c.Dir = proc.Env, proc.Dir
	c.UID, c.GID, c.Groups, c.Umask = proc.UID, proc.GID, proc.Groups, proc.Umask
	c.Rlimits, c.NoNewPrivileges, c.Caps = proc.Rlimits, proc.NoNewPrivileges, proc.Caps
	if c.Dir == "" {
		c.Dir = "/"
	}
	for _, m := range spec.Mounts {
		mapMount(c, m, log)
	}
	if l := spec.Linux; l != nil {
		mapLinux(p, l, log)
		if l.Seccomp != nil {
			// An unusable profile stops the container, as in runc:
			// running it unconfined would be worse.
			prog, err := compileSeccomp(l.Seccomp, log)
			if err != nil {
				return nil, fmt.Errorf("linux.seccomp: %w", err)
			}
			c.Seccomp = prog
		}
	}
	if kinds := spec.Annotations["org.glassbox.trace"]; kinds != "" {
		// The glass box: --trace for a container, to a host file.
		p.cfg.Trace, p.traceOut = kinds, spec.Annotations["org.glassbox.trace-out"]
		if p.traceOut == "" {
			log.Warnf("annotation org.glassbox.trace needs org.glassbox.trace-out (a host file); no trace")
			p.cfg.Trace = ""
		}
	}
	if spec.Hooks != nil {
		h := spec.Hooks
		if len(h.CreateContainer)+len(h.StartContainer) > 0 {
			log.Warnf("hooks: createContainer and startContainer hooks run in the host's namespaces (glassbox' sandbox has no host namespaces to enter)")
		}
	}
	return p, nil
}

// execConfig maps a spec process (the first one or an exec'd one) onto
// an ExecConfig, without descriptors. root is the rootfs on the host,
// for HOME from its /etc/passwd ("" to skip).
func execConfig(sp *specs.Process, root string, log *logger) glassbox.ExecConfig {
	e := glassbox.ExecConfig{Argv: sp.Args, Env: append([]string(nil), sp.Env...), Dir: sp.Cwd,
		UID: sp.User.UID, GID: sp.User.GID, Groups: sp.User.AdditionalGids, Umask: sp.User.Umask,
		Terminal: sp.Terminal, NoNewPrivileges: sp.NoNewPrivileges}
	if !hasEnv(e.Env, "HOME") {
		// As runc: the user's home from the container's /etc/passwd, or /.
		e.Env = append(e.Env, "HOME="+homeOf(root, sp.User.UID))
	}
	for _, r := range sp.Rlimits {
		res, ok := rlimits[r.Type]
		if !ok {
			log.Warnf("process.rlimits: %s is not a resource limit glassbox knows; ignored", r.Type)
			continue
		}
		e.Rlimits = append(e.Rlimits, glassbox.Rlimit{Resource: res, Soft: r.Soft, Hard: r.Hard})
	}
	e.Caps = startCaps(sp.Capabilities, log)
	if e.Caps != nil {
		log.Debugf("process.capabilities: effective %#x, bounding %#x", e.Caps.Effective, e.Caps.Bounding)
	}
	if sp.ApparmorProfile != "" || sp.SelinuxLabel != "" {
		log.Warnf("process: apparmorProfile and selinuxLabel do not apply inside glassbox; ignored")
	}
	if sp.OOMScoreAdj != nil || sp.Scheduler != nil || sp.IOPriority != nil || sp.ExecCPUAffinity != nil {
		log.Warnf("process: oomScoreAdj, scheduler, ioPriority and execCPUAffinity are not applied")
	}
	return e
}

var rlimits = map[string]int{
	"RLIMIT_CPU": unix.RLIMIT_CPU, "RLIMIT_FSIZE": unix.RLIMIT_FSIZE, "RLIMIT_DATA": unix.RLIMIT_DATA,
	"RLIMIT_STACK": unix.RLIMIT_STACK, "RLIMIT_CORE": unix.RLIMIT_CORE, "RLIMIT_RSS": unix.RLIMIT_RSS,
	"RLIMIT_NPROC": unix.RLIMIT_NPROC, "RLIMIT_NOFILE": unix.RLIMIT_NOFILE, "RLIMIT_MEMLOCK": unix.RLIMIT_MEMLOCK,
	"RLIMIT_AS": unix.RLIMIT_AS, "RLIMIT_LOCKS": unix.RLIMIT_LOCKS, "RLIMIT_SIGPENDING": unix.RLIMIT_SIGPENDING,
	"RLIMIT_MSGQUEUE": unix.RLIMIT_MSGQUEUE, "RLIMIT_NICE": unix.RLIMIT_NICE, "RLIMIT_RTPRIO": unix.RLIMIT_RTPRIO,
	"RLIMIT_RTTIME": unix.RLIMIT_RTTIME,
}

func hasEnv(env []string, key string) bool {
	for _, e := range env {
		if strings.HasPrefix(e, key+"=") {
			return true
		}
	}
	return false
}

// homeOf reads uid's home directory from root/etc/passwd ("/" if none).
func homeOf(root string, uid uint32) string {
	if root == "" {
		return "/"
	}
	f, err := os.Open(filepath.Join(root, "etc", "passwd"))
	if err != nil {
		return "/"
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		p := strings.Split(sc.Text(), ":")
		if len(p) >= 6 && p[2] == strconv.FormatUint(uint64(uid), 10) && strings.HasPrefix(p[5], "/") {
			return p[5]
		}
	}
	return "/"
}

// Mount types glassbox provides itself: the sandbox always has its own
// /proc, /dev (with /dev/pts) and /sys.
var ownMounts = map[string]string{"proc": "/proc", "sysfs": "/sys", "devpts": "/dev/pts"}

// mapMount adds one spec mount to c.
func mapMount(c *glassbox.Config, m specs.Mount, log *logger) {
	dest := path.Clean("/" + m.Destination)
	typ := m.Type
	bind, ro := false, false
	for _, o := range m.Options {
		switch o {
		case "bind", "rbind":
			bind = true
		case "ro":
			ro = true
		}
	}
	if typ == "bind" || typ == "rbind" || (typ == "" || typ == "none") && bind {
		typ, bind = "bind", true
	}
	switch {
	case bind:
		if under(dest, "/proc") || under(dest, "/sys") || under(dest, "/dev") && dest != "/dev/shm" {
			log.Warnf("mount %s: glassbox' own /proc, /sys and /dev hold no binds; skipped", dest)
			return
		}
		if len(m.UIDMappings)+len(m.GIDMappings) > 0 {
			log.Warnf("mount %s: id-mapped mounts are not supported; mounted without the mapping", dest)
		}
		c.Binds = append(c.Binds, glassbox.Bind{Host: m.Source, Guest: dest, ReadOnly: ro})
	case typ == "tmpfs" && dest == "/dev":
		// The sandbox's /dev is glassbox' own device file system.
	case typ == "tmpfs":
		if under(dest, "/proc") || under(dest, "/sys") || under(dest, "/dev") && dest != "/dev/shm" {
			log.Warnf("mount %s: glassbox' own /proc, /sys and /dev hold no tmpfs; skipped", dest)
			return
		}
		if dest != "/dev/shm" { // glassbox' /dev has one
			c.Tmpfs = append(c.Tmpfs, dest)
		}
		for _, o := range m.Options {
			if strings.HasPrefix(o, "size=") || strings.HasPrefix(o, "mode=") || strings.HasPrefix(o, "uid=") || strings.HasPrefix(o, "gid=") {
				log.Debugf("mount %s: tmpfs option %s not applied", dest, o)
			}
		}
	case ownMounts[typ] == dest:
		// glassbox' own.
	case typ == "mqueue" || typ == "cgroup" || typ == "cgroup2":
		log.Warnf("mount %s: %s file systems are not provided inside glassbox; skipped", dest, typ)
	default:
		log.Warnf("mount %s: type %q at this place is not supported; skipped", dest, typ)
	}
}

func under(p, dir string) bool { return p == dir || strings.HasPrefix(p, dir+"/") }

// mapLinux maps the linux section.
func mapLinux(p *sandboxPlan, l *specs.Linux, log *logger) {
	c := &p.cfg
	for _, ns := range l.Namespaces {
		switch ns.Type {
		case specs.NetworkNamespace:
			if ns.Path != "" {
				// The engine's namespace (its veth): sockets are made there.
				p.netns, c.Net = ns.Path, "host"
			} else {
				c.Net = "none" // a new, empty namespace: the private loopback
			}
		case specs.UserNamespace:
			log.Warnf("linux.namespaces: user namespaces are not applied; ids inside glassbox are its own")
		default:
			if ns.Path != "" {
				log.Warnf("linux.namespaces: joining the %s namespace %s is not supported; the sandbox has its own", ns.Type, ns.Path)
			}
		}
	}
	if len(l.UIDMappings)+len(l.GIDMappings) > 0 {
		log.Warnf("linux.uidMappings/gidMappings: not applied")
	}
	if r := l.Resources; r != nil {
		if m := r.Memory; m != nil {
			if m.Limit != nil && *m.Limit > 0 {
				c.Memory = uint64(*m.Limit)
				if m.Swap != nil && *m.Swap > *m.Limit {
					c.Swap = uint64(*m.Swap - *m.Limit)
				}
			}
			if m.Reservation != nil || m.Kernel != nil || m.KernelTCP != nil || m.Swappiness != nil {
				log.Warnf("linux.resources.memory: only limit (and swap) are applied")
			}
		}
		if r.Pids != nil && r.Pids.Limit != nil && *r.Pids.Limit > 0 {
			c.MaxTasks = int(*r.Pids.Limit)
		}
		if r.CPU != nil || r.BlockIO != nil || len(r.HugepageLimits) > 0 || r.Network != nil || len(r.Rdma) > 0 || len(r.Unified) > 0 {
			log.Warnf("linux.resources: cpu, blockIO, hugepageLimits, network, rdma and unified are not applied")
		}
		for _, d := range r.Devices {
			if d.Allow {
				log.Debugf("linux.resources.devices: glassbox' /dev is fixed; device rules are not applied")
				break
			}
		}
	}
	if len(l.Sysctl) > 0 {
		log.Warnf("linux.sysctl: not applied")
	}
	if len(l.Devices) > 0 {
		log.Warnf("linux.devices: glassbox' /dev is fixed; extra devices are not created")
	}
	if l.IntelRdt != nil || l.Personality != nil || l.TimeOffsets != nil {
		log.Warnf("linux: intelRdt, personality and timeOffsets are not applied")
	}
	if l.MountLabel != "" || l.RootfsPropagation != "" {
		log.Debugf("linux: mountLabel and rootfsPropagation do not apply")
	}
	if len(l.MaskedPaths)+len(l.ReadonlyPaths) > 0 {
		log.Debugf("linux: maskedPaths and readonlyPaths are not applied (glassbox' /proc and /sys show only the sandbox)")
	}
}
