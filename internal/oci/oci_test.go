package oci

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"glassbox"
)

func TestParseSignal(t *testing.T) {
	for in, want := range map[string]int{"TERM": 15, "SIGKILL": 9, "kill": 9, "9": 9, "SIGRTMIN": 34,
		"RTMIN+2": 36, "SIGRTMAX": 64, "RTMAX-1": 63, "USR1": 10, "WINCH": 28} {
		if got, err := parseSignal(in); err != nil || got != want {
			t.Errorf("parseSignal(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "0", "65", "-1", "NOPE", "RTMIN+31"} {
		if _, err := parseSignal(bad); err == nil {
			t.Errorf("parseSignal(%q): no error", bad)
		}
	}
}

func TestParseGlobals(t *testing.T) {
	g, rest, err := ParseGlobals([]string{"--root", "/x", "--log=/dev/null", "--log-format", "json", "--debug", "--systemd-cgroup", "create", "--bundle", "b", "id"})
	if err != nil || g.Root != "/x" || g.Log != "/dev/null" || g.LogFormat != "json" || !g.Debug || !g.SystemdCgroup {
		t.Fatalf("%+v %v", g, err)
	}
	if strings.Join(rest, " ") != "create --bundle b id" {
		t.Errorf("rest: %q", rest)
	}
	if g, _, _ := ParseGlobals([]string{"run", "--root", "/r", "--", "sh"}); g.Root != DefaultRoot {
		t.Errorf("a run flag was taken for a global one: %q", g.Root)
	}
	if _, _, err := ParseGlobals([]string{"--log-format", "xml", "state", "x"}); err == nil {
		t.Error("--log-format xml: no error")
	}
	if _, _, err := ParseGlobals([]string{"--nope", "state"}); err == nil {
		t.Error("unknown global flag: no error")
	}
}

// glassbox' own run and the OCI run are told apart.
func TestIsOCIRun(t *testing.T) {
	bundle := t.TempDir()
	os.WriteFile(filepath.Join(bundle, "config.json"), []byte("{}"), 0o644)
	wd, _ := os.Getwd()
	defer os.Chdir(wd)
	empty := t.TempDir()
	os.Chdir(empty)
	for _, c := range []struct {
		args []string
		oci  bool
	}{
		{[]string{"--", "sh"}, false},
		{[]string{"sh"}, false}, // no config.json here
		{[]string{"--root", "/r", "sh", "-c", "x"}, false},
		{[]string{"--bundle", bundle, "id"}, true},
		{[]string{"-b", bundle, "id"}, true},
		{[]string{"--detach", "id"}, true},
		{[]string{"--pid-file=/p", "id"}, true},
		{[]string{"--name", "n", "--", "sh"}, false},
	} {
		if got := IsOCIRun(c.args); got != c.oci {
			t.Errorf("IsOCIRun(%q) = %v", c.args, got)
		}
	}
	os.Chdir(bundle)
	if !IsOCIRun([]string{"id"}) {
		t.Error("one argument with ./config.json: not the OCI run")
	}
	if IsOCIRun([]string{"--", "id"}) {
		t.Error("with --: the OCI run")
	}
}

// writeAtomic never lets a reader see part of a file.
func TestWriteAtomic(t *testing.T) {
	p := filepath.Join(t.TempDir(), "state.json")
	a, b := strings.Repeat("a", 1<<16), strings.Repeat("b", 1<<16)
	writeAtomic(p, []byte(a), 0o600)
	var wg sync.WaitGroup
	stop := make(chan struct{})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; i < 200; i++ {
			v := a
			if i%2 == 1 {
				v = b
			}
			if err := writeAtomic(p, []byte(v), 0o600); err != nil {
				t.Error(err)
			}
		}
		close(stop)
	}()
	for {
		select {
		case <-stop:
			wg.Wait()
			if st, _ := os.Stat(p); st.Mode().Perm() != 0o600 {
				t.Errorf("mode %v", st.Mode())
			}
			ents, _ := os.ReadDir(filepath.Dir(p))
			if len(ents) != 1 {
				t.Errorf("temporary files left: %v", ents)
			}
			return
		default:
		}
		got, err := os.ReadFile(p)
		if err != nil || (string(got) != a && string(got) != b) {
			t.Fatalf("a reader saw %d bytes (%v)", len(got), err)
		}
	}
}

func TestCheckID(t *testing.T) {
	for _, ok := range []string{"abc", "a-b_c.d+1", strings.Repeat("f", 64)} {
		if checkID(ok) != nil {
			t.Errorf("%q refused", ok)
		}
	}
	for _, bad := range []string{"", ".", "..", "a/b", "../x", "a b", "a\x00"} {
		if checkID(bad) == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// config.json as podman writes it maps onto the sandbox; what is not
// applied is logged.
func TestPlan(t *testing.T) {
	limit, swap, pids := int64(256<<20), int64(512<<20), int64(64)
	umask := uint32(0o027)
	spec := &specs.Spec{
		Process: &specs.Process{Args: []string{"sh"}, Env: []string{"PATH=/bin"}, Cwd: "/w",
			User:    specs.User{UID: 5, GID: 6, AdditionalGids: []uint32{7}, Umask: &umask},
			Rlimits: []specs.POSIXRlimit{{Type: "RLIMIT_NOFILE", Hard: 100, Soft: 50}, {Type: "RLIMIT_BOGUS"}}, NoNewPrivileges: true,
			Capabilities: &specs.LinuxCapabilities{Effective: []string{"CAP_CHOWN"}}},
		Root:       &specs.Root{Path: "rootfs", Readonly: true},
		Hostname:   "h",
		Domainname: "d",
		Mounts: []specs.Mount{
			{Destination: "/proc", Type: "proc", Source: "proc"},
			{Destination: "/dev", Type: "tmpfs", Source: "tmpfs"},
			{Destination: "/dev/pts", Type: "devpts", Source: "devpts"},
			{Destination: "/dev/shm", Type: "bind", Source: "/host/shm", Options: []string{"bind", "rprivate"}},
			{Destination: "/data", Type: "bind", Source: "/host/data", Options: []string{"rbind", "ro"}},
			{Destination: "/etc/hosts", Source: "/host/hosts", Options: []string{"bind"}},
			{Destination: "/run", Type: "tmpfs", Source: "tmpfs", Options: []string{"size=1m"}},
			{Destination: "/tmp", Type: "tmpfs", Source: "tmpfs"},
			{Destination: "/dev/mqueue", Type: "mqueue", Source: "mqueue"},
			{Destination: "/sys/fs/cgroup", Type: "cgroup", Source: "cgroup"},
			{Destination: "/dev/null", Type: "bind", Source: "/dev/null", Options: []string{"bind"}},
		},
		Linux: &specs.Linux{
			Namespaces: []specs.LinuxNamespace{{Type: specs.PIDNamespace}, {Type: specs.NetworkNamespace, Path: "/run/netns/x"}},
			Resources:  &specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: &limit, Swap: &swap}, Pids: &specs.LinuxPids{Limit: &pids}},
			Seccomp:    &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Syscalls: []specs.LinuxSyscall{{Names: []string{"mkdir"}, Action: specs.ActErrno}}},
		},
	}
	logFile := filepath.Join(t.TempDir(), "log")
	log, err := openLog(logFile, "text", false)
	if err != nil {
		t.Fatal(err)
	}
	p, err := plan(spec, "/bundle", log)
	if err != nil {
		t.Fatal(err)
	}
	c := p.cfg
	want := glassbox.Config{Root: "/bundle/rootfs", ReadOnlyRoot: true, Hostname: "h", Domainname: "d", Net: "host",
		Dir: "/w", UID: 5, GID: 6, Memory: 256 << 20, Swap: 256 << 20, MaxTasks: 64, NoNewPrivileges: true}
	if c.Root != want.Root || !c.ReadOnlyRoot || c.Hostname != "h" || c.Domainname != "d" || c.Net != "host" ||
		c.Dir != "/w" || c.UID != 5 || c.GID != 6 || len(c.Groups) != 1 || *c.Umask != 0o027 || c.Memory != want.Memory ||
		c.Swap != want.Swap || c.MaxTasks != 64 || !c.NoNewPrivileges || p.netns != "/run/netns/x" {
		t.Errorf("plan: %+v (netns %q)", c, p.netns)
	}
	if len(c.Rlimits) != 1 || c.Rlimits[0] != (glassbox.Rlimit{Resource: unix.RLIMIT_NOFILE, Soft: 50, Hard: 100}) {
		t.Errorf("rlimits: %+v", c.Rlimits)
	}
	binds, _ := json.Marshal(c.Binds)
	if string(binds) != `[{"Host":"/host/shm","Guest":"/dev/shm","ReadOnly":false},{"Host":"/host/data","Guest":"/data","ReadOnly":true},{"Host":"/host/hosts","Guest":"/etc/hosts","ReadOnly":false}]` {
		t.Errorf("binds: %s", binds)
	}
	if strings.Join(c.Tmpfs, ",") != "/run,/tmp" {
		t.Errorf("tmpfs: %q", c.Tmpfs)
	}
	if len(c.Seccomp) != 7 {
		t.Errorf("seccomp: %d instructions, want 7 (arch check, one rule, the default)", len(c.Seccomp))
	}
	if !hasEnv(c.Env, "HOME") {
		t.Errorf("no HOME in %q", c.Env)
	}
	b, _ := os.ReadFile(logFile)
	if c.Caps == nil || c.Caps.Effective != 1<<unix.CAP_CHOWN || c.Caps.Bounding != 0 {
		t.Errorf("capabilities: %+v, want CAP_CHOWN effective only", c.Caps)
	}
	for _, w := range []string{"RLIMIT_BOGUS", "/dev/mqueue", "/sys/fs/cgroup", "/dev/null"} {
		if !strings.Contains(string(b), w) {
			t.Errorf("the log says nothing about %s:\n%s", w, b)
		}
	}
	// No network namespace in the spec: the host's network; a new one
	// without a path: the private loopback.
	spec.Linux.Namespaces = nil
	if p, _ := plan(spec, "/bundle", nil); p.cfg.Net != "host" || p.netns != "" {
		t.Errorf("no network namespace: %q %q", p.cfg.Net, p.netns)
	}
	spec.Linux.Namespaces = []specs.LinuxNamespace{{Type: specs.NetworkNamespace}}
	if p, _ := plan(spec, "/bundle", nil); p.cfg.Net != "none" {
		t.Errorf("a new network namespace: %q", p.cfg.Net)
	}
}

