package tests

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// glassbox as an OCI runtime, driven the way container engines drive
// runc (no engine needed here; tests/oci_engine_test.go runs podman and
// containerd). The rootfs is a directory holding static busybox.

// busyboxRootfs makes DIR/rootfs with /bin/busybox and applet links.
func busyboxRootfs(t *testing.T, dir string) string {
	t.Helper()
	bb := busybox(t)
	root := filepath.Join(dir, "rootfs")
	if err := os.MkdirAll(filepath.Join(root, "bin"), 0o755); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(bb)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(root, "bin", "busybox"), string(data), 0o755)
	for _, a := range []string{"sh", "echo", "cat", "sleep", "tty", "hostname", "ls", "id", "ps", "kill", "true", "env", "stty", "touch"} {
		if err := os.Symlink("busybox", filepath.Join(root, "bin", a)); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

// ociBundle writes a bundle (rootfs + config.json from `glassbox spec`,
// changed by edit) and returns its directory.
func ociBundle(t *testing.T, edit func(c map[string]any)) string {
	t.Helper()
	dir := t.TempDir()
	busyboxRootfs(t, dir)
	r := ociCmd(t, "", "spec", "--bundle", dir)
	if r.Code != 0 {
		t.Fatalf("glassbox spec: %s", r)
	}
	b, err := os.ReadFile(filepath.Join(dir, "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	var c map[string]any
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	proc := c["process"].(map[string]any)
	proc["terminal"] = false
	if edit != nil {
		edit(c)
	}
	b, _ = json.MarshalIndent(c, "", " ")
	writeFile(t, filepath.Join(dir, "config.json"), string(b), 0o644)
	return dir
}

// ociCmd runs glassbox [--root stateRoot] args with stdout and stderr in
// files (not pipes: a sandbox process create starts keeps them open).
func ociCmd(t *testing.T, stateRoot string, args ...string) res {
	t.Helper()
	if buildErr != nil {
		t.Fatalf("glassbox unavailable: %v", buildErr)
	}
	if stateRoot != "" {
		args = append([]string{"--root", stateRoot}, args...)
	}
	ctx, cancel := context.WithTimeout(context.Background(), runTimeout)
	defer cancel()
	out, _ := os.CreateTemp(t.TempDir(), "out")
	errf, _ := os.CreateTemp(t.TempDir(), "err")
	defer out.Close()
	defer errf.Close()
	cmd := exec.CommandContext(ctx, glassboxBin, args...)
	cmd.Stdout, cmd.Stderr = out, errf
	err := cmd.Run()
	r := res{}
	if b, e := os.ReadFile(out.Name()); e == nil {
		r.Stdout = string(b)
	}
	if b, e := os.ReadFile(errf.Name()); e == nil {
		r.Stderr = string(b)
	}
	if ctx.Err() != nil {
		t.Fatalf("glassbox %q timed out", args)
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		ws := ee.Sys().(syscall.WaitStatus)
		r.Code = ws.ExitStatus()
		if ws.Signaled() {
			r.Code, r.Signaled = 128+int(ws.Signal()), true
		}
	} else if err != nil {
		t.Fatalf("glassbox %q: %v", args, err)
	}
	return r
}

// ociState returns the state command's status and pid.
func ociState(t *testing.T, root, id string) (string, int) {
	t.Helper()
	r := ociCmd(t, root, "state", id)
	if r.Code != 0 {
		t.Fatalf("state %s: %s", id, r)
	}
	var st struct {
		Status string `json:"status"`
		Pid    int    `json:"pid"`
	}
	if err := json.Unmarshal([]byte(r.Stdout), &st); err != nil {
		t.Fatalf("state %s: %v in %q", id, err, r.Stdout)
	}
	return st.Status, st.Pid
}

// waitStatus polls state until it reads want.
func waitStatus(t *testing.T, root, id, want string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		st, _ := ociState(t, root, id)
		if st == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: state %s, want %s", id, st, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func setArgs(args ...string) func(map[string]any) {
	return func(c map[string]any) {
		list := make([]any, len(args))
		for i, a := range args {
			list[i] = a
		}
		c["process"].(map[string]any)["args"] = list
	}
}

// The lifecycle as an engine drives it: create leaves the first process
// held (nothing ran), start lets it run, state follows, kill and delete.
func TestOCILifecycle(t *testing.T) {
	root := t.TempDir()
	marker := t.TempDir()
	hookDir := t.TempDir()
	hook := func(name string) map[string]any {
		// A hook gets the state on stdin; it records it, with its args.
		return map[string]any{"path": "/bin/sh", "args": []any{"sh", "-c", `cat > "$0/$1"`, hookDir, name}}
	}
	bundle := ociBundle(t, func(c map[string]any) {
		setArgs("/bin/sh", "-c", "touch /m/ran; exec sleep 1000")(c)
		c["mounts"] = append(c["mounts"].([]any), map[string]any{"destination": "/m", "type": "bind", "source": marker, "options": []any{"rbind", "rw"}})
		c["hooks"] = map[string]any{"createRuntime": []any{hook("createRuntime")}, "poststart": []any{hook("poststart")},
			"poststop": []any{hook("poststop")}}
	})
	hookState := func(name string) string {
		b, err := os.ReadFile(filepath.Join(hookDir, name))
		if err != nil {
			return "(did not run)"
		}
		var st struct {
			ID     string `json:"id"`
			Status string `json:"status"`
		}
		json.Unmarshal(b, &st)
		return st.ID + " " + st.Status
	}
	pidFile := filepath.Join(t.TempDir(), "pid")
	if r := ociCmd(t, root, "create", "--bundle", bundle, "--pid-file", pidFile, "c1"); r.Code != 0 || r.Stdout != "" {
		t.Fatalf("create: %s", r)
	}
	t.Cleanup(func() { ociCmd(t, root, "delete", "--force", "c1") })
	st, pid := ociState(t, root, "c1")
	b, _ := os.ReadFile(pidFile)
	if st != "created" || pid <= 0 || string(b) != itoa(pid) {
		t.Fatalf("after create: status %s pid %d, pid file %q", st, pid, b)
	}
	if exe, _ := os.Readlink("/proc/" + itoa(pid) + "/exe"); exe != glassboxBin {
		t.Errorf("the pid to watch runs %q, want glassbox (%s)", exe, glassboxBin)
	}
	time.Sleep(300 * time.Millisecond)
	if _, err := os.Stat(filepath.Join(marker, "ran")); err == nil {
		t.Fatal("the first process ran before start")
	}
	if r := ociCmd(t, root, "create", "--bundle", bundle, "c1"); r.Code == 0 || !strings.Contains(r.Stderr, "already exists") {
		t.Errorf("create of an existing id: %s", r)
	}
	if got := hookState("createRuntime"); got != "c1 created" {
		t.Errorf("createRuntime hook: %s", got)
	}
	if got := hookState("poststart"); got != "(did not run)" {
		t.Errorf("poststart hook before start: %s", got)
	}
	if r := ociCmd(t, root, "start", "c1"); r.Code != 0 {
		t.Fatalf("start: %s", r)
	}
	if st, _ := ociState(t, root, "c1"); st != "running" {
		t.Errorf("after start: %s", st)
	}
	if got := hookState("poststart"); got != "c1 running" {
		t.Errorf("poststart hook: %s", got)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		if _, err := os.Stat(filepath.Join(marker, "ran")); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("started, but the first process never ran")
		}
		time.Sleep(20 * time.Millisecond)
	}
	r := ociCmd(t, root, "list", "--format", "json")
	if !strings.Contains(r.Stdout, `"id":"c1"`) || !strings.Contains(r.Stdout, `"status":"running"`) {
		t.Errorf("list: %s", r)
	}
	if r := ociCmd(t, root, "delete", "c1"); r.Code == 0 || !strings.Contains(r.Stderr, "not stopped") {
		t.Errorf("delete of a running container without --force: %s", r)
	}
	if r := ociCmd(t, root, "kill", "c1", "KILL"); r.Code != 0 {
		t.Fatalf("kill: %s", r)
	}
	waitStatus(t, root, "c1", "stopped")
	if r := ociCmd(t, root, "kill", "c1", "TERM"); r.Code == 0 || !strings.Contains(r.Stderr, "not running") {
		t.Errorf("kill of a stopped container: %s", r)
	}
	if r := ociCmd(t, root, "delete", "c1"); r.Code != 0 {
		t.Fatalf("delete: %s", r)
	}
	if got := hookState("poststop"); got != "c1 stopped" {
		t.Errorf("poststop hook: %s", got)
	}
	if _, err := os.Stat(filepath.Join(root, "c1")); !os.IsNotExist(err) {
		t.Errorf("delete left %s/c1 (%v)", root, err)
	}
	if r := ociCmd(t, root, "state", "c1"); r.Code == 0 || !strings.Contains(r.Stderr, "does not exist") {
		t.Errorf("state after delete: %s", r)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

// The OCI run (create + start + wait): the container's stdout, its exit
// status (128+N for a signal), config.json's env, cwd, user, hostname
// and rlimits; the stdout of the sandbox process is the container's.
func TestOCIRunMapping(t *testing.T) {
	root := t.TempDir()
	bundle := ociBundle(t, func(c map[string]any) {
		setArgs("/bin/sh", "-c", `echo "$FOO" "$(hostname)" "$(pwd)" "$(id -u):$(id -g):$(id -G)" "$(ulimit -n)"; exit 7`)(c)
		p := c["process"].(map[string]any)
		p["env"] = []any{"PATH=/bin", "FOO=from-config"}
		p["cwd"] = "/tmp"
		p["user"] = map[string]any{"uid": 1000, "gid": 1000, "additionalGids": []any{44, 55}}
		p["rlimits"] = []any{map[string]any{"type": "RLIMIT_NOFILE", "hard": 512, "soft": 256}}
		c["hostname"] = "boxname"
		c["root"].(map[string]any)["readonly"] = false
	})
	if err := os.MkdirAll(filepath.Join(bundle, "rootfs", "tmp"), 0o1777); err != nil {
		t.Fatal(err)
	}
	r := ociCmd(t, root, "run", "--bundle", bundle, "r1")
	expect(t, "oci run", r, "from-config boxname /tmp 1000:1000:1000 44 55 256\n", 7)
	if r.Stderr != "" {
		t.Errorf("stderr: %q", r.Stderr)
	}
	if _, err := os.Stat(filepath.Join(root, "r1")); !os.IsNotExist(err) {
		t.Errorf("run left its state behind (%v)", err)
	}
	bundle = ociBundle(t, setArgs("/bin/sh", "-c", "kill -9 $$"))
	expect(t, "oci run killed by SIGKILL", ociCmd(t, root, "run", "--bundle", bundle, "r2"), "", 137)
}

// TestOCISeccomp: the container's seccomp profile is enforced on its
// processes (the first one and exec'd ones), as runc enforces it; with
// runc on the machine the same bundle runs under both.
func TestOCISeccomp(t *testing.T) {
	script := "mkdir /tmp/d; echo mkdir $?; ls /tmp/d >/dev/null 2>&1; echo ls $?; grep '^Seccomp:' /proc/self/status"
	bundle := ociBundle(t, func(c map[string]any) {
		setArgs("/bin/sh", "-c", script)(c)
		c["linux"].(map[string]any)["seccomp"] = map[string]any{
			"defaultAction": "SCMP_ACT_ALLOW",
			"architectures": []string{"SCMP_ARCH_X86_64"},
			"syscalls": []any{
				map[string]any{"names": []string{"mkdir", "mkdirat"}, "action": "SCMP_ACT_ERRNO", "errnoRet": 13},
				map[string]any{"names": []string{"personality"}, "action": "SCMP_ACT_ERRNO",
					"args": []any{map[string]any{"index": 0, "value": 8, "op": "SCMP_CMP_EQ"}}},
			},
		}
	})
	gb := ociCmd(t, t.TempDir(), "run", "--bundle", bundle, "sc1")
	if gb.Stdout != "mkdir 1\nls 1\nSeccomp:\t2\n" || gb.Code != 0 ||
		gb.Stderr != "mkdir: can't create directory '/tmp/d': Permission denied\n" {
		t.Errorf("glassbox: mkdir must fail with EACCES under the profile, got %s", gb)
	}
	if _, err := exec.LookPath("runc"); err != nil {
		t.Logf("runc not found: glassbox checked alone (apt-get install runc to compare)")
		return
	}
	rc := run(t, []string{"runc", "--root", t.TempDir(), "run", "--bundle", bundle, "sc1"}, os.Environ())
	if rc.Stdout != gb.Stdout || rc.Stderr != gb.Stderr || rc.Code != gb.Code {
		t.Errorf("runc and glassbox differ\n===== runc: %s\n===== glassbox: %s", rc, gb)
	}
}

// A read-only root refuses writes (EROFS) but its mounts keep theirs; a
// tmpfs mount is writable.
func TestOCIReadonlyRoot(t *testing.T) {
	root := t.TempDir()
	bundle := ociBundle(t, func(c map[string]any) {
		setArgs("/bin/sh", "-c", "touch /x 2>/dev/null && echo root-writable; touch /scratch/y && echo tmpfs-ok")(c)
		c["mounts"] = append(c["mounts"].([]any), map[string]any{"destination": "/scratch", "type": "tmpfs", "source": "tmpfs"})
	})
	expect(t, "read-only root", ociCmd(t, root, "run", "--bundle", bundle, "ro1"), "tmpfs-ok\n", 0)
}

// What glassbox does not apply is a line in --log, never on the
// container's stderr.
func TestOCIUnsupportedToLog(t *testing.T) {
	root := t.TempDir()
	logFile := filepath.Join(t.TempDir(), "log.json")
	bundle := ociBundle(t, func(c map[string]any) {
		setArgs("/bin/sh", "-c", "echo out; echo err >&2")(c)
		c["linux"].(map[string]any)["sysctl"] = map[string]any{"net.ipv4.ip_forward": "1"}
		c["mounts"] = append(c["mounts"].([]any), map[string]any{"destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue"})
	})
	r := ociCmd(t, root, "--log", logFile, "--log-format", "json", "run", "--bundle", bundle, "u1")
	if r.Stdout != "out\n" || r.Stderr != "err\n" || r.Code != 0 {
		t.Errorf("the container's output changed: %s", r)
	}
	b, _ := os.ReadFile(logFile)
	for _, want := range []string{"linux.sysctl", "/dev/mqueue"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("--log has no line about %s:\n%s", want, b)
		}
	}
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		var m map[string]string
		if err := json.Unmarshal([]byte(line), &m); err != nil || m["level"] == "" || m["msg"] == "" || m["time"] == "" {
			t.Errorf("--log-format json: line %q is not {level,msg,time}", line)
		}
	}
}

// A terminal as runc makes one: the pty master goes to --console-socket
// with SCM_RIGHTS; inside, tty prints /dev/pts/0.
func TestOCIConsoleSocket(t *testing.T) {
	root := t.TempDir()
	bundle := ociBundle(t, func(c map[string]any) {
		setArgs("/bin/sh", "-c", "tty; stty size")(c)
		p := c["process"].(map[string]any)
		p["terminal"] = true
		p["consoleSize"] = map[string]any{"height": 33, "width": 101}
	})
	sock := filepath.Join(t.TempDir(), "console.sock")
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: sock, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	got := make(chan *os.File, 1)
	go func() {
		c, err := l.AcceptUnix()
		if err != nil {
			got <- nil
			return
		}
		defer c.Close()
		buf, oob := make([]byte, 256), make([]byte, syscall.CmsgSpace(4))
		_, oobn, _, _, err := c.ReadMsgUnix(buf, oob)
		if err != nil {
			got <- nil
			return
		}
		msgs, _ := syscall.ParseSocketControlMessage(oob[:oobn])
		if len(msgs) != 1 {
			got <- nil
			return
		}
		fds, _ := syscall.ParseUnixRights(&msgs[0])
		if len(fds) != 1 {
			got <- nil
			return
		}
		got <- os.NewFile(uintptr(fds[0]), "master")
	}()
	if r := ociCmd(t, root, "create", "--bundle", bundle, "--console-socket", sock, "t1"); r.Code != 0 {
		t.Fatalf("create: %s", r)
	}
	t.Cleanup(func() { ociCmd(t, root, "delete", "--force", "t1") })
	master := <-got
	if master == nil {
		t.Fatal("no pty master came over the console socket")
	}
	defer master.Close()
	if r := ociCmd(t, root, "start", "t1"); r.Code != 0 {
		t.Fatalf("start: %s", r)
	}
	out := make([]byte, 0, 256)
	buf := make([]byte, 256)
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(string(out), "101") && time.Now().Before(deadline) {
		master.SetReadDeadline(time.Now().Add(time.Second))
		n, _ := master.Read(buf)
		out = append(out, buf[:n]...)
	}
	if string(out) != "/dev/pts/0\r\n33 101\r\n" {
		t.Errorf("through the console socket: got %q, want tty /dev/pts/0 and the consoleSize", out)
	}
	waitStatus(t, root, "t1", "stopped")
}

// exec into a running container: the same files and processes, ppid 0,
// its own status; --process FILE; ps lists both.
func TestOCIExec(t *testing.T) {
	root := t.TempDir()
	bundle := ociBundle(t, setArgs("/bin/sh", "-c", "echo from-init > /dev/shm/f; exec sleep 1000"))
	if r := ociCmd(t, root, "run", "--detach", "--bundle", bundle, "e1"); r.Code != 0 {
		t.Fatalf("run --detach: %s", r)
	}
	t.Cleanup(func() { ociCmd(t, root, "delete", "--force", "e1") })
	deadline := time.Now().Add(30 * time.Second)
	for {
		r := ociCmd(t, root, "exec", "e1", "cat", "/dev/shm/f")
		if r.Stdout == "from-init\n" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("exec never saw the first process's file: %s", r)
		}
		time.Sleep(20 * time.Millisecond)
	}
	r := ociCmd(t, root, "exec", "--env", "X=1", "--cwd", "/bin", "e1", "/bin/sh", "-c",
		`read -r a b c ppid rest < /proc/self/stat; echo "$X $(pwd) $ppid $(cat /proc/1/comm)"; exit 9`)
	expect(t, "exec", r, "1 /bin 0 sleep\n", 9)
	proc := filepath.Join(t.TempDir(), "process.json")
	writeFile(t, proc, `{"args":["/bin/sh","-c","echo $Y; id -u"],"env":["Y=from-process-file"],"cwd":"/","user":{"uid":7,"gid":7}}`, 0o644)
	expect(t, "exec --process", ociCmd(t, root, "exec", "--process", proc, "e1"), "from-process-file\n7\n", 0)
	r = ociCmd(t, root, "ps", "--format", "json", "e1")
	if r.Code != 0 || !strings.HasPrefix(r.Stdout, "[1") {
		t.Errorf("ps --format json: %s", r)
	}
	r = ociCmd(t, root, "ps", "e1")
	if !strings.Contains(r.Stdout, "sleep 1000") {
		t.Errorf("ps: %s", r)
	}
	if r := ociCmd(t, root, "kill", "e1", "TERM"); r.Code != 0 {
		t.Fatalf("kill: %s", r)
	}
	waitStatus(t, root, "e1", "stopped")
	if r := ociCmd(t, root, "exec", "e1", "true"); r.Code == 0 {
		t.Errorf("exec in a stopped container: %s", r)
	}
}

// Outside engines: glassbox run --name NAME, then exec, ps and kill by name.
func TestRunName(t *testing.T) {
	root := t.TempDir()
	cmd := exec.Command(glassboxBin, "--root", root, "run", "--name", "n1", "--", "/bin/sh", "-c", "echo hi > /tmp/n1-file; exec sleep 1000")
	out, _ := os.CreateTemp(t.TempDir(), "out")
	defer out.Close()
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	defer cmd.Process.Kill()
	deadline := time.Now().Add(30 * time.Second)
	for {
		// busybox cat: GNU cat copy_file_range()s into a host file, which glassbox refuses with ESPIPE today
		r := ociCmd(t, root, "exec", "n1", "--", busybox(t), "cat", "/tmp/n1-file")
		if r.Stdout == "hi\n" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("glassbox exec n1: %s", r)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if r := ociCmd(t, root, "ps", "n1"); !strings.Contains(r.Stdout, "sleep 1000") {
		t.Errorf("glassbox ps n1: %s", r)
	}
	if r := ociCmd(t, root, "run", "--name", "n1", "--", "true"); r.Code == 0 {
		t.Errorf("a second run --name n1: %s", r)
	}
	if r := ociCmd(t, root, "kill", "n1", "TERM"); r.Code != 0 {
		t.Fatalf("glassbox kill n1: %s", r)
	}
	select {
	case err := <-done:
		if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 128+15 {
			t.Errorf("run --name after kill TERM: %v, want exit 143", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("run --name did not end after kill")
	}
	if _, err := os.Stat(filepath.Join(root, "n1")); !os.IsNotExist(err) {
		t.Errorf("run --name left its state (%v)", err)
	}
}
