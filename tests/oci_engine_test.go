package tests

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Container engines running containers inside glassbox: podman (conmon
// calls glassbox as its OCI runtime) and containerd (its runc shim with
// glassbox as the runc binary). The image is a directory holding static
// busybox. Each engine is optional: without it the test skips and says
// how to install it (scripts/setup does).

// engineRun runs argv with a timeout and returns its result (stdout and
// stderr in buffers: the engines' clients do not leave the runtime's
// processes holding them).
func engineRun(t *testing.T, stdin string, argv ...string) res {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), runTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.Stdin = strings.NewReader(stdin)
	cmd.WaitDelay = 5 * time.Second
	err := cmd.Run()
	r := res{Stdout: stdout.String(), Stderr: stderr.String()}
	if ctx.Err() != nil {
		t.Fatalf("%q timed out\n%s", argv, r)
	}
	if ee, ok := err.(*exec.ExitError); ok {
		r.Code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("%q: %v", argv, err)
	}
	return r
}

// needRoot skips engine tests that run rootful engines.
func needRoot(t *testing.T, what string) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skipf("%s runs rootful here: run the test as root", what)
	}
}

var podmanImage struct {
	once sync.Once
	name string
	err  error
}

// podman returns the podman command line with glassbox as the runtime,
// and the name of the busybox image (imported once per test binary).
func podman(t *testing.T) ([]string, string) {
	t.Helper()
	p, err := exec.LookPath("podman")
	if err != nil {
		t.Skip("podman is not installed: apt-get install -y podman (scripts/setup installs it)")
	}
	needRoot(t, "podman")
	if buildErr != nil {
		t.Fatalf("glassbox unavailable: %v", buildErr)
	}
	podmanImage.once.Do(func() {
		dir := filepath.Join(workDir, "podman-image")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			podmanImage.err = err
			return
		}
		busyboxRootfs(t, dir)
		name := "localhost/glassbox-test-busybox:latest"
		podmanImage.name = name
		if exec.Command(p, "image", "exists", name).Run() == nil {
			return // imported by an earlier run
		}
		tar := exec.Command("tar", "-C", filepath.Join(dir, "rootfs"), "-c", ".")
		imp := exec.Command(p, "import", "-", name)
		imp.Stdin, _ = tar.StdoutPipe()
		var msg bytes.Buffer
		imp.Stdout, imp.Stderr = &msg, &msg
		if err := imp.Start(); err != nil {
			podmanImage.err = err
			return
		}
		if err := tar.Run(); err != nil {
			podmanImage.err = fmt.Errorf("tar: %v", err)
		}
		if err := imp.Wait(); err != nil {
			podmanImage.err = fmt.Errorf("podman import: %v\n%s", err, msg.String())
		}
	})
	if podmanImage.err != nil {
		t.Fatal(podmanImage.err)
	}
	return []string{p, "--runtime", glassboxBin}, podmanImage.name
}

// podmanRunArgs are the flags every test container gets (runsc needs the
// same ulimit here; glassbox does not, but the command has it).
var podmanRunArgs = []string{"run", "--rm", "--network=none", "--ulimit", "nofile=1024:1024"}

func podmanCmd(pm []string, args ...string) []string {
	return append(append([]string(nil), pm...), args...)
}

// podman run: the command's stdout and exit status, as busybox gives
// them natively; a death by signal N is 128+N.
func TestPodmanRun(t *testing.T) {
	pm, img := podman(t)
	script := "echo hello; echo to-stderr >&2; exit 3"
	native := runNative(t, []string{busybox(t), "sh", "-c", script})
	r := engineRun(t, "", podmanCmd(pm, append(podmanRunArgs, img, "/bin/sh", "-c", script)...)...)
	expect(t, "podman run", r, native.Stdout, native.Code)
	if !strings.Contains(r.Stderr, "to-stderr") {
		t.Errorf("podman run: the container's stderr is missing: %s", r)
	}
	r = engineRun(t, "", podmanCmd(pm, append(podmanRunArgs, img, "/bin/sh", "-c", "kill -9 $$")...)...)
	expect(t, "podman run, killed by SIGKILL", r, "", 137)
	r = engineRun(t, "line-in\n", podmanCmd(pm, append(podmanRunArgs, "-i", img, "/bin/sh", "-c", "read x; echo got $x")...)...)
	expect(t, "podman run -i", r, "got line-in\n", 0)
	// A program that is not there: podman's 127, as with runc.
	for _, prog := range []string{"no-such-program", "/no/such/program"} {
		if r := engineRun(t, "", podmanCmd(pm, append(podmanRunArgs, img, prog)...)...); r.Code != 127 {
			t.Errorf("podman run %s: want status 127\n%s", prog, r)
		}
	}
}

