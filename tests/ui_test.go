package tests

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// uiView is the part of /api/snapshot the test looks at.
type uiView struct {
	Running bool `json:"running"`
	Procs   []struct {
		PID   int    `json:"pid"`
		PPID  int    `json:"ppid"`
		Comm  string `json:"comm"`
		State string `json:"state"`
		FDs   []struct {
			FD     int    `json:"fd"`
			Target string `json:"target"`
			Kind   string `json:"kind"`
			Mode   string `json:"mode"`
		} `json:"fds"`
	} `json:"procs"`
	Pipes []struct {
		Name    string `json:"name"`
		Writers []struct {
			PID int `json:"pid"`
		} `json:"writers"`
		Readers []struct {
			PID int `json:"pid"`
		} `json:"readers"`
	} `json:"pipes"`
}

// pipeBetween finds the pipe yes writes to and head reads from, by the
// pipe:[N] names in their descriptor tables.
func (v *uiView) pipeBetween(writer, reader string) (name string, wpid, rpid int) {
	ends := map[string]map[string]int{} // pipe name → "w"/"r" → pid
	for _, p := range v.Procs {
		for _, f := range p.FDs {
			if f.Kind != "pipe" {
				continue
			}
			if ends[f.Target] == nil {
				ends[f.Target] = map[string]int{}
			}
			if p.Comm == writer && strings.Contains(f.Mode, "w") {
				ends[f.Target]["w"] = p.PID
			}
			if p.Comm == reader && strings.Contains(f.Mode, "r") {
				ends[f.Target]["r"] = p.PID
			}
		}
	}
	for n, e := range ends {
		if e["w"] != 0 && e["r"] != 0 {
			return n, e["w"], e["r"]
		}
	}
	return "", 0, 0
}

// lockedBuf collects a process's stderr while the test reads it.
type lockedBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestDashboard runs a pipeline under --ui and checks, over HTTP and then
// in headless Chromium, that the dashboard shows yes and head joined by a
// pipe.
func TestDashboard(t *testing.T) {
	if buildErr != nil {
		t.Fatalf("glassbox unavailable: %v", buildErr)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 45*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, glassboxBin, "run", "--ui=127.0.0.1:0", "--env", "PATH=/usr/bin:/bin", "--",
		"/bin/sh", "-c", "yes | head -c 100000000 > /dev/null; sleep 2")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	stderr := &lockedBuf{}
	pr, pw := io.Pipe()
	cmd.Stderr = io.MultiWriter(stderr, pw)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait(); pw.Close() }()
	defer func() {
		if cmd.ProcessState == nil {
			syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-exited
		}
	}()

	// glassbox: dashboard at http://127.0.0.1:PORT/
	urlc := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		re := regexp.MustCompile(`dashboard at (http://\S+)`)
		for sc.Scan() {
			if m := re.FindStringSubmatch(sc.Text()); m != nil {
				select {
				case urlc <- m[1]:
				default:
				}
			}
		}
		io.Copy(io.Discard, pr) // never block glassbox' stderr
	}()
	var url string
	select {
	case url = <-urlc:
	case err := <-exited:
		t.Fatalf("glassbox exited (%v) before printing the URL:\n%s", err, stderr)
	case <-time.After(10 * time.Second):
		t.Fatalf("no dashboard URL on stderr:\n%s", stderr)
	}

	// The snapshot shows yes and head connected by one pipe.
	var v uiView
	var pipe string
	var yesPID, headPID int
	deadline := time.Now().Add(10 * time.Second)
	for pipe == "" {
		if time.Now().After(deadline) {
			t.Fatalf("no yes→head pipe in the snapshot; last one: %+v\nstderr:\n%s", v, stderr)
		}
		time.Sleep(50 * time.Millisecond)
		body, err := httpGet(url + "api/snapshot")
		if err != nil {
			continue
		}
		v = uiView{}
		if err := json.Unmarshal(body, &v); err != nil {
			t.Fatalf("snapshot is not JSON: %v\n%.500s", err, body)
		}
		pipe, yesPID, headPID = v.pipeBetween("yes", "head")
	}
	t.Logf("yes [%d] → %s → head [%d]", yesPID, pipe, headPID)
	found := false
	for _, p := range v.Pipes {
		if p.Name == pipe && len(p.Writers) > 0 && len(p.Readers) > 0 {
			found = true
		}
	}
	if !found {
		t.Errorf("the view's pipe list lacks %s: %+v", pipe, v.Pipes)
	}
	page, err := httpGet(url)
	if err != nil || !bytes.Contains(page, []byte("/static/app.js")) {
		t.Fatalf("GET %s: %v\n%.300s", url, err, page)
	}

	t.Run("chromium", func(t *testing.T) { checkInBrowser(t, url, yesPID, headPID, pipe) })

	// The dashboard outlives the guest; Ctrl-C then ends glassbox with
	// the guest's status.
	for !strings.Contains(stderr.String(), "has exited; the dashboard stays") {
		select {
		case err := <-exited:
			t.Fatalf("glassbox ended before Ctrl-C (%v):\n%s", err, stderr)
		case <-time.After(50 * time.Millisecond):
		}
	}
	if _, err := httpGet(url + "api/snapshot"); err != nil {
		t.Errorf("dashboard gone after the guest exited: %v", err)
	}
	cmd.Process.Signal(syscall.SIGINT)
	select {
	case err := <-exited:
		if err != nil {
			t.Errorf("glassbox after Ctrl-C: %v (want exit 0, the guest's status)\n%s", err, stderr)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("glassbox still running 10 s after SIGINT:\n%s", stderr)
	}
	if s := stderr.String(); strings.Contains(s, "panic") || strings.Contains(s, "DATA RACE") {
		t.Errorf("glassbox stderr:\n%s", s)
	}
}