// The logger writes {"level","msg","time"} lines with --log-format json.
func TestLogJSON(t *testing.T) {
	f := filepath.Join(t.TempDir(), "log")
	l, err := openLog(f, "json", true)
	if err != nil {
		t.Fatal(err)
	}
	l.Warnf("w %d", 1)
	l.Debugf("d")
	l.Errorf("e")
	l.Writer().Write([]byte("glassbox: info line\n"))
	b, _ := os.ReadFile(f)
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) != 4 {
		t.Fatalf("%d lines:\n%s", len(lines), b)
	}
	for i, want := range []string{"warning:w 1", "debug:d", "error:e", "info:glassbox: info line"} {
		var m map[string]string
		if err := json.Unmarshal([]byte(lines[i]), &m); err != nil || m["level"]+":"+m["msg"] != want || m["time"] == "" {
			t.Errorf("line %d: %q", i, lines[i])
		}
	}
	var nl *logger
	nl.Warnf("a nil logger drops lines")
}

// A control socket whose path is longer than sun_path allows (a
// Kubernetes container's: /run/containerd/runc/k8s.io/<64 hex>/) is
// reached through /proc/self/fd.
func TestControlSocketLongPath(t *testing.T) {
	dir := filepath.Join(t.TempDir(), strings.Repeat("k", 60), strings.Repeat("f", 64))
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if len(filepath.Join(dir, controlSock)) <= 108 {
		t.Fatalf("the path is short: %d", len(dir))
	}
	l, err := listen(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if st, err := os.Stat(filepath.Join(dir, controlSock)); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("socket: %v %v", st, err)
	}
	go func() {
		c, err := l.AcceptUnix()
		if err != nil {
			return
		}
		defer c.Close()
		cn := conn{c}
		var req request
		fds, _ := cn.recv(&req)
		closeFDs(fds)
		cn.send(response{OK: true, PID: req.Signal})
	}()
	resp, err := call(dir, request{Op: "kill", Signal: 42})
	if err != nil || resp.PID != 42 {
		t.Fatalf("call: %+v %v", resp, err)
	}
}

// checkID accepts exactly what runc's ^[\w+\-.]+$ matches (besides "."
// and ".."), byte by byte over every byte value and a few longer ids.
func TestCheckIDAsRunc(t *testing.T) {
	re := regexp.MustCompile(`^[\w+\-.]+$`)
	ids := []string{"", "x\xffy", "é", "a\nb", "abc.def", "A_Z-0+9", "-", "+"}
	for c := 0; c < 256; c++ {
		ids = append(ids, string([]byte{byte(c)}), "a"+string([]byte{byte(c)})+"b")
	}
	for _, id := range ids {
		want := id != "." && id != ".." && re.MatchString(id)
		if got := checkID(id) == nil; got != want {
			t.Errorf("checkID(%q) accepts: %v, runc's rule: %v", id, got, want)
		}
	}
}