// -e variables and --hostname reach the container.
func TestPodmanEnvHostname(t *testing.T) {
	pm, img := podman(t)
	r := engineRun(t, "", podmanCmd(pm, append(podmanRunArgs, "-e", "FOO=bar baz", "--hostname", "boxhost",
		img, "/bin/sh", "-c", `echo "$FOO"; hostname; cat /etc/hostname; echo`)...)...)
	expect(t, "podman run -e --hostname", r, "bar baz\nboxhost\nboxhost\n", 0)
}

// --read-only (with podman's tmpfs on /tmp, /run, /var/tmp), --user and
// --pids-limit.
func TestPodmanOptions(t *testing.T) {
	pm, img := podman(t)
	r := engineRun(t, "", podmanCmd(pm, append(podmanRunArgs, "--read-only", img,
		"/bin/sh", "-c", "touch /x 2>/dev/null || echo root-refused; touch /tmp/y /run/z /var/tmp/w && echo tmpfs-ok")...)...)
	expect(t, "podman run --read-only", r, "root-refused\ntmpfs-ok\n", 0)
	r = engineRun(t, "", podmanCmd(pm, append(podmanRunArgs, "--user", "1000:1001", img, "/bin/sh", "-c", "id -u; id -g")...)...)
	expect(t, "podman run --user", r, "1000\n1001\n", 0)
	r = engineRun(t, "", podmanCmd(pm, append(podmanRunArgs, "--pids-limit", "4", img,
		"/bin/sh", "-c", "for i in 1 2 3 4 5 6; do sleep 2 & done")...)...)
	if r.Code == 0 || !strings.Contains(r.Stderr, "can't fork") { // busybox sh gives up with status 2
		t.Errorf("podman run --pids-limit 4: want a refused fork\n%s", r)
	}
}

// --cap-drop/--cap-add: the container's root has the capabilities the
// spec gives it, and only those, as with runc.
func TestPodmanCapabilities(t *testing.T) {
	pm, img := podman(t)
	script := "grep CapEff /proc/self/status; touch /t/f; chown 5 /t/f && echo chown-ok; " +
		"mknod /t/n c 1 3 2>/dev/null || echo mknod-refused"
	r := engineRun(t, "", podmanCmd(pm, append(podmanRunArgs, "--tmpfs", "/t", "--cap-drop", "ALL", "--cap-add", "CHOWN", img,
		"/bin/sh", "-c", script)...)...)
	expect(t, "podman run --cap-drop ALL --cap-add CHOWN", r, "CapEff:\t0000000000000001\nchown-ok\nmknod-refused\n", 0)
}

// -v HOSTDIR:/data: the container reads the host's files and its writes
// reach the host; :ro refuses them.
func TestPodmanVolume(t *testing.T) {
	pm, img := podman(t)
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "in"), "from-host\n", 0o644)
	r := engineRun(t, "", podmanCmd(pm, append(podmanRunArgs, "-v", dir+":/data",
		img, "/bin/sh", "-c", "cat /data/in; echo from-container > /data/out")...)...)
	expect(t, "podman run -v", r, "from-host\n", 0)
	if b, err := os.ReadFile(filepath.Join(dir, "out")); err != nil || string(b) != "from-container\n" {
		t.Errorf("the container's write did not reach the host: %q %v", b, err)
	}
	r = engineRun(t, "", podmanCmd(pm, append(podmanRunArgs, "-v", dir+":/data:ro",
		img, "/bin/sh", "-c", "echo x > /data/ro 2>/dev/null || echo refused")...)...)
	expect(t, "podman run -v :ro", r, "refused\n", 0)
	if _, err := os.Stat(filepath.Join(dir, "ro")); err == nil {
		t.Error("a read-only volume was written")
	}
}