func httpGet(url string) ([]byte, error) {
	c := http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	return io.ReadAll(resp.Body)
}

// checkInBrowser loads the page in headless Chromium and checks the DOM
// the page's script built: process rows for yes and head, and the pipe
// between them in the list and as a line. It also saves a screenshot
// (GLASSBOX_UI_SCREENSHOT=FILE keeps a copy).
func checkInBrowser(t *testing.T, url string, yesPID, headPID int, pipe string) {
	browser := ""
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			browser = p
			break
		}
	}
	if browser == "" {
		t.Skip("no chromium on PATH: install it (apt-get install -y chromium) to check the page in a browser")
	}
	dir := t.TempDir()
	chrome := func(url string, args ...string) []byte {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		args = append([]string{"--headless", "--disable-gpu", "--no-sandbox", "--no-first-run",
			"--disable-dev-shm-usage", "--user-data-dir=" + filepath.Join(dir, "profile")}, args...)
		cmd := exec.CommandContext(ctx, browser, append(args, url)...)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("%s %q: %v\n%s", browser, args, err, stderr.Bytes())
		}
		return out
	}
	dom := string(chrome(url, "--dump-dom"))
	for _, want := range []string{
		`data-pid="` + strconv.Itoa(yesPID) + `"`, `data-comm="yes"`,
		`data-pid="` + strconv.Itoa(headPID) + `"`, `data-comm="head"`,
		`class="pipe" data-pipe="` + pipe + `"`,
		`data-from="` + strconv.Itoa(yesPID) + `" data-to="` + strconv.Itoa(headPID) + `"`,
	} {
		if !strings.Contains(dom, want) {
			t.Errorf("the DOM lacks %s", want)
		}
	}
	li := regexp.MustCompile(`<li class="pipe" data-pipe="` + regexp.QuoteMeta(pipe) + `" data-writers="([^"]*)" data-readers="([^"]*)"`).FindStringSubmatch(dom)
	if li == nil || !strings.Contains(" "+li[1]+" ", " "+strconv.Itoa(yesPID)+" ") || !strings.Contains(" "+li[2]+" ", " "+strconv.Itoa(headPID)+" ") {
		t.Errorf("pipe list item for %s: %q (want writer %d, reader %d)", pipe, li, yesPID, headPID)
	}
	if t.Failed() {
		t.Logf("DOM:\n%s", dom)
	}

	shot := filepath.Join(dir, "dashboard.png")
	// With head selected: its fd table shows the pipe and who holds the
	// other end.
	chrome(url+"#pid="+strconv.Itoa(headPID), "--screenshot="+shot, "--window-size=1400,1000", "--hide-scrollbars")
	png, err := os.ReadFile(shot)
	if err != nil || !bytes.HasPrefix(png, []byte("\x89PNG")) {
		t.Fatalf("no screenshot at %s: %v", shot, err)
	}
	t.Logf("screenshot: %s (%d bytes)", shot, len(png))
	if keep := os.Getenv("GLASSBOX_UI_SCREENSHOT"); keep != "" {
		if err := os.WriteFile(keep, png, 0o644); err != nil {
			t.Error(err)
		}
	}
}
