package oci

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/opencontainers/runtime-spec/specs-go/features"
)

func (g *globals) cmdPs(args []string, stdout io.Writer) error {
	fs := newFlags("ps")
	format := fs.String("format", "table", "")
	fs.StringVar(format, "f", "table", "")
	pos, err := parseFirst(fs, args)
	if err != nil {
		return err
	}
	if len(pos) == 0 {
		return usageErr{"ps takes a container id"}
	}
	d, err := g.dir(pos[0])
	if err != nil {
		return err
	}
	r, err := d.load()
	if err != nil {
		return err
	}
	if r.current().Status == specs.StateStopped {
		return errors.New("container not running")
	}
	resp, err := call(d.path, request{Op: "ps"})
	if err != nil {
		return err
	}
	switch *format {
	case "json":
		// The sandbox's own pids: its processes are not host processes.
		pids := []int{}
		for _, p := range resp.Procs {
			pids = append(pids, p.PID)
		}
		b, _ := json.Marshal(pids)
		fmt.Fprintf(stdout, "%s\n", b)
	case "table":
		fmt.Fprintf(stdout, "%5s %5s %5s %5s %4s %s\n", "PID", "PPID", "UID", "GID", "STAT", "CMD")
		for _, p := range resp.Procs {
			cmd := strings.Join(p.Cmdline, " ")
			if cmd == "" {
				cmd = "[" + p.Comm + "]"
			}
			fmt.Fprintf(stdout, "%5d %5d %5d %5d %4s %s\n", p.PID, p.PPID, p.UID, p.GID, p.State, cmd)
		}
	default:
		return usageErr{fmt.Sprintf("--format %q: want table or json", *format)}
	}
	return nil
}

func (g *globals) cmdFeatures(args []string, stdout io.Writer) error {
	if _, err := parse(newFlags("features"), args); err != nil {
		return err
	}
	no, yes := false, true
	f := features.Features{
		OCIVersionMin: "1.0.0",
		OCIVersionMax: specs.Version,
		Hooks:         []string{"prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"},
		MountOptions:  []string{"bind", "rbind", "ro", "rw"},
		Linux: &features.Linux{
			Namespaces: []string{"pid", "network", "ipc", "uts", "mount"},
			Cgroup:     &features.Cgroup{V1: &no, V2: &no, Systemd: &no, SystemdUser: &no},
			Seccomp: &features.Seccomp{Enabled: &yes,
				Actions: []string{string(specs.ActKill), string(specs.ActKillProcess), string(specs.ActKillThread),
					string(specs.ActTrap), string(specs.ActErrno), string(specs.ActTrace), string(specs.ActAllow), string(specs.ActLog)},
				Operators: []string{string(specs.OpNotEqual), string(specs.OpLessThan), string(specs.OpLessEqual),
					string(specs.OpEqualTo), string(specs.OpGreaterEqual), string(specs.OpGreaterThan), string(specs.OpMaskedEqual)},
				Archs: []string{string(specs.ArchX86_64)}},
			Apparmor: &features.Apparmor{Enabled: &no},
			Selinux:  &features.Selinux{Enabled: &no},
		},
		Annotations: map[string]string{"org.glassbox.kernel": "user-space (ptrace)", "org.glassbox.sandbox": "true"},
	}
	b, _ := json.MarshalIndent(f, "", "  ")
	fmt.Fprintf(stdout, "%s\n", b)
	return nil
}

// cmdSpec writes a starter config.json into the bundle, as `runc spec`.
func (g *globals) cmdSpec(args []string) error {
	fs := newFlags("spec")
	bundle := fs.String("bundle", ".", "")
	fs.StringVar(bundle, "b", ".", "")
	fs.Bool("rootless", false, "")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	path := filepath.Join(*bundle, "config.json")
	if _, err := os.Stat(path); err == nil {
		return fmt.Errorf("%s exists; remove it first", path)
	}
	b, _ := json.MarshalIndent(defaultSpec(), "", "\t")
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

// defaultSpec is a minimal container: sh in ./rootfs with a terminal.
func defaultSpec() *specs.Spec {
	return &specs.Spec{
		Version: specs.Version,
		Process: &specs.Process{
			Terminal:        true,
			Args:            []string{"sh"},
			Env:             []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm"},
			Cwd:             "/",
			Rlimits:         []specs.POSIXRlimit{{Type: "RLIMIT_NOFILE", Hard: 1024, Soft: 1024}},
			NoNewPrivileges: true,
		},
		Root:     &specs.Root{Path: "rootfs", Readonly: true},
		Hostname: "glassbox",
		Mounts: []specs.Mount{
			{Destination: "/proc", Type: "proc", Source: "proc"},
			{Destination: "/dev", Type: "tmpfs", Source: "tmpfs", Options: []string{"nosuid", "strictatime", "mode=755", "size=65536k"}},
			{Destination: "/dev/pts", Type: "devpts", Source: "devpts"},
			{Destination: "/sys", Type: "sysfs", Source: "sysfs", Options: []string{"nosuid", "noexec", "nodev", "ro"}},
			{Destination: "/tmp", Type: "tmpfs", Source: "tmpfs"},
		},
		Linux: &specs.Linux{
			Namespaces: []specs.LinuxNamespace{{Type: specs.PIDNamespace}, {Type: specs.NetworkNamespace},
				{Type: specs.IPCNamespace}, {Type: specs.UTSNamespace}, {Type: specs.MountNamespace}},
		},
	}
}