// The network podman prepared: with its bridge the container's sockets
// live in the engine's namespace (its veth shows, through glassbox'
// netlink); with --network=none only the sandbox's private loopback.
// No traffic leaves the machine's loopback.
func TestPodmanNetwork(t *testing.T) {
	pm, img := podman(t)
	list := []string{"/bin/sh", "-c", "ip -o -4 addr show | while read n dev rest; do echo $dev; done"}
	r := engineRun(t, "", podmanCmd(pm, append([]string{"run", "--rm", "--ulimit", "nofile=1024:1024", img}, list...)...)...)
	if r.Code != 0 || !strings.Contains(r.Stdout, "lo\n") || !strings.Contains(r.Stdout, "eth0\n") {
		t.Errorf("podman run (bridge): want lo and the engine's eth0\n%s", r)
	}
	r = engineRun(t, "", podmanCmd(pm, append(append(append([]string(nil), podmanRunArgs...), img), list...)...)...)
	expect(t, "podman run --network=none", r, "lo\n", 0)
}

// -t: the container's stdio is a terminal of the sandbox.
func TestPodmanTTY(t *testing.T) {
	pm, img := podman(t)
	r := engineRun(t, "", podmanCmd(pm, append(podmanRunArgs, "-t", img, "/bin/sh", "-c", "tty; exit 4")...)...)
	expect(t, "podman run -t", r, "/dev/pts/0\r\n", 4)
}

// -d, then podman exec (output, status, a terminal), podman inspect's
// State.Pid being the glassbox sandbox process, and podman stop.
func TestPodmanExecStop(t *testing.T) {
	pm, img := podman(t)
	name := "glassbox-test-" + strconv.Itoa(os.Getpid())
	r := engineRun(t, "", podmanCmd(pm, "run", "-d", "--name", name, "--network=none", "--ulimit", "nofile=1024:1024",
		img, "/bin/sh", "-c", "echo ready > /dev/shm/r; exec sleep 1000")...)
	if r.Code != 0 {
		t.Fatalf("podman run -d: %s", r)
	}
	t.Cleanup(func() { engineRun(t, "", podmanCmd(pm, "rm", "-f", name)...) })
	deadline := time.Now().Add(30 * time.Second)
	for {
		r = engineRun(t, "", podmanCmd(pm, "exec", name, "cat", "/dev/shm/r")...)
		if r.Stdout == "ready\n" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("podman exec never saw the container's file: %s", r)
		}
		time.Sleep(50 * time.Millisecond)
	}
	r = engineRun(t, "", podmanCmd(pm, "exec", "-e", "X=in-exec", name, "/bin/sh", "-c", `echo "$X $(cat /proc/1/comm)"; exit 5`)...)
	expect(t, "podman exec", r, "in-exec sleep\n", 5)
	r = engineRun(t, "", podmanCmd(pm, "exec", "-t", name, "tty")...)
	expect(t, "podman exec -t", r, "/dev/pts/0\r\n", 0)
	r = engineRun(t, "", podmanCmd(pm, "inspect", "--format", "{{.State.Pid}} {{.State.Status}}", name)...)
	var pid int
	var status string
	fmt.Sscan(r.Stdout, &pid, &status)
	exe, _ := os.Readlink("/proc/" + strconv.Itoa(pid) + "/exe")
	if status != "running" || exe != glassboxBin {
		t.Errorf("podman inspect: State.Pid %d runs %q (want %s), status %q", pid, exe, glassboxBin, status)
	}
	if r := engineRun(t, "", podmanCmd(pm, "stop", "-t", "2", name)...); r.Code != 0 {
		t.Fatalf("podman stop: %s", r)
	}
	r = engineRun(t, "", podmanCmd(pm, "inspect", "--format", "{{.State.Status}}", name)...)
	if strings.TrimSpace(r.Stdout) != "exited" {
		t.Errorf("after podman stop: status %q", r.Stdout)
	}
	if _, err := os.Stat("/proc/" + strconv.Itoa(pid)); err == nil {
		if st, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat"); !strings.Contains(string(st), ") Z") {
			t.Errorf("the sandbox process %d still runs after podman stop", pid)
		}
	}
}

// containerd: a daemon of the test's own (its own root, state and
// socket), driven with ctr; the runc shim calls glassbox as its runc
// binary (ctr run --runc-binary). runc, which comes with containerd,
// runs the same containers for comparison.
func TestContainerd(t *testing.T) {
	for _, b := range []string{"containerd", "ctr"} {
		if _, err := exec.LookPath(b); err != nil {
			t.Skipf("%s is not installed: apt-get install -y containerd (scripts/setup installs it)", b)
		}
	}
	needRoot(t, "containerd")
	if buildErr != nil {
		t.Fatalf("glassbox unavailable: %v", buildErr)
	}
	dir, err := os.MkdirTemp("", "glassbox-ctrd-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	writeFile(t, filepath.Join(dir, "config.toml"), "version = 2\ndisabled_plugins = [\"io.containerd.grpc.v1.cri\"]\n", 0o644)
	sock := filepath.Join(dir, "containerd.sock")
	logf, _ := os.Create(filepath.Join(dir, "containerd.log"))
	defer logf.Close()
	d := exec.Command("containerd", "--config", filepath.Join(dir, "config.toml"), "--root", filepath.Join(dir, "root"),
		"--state", filepath.Join(dir, "state"), "--address", sock)
	d.Stdout, d.Stderr = logf, logf
	if err := d.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		d.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { d.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			d.Process.Kill()
			<-done
		}
	})
	ns := "glassbox-test-" + strconv.Itoa(os.Getpid())
	// The runc shim keeps the runtime's state under /run/containerd/runc/NS.
	t.Cleanup(func() { os.RemoveAll(filepath.Join("/run/containerd/runc", ns)) })
	ctr := func(args ...string) res {
		return engineRun(t, "", append([]string{"ctr", "--address", sock, "--namespace", ns}, args...)...)
	}
	deadline := time.Now().Add(30 * time.Second)
	for ctr("version").Code != 0 {
		if time.Now().After(deadline) {
			b, _ := os.ReadFile(filepath.Join(dir, "containerd.log"))
			t.Fatalf("containerd did not come up:\n%s", b)
		}
		time.Sleep(100 * time.Millisecond)
	}
	rootfs := busyboxRootfs(t, t.TempDir())
	script := "echo hello from $(cat /proc/1/comm); echo err >&2; exit 4"
	native := ctr("run", "--rm", "--runc-binary", "runc", "--rootfs", rootfs, "native-1", "/bin/sh", "-c", script)
	gb := ctr("run", "--rm", "--runc-binary", glassboxBin, "--rootfs", rootfs, "gb-1", "/bin/sh", "-c", script)
	if native.Code == 0 && native.Stdout == "" {
		t.Fatalf("runc under containerd gave nothing to compare with: %s", native)
	}
	if gb.Stdout != native.Stdout || gb.Code != native.Code {
		t.Errorf("ctr run: glassbox differs from runc\n===== runc: %s\n===== glassbox: %s", native, gb)
	}
	// Detached, then exec (output and status), kill, and the status.
	if r := ctr("run", "-d", "--runc-binary", glassboxBin, "--rootfs", rootfs, "gb-2", "/bin/sh", "-c", "echo up > /dev/shm/up; exec sleep 1000"); r.Code != 0 {
		t.Fatalf("ctr run -d: %s", r)
	}
	deadline = time.Now().Add(30 * time.Second)
	for {
		r := ctr("task", "exec", "--exec-id", "e"+strconv.Itoa(int(time.Now().UnixNano()%1e9)), "gb-2", "/bin/sh", "-c", "cat /dev/shm/up; exit 6")
		if r.Stdout == "up\n" {
			if r.Code != 6 {
				t.Errorf("ctr task exec: status %d, want 6", r.Code)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("ctr task exec: %s", r)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if r := ctr("task", "kill", "--signal", "SIGKILL", "gb-2"); r.Code != 0 {
		t.Fatalf("ctr task kill: %s", r)
	}
	deadline = time.Now().Add(30 * time.Second)
	for !strings.Contains(ctr("task", "ls").Stdout, "STOPPED") {
		if time.Now().After(deadline) {
			t.Fatalf("ctr task ls: gb-2 never stopped: %s", ctr("task", "ls"))
		}
		time.Sleep(50 * time.Millisecond)
	}
	ctr("task", "rm", "gb-2")
	ctr("container", "rm", "gb-2")
}

// Docker: a dockerd of the test's own (data, exec root and socket in a
// temporary directory, no bridge, no iptables) with glassbox as a runtime
// through daemon.json, as the README says.
func TestDocker(t *testing.T) {
	dockerd, err := exec.LookPath("dockerd")
	if err != nil {
		t.Skip("dockerd is not installed: apt-get install -y docker.io (scripts/setup installs it)")
	}
	client := "/usr/bin/docker" // Debian's, matching its dockerd
	if _, err := os.Stat(client); err != nil {
		if client, err = exec.LookPath("docker"); err != nil {
			t.Skip("no docker client: apt-get install -y docker.io")
		}
	}
	needRoot(t, "dockerd")
	if buildErr != nil {
		t.Fatalf("glassbox unavailable: %v", buildErr)
	}
	dir, err := os.MkdirTemp("", "glassbox-docker-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	writeFile(t, filepath.Join(dir, "daemon.json"), `{"runtimes": {"glassbox": {"path": "`+glassboxBin+`"}}}`, 0o644)
	sock := "unix://" + filepath.Join(dir, "docker.sock")
	logf, _ := os.Create(filepath.Join(dir, "dockerd.log"))
	defer logf.Close()
	d := exec.Command(dockerd, "--config-file", filepath.Join(dir, "daemon.json"), "--data-root", filepath.Join(dir, "data"),
		"--exec-root", filepath.Join(dir, "exec"), "--pidfile", filepath.Join(dir, "pid"), "-H", sock,
		"--bridge=none", "--iptables=false", "--ip6tables=false")
	d.Stdout, d.Stderr = logf, logf
	if err := d.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		d.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { d.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			d.Process.Kill()
			<-done
		}
	})
	docker := func(stdin string, args ...string) res {
		return engineRun(t, stdin, append([]string{client, "-H", sock}, args...)...)
	}
	deadline := time.Now().Add(60 * time.Second)
	for docker("", "version").Code != 0 {
		if time.Now().After(deadline) {
			b, _ := os.ReadFile(filepath.Join(dir, "dockerd.log"))
			t.Fatalf("dockerd did not come up:\n%s", b)
		}
		time.Sleep(200 * time.Millisecond)
	}
	var tarball bytes.Buffer
	tar := exec.Command("tar", "-C", busyboxRootfs(t, t.TempDir()), "-c", ".")
	tar.Stdout = &tarball
	if err := tar.Run(); err != nil {
		t.Fatal(err)
	}
	if r := docker(tarball.String(), "import", "-", "glassbox-test-busybox:latest"); r.Code != 0 {
		t.Fatalf("docker import: %s", r)
	}
	vol := t.TempDir()
	r := docker("", "run", "--runtime=glassbox", "--rm", "--network=none", "-e", "FOO=bar", "-v", vol+":/data",
		"glassbox-test-busybox", "/bin/sh", "-c", "echo $FOO; echo written > /data/f; exit 3")
	expect(t, "docker run --runtime=glassbox", r, "bar\n", 3)
	if b, _ := os.ReadFile(filepath.Join(vol, "f")); string(b) != "written\n" {
		t.Errorf("docker -v: the write did not reach the host (%q)", b)
	}
	r = docker("", "run", "--runtime=glassbox", "--rm", "-t", "--network=none", "glassbox-test-busybox", "tty")
	expect(t, "docker run -t", r, "/dev/pts/0\r\n", 0)
}
