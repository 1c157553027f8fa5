package tests

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// An interactive bash on a real terminal (a tmux pane), natively and
// under glassbox: ^C, ^Z, jobs, fg, background jobs, the window size and
// its change, exit, and the host terminal's modes afterwards.

// tmuxSession is one detached tmux server with one pane.
type tmuxSession struct {
	t    *testing.T
	sock string
	dir  string
}

const tmuxPrompt = "gbprompt$ "

func (s *tmuxSession) tmux(args ...string) string {
	s.t.Helper()
	out, err := exec.Command("tmux", append([]string{"-S", s.sock}, args...)...).CombinedOutput()
	if err != nil {
		s.t.Fatalf("tmux %v: %v: %s", args, err, out)
	}
	return string(out)
}

// screen is the pane's whole history and screen.
func (s *tmuxSession) screen() string {
	s.t.Helper()
	return s.tmux("capture-pane", "-p", "-J", "-S", "-")
}

// waitFor waits until the screen holds n matches of re; it reports how
// long that took.
func (s *tmuxSession) waitFor(re *regexp.Regexp, n int, what string) time.Duration {
	s.t.Helper()
	start := time.Now()
	for time.Since(start) < 30*time.Second {
		if len(re.FindAllStringIndex(s.screen(), -1)) >= n {
			return time.Since(start)
		}
		time.Sleep(100 * time.Millisecond)
	}
	s.t.Fatalf("timed out waiting for %s; screen:\n%s", what, s.screen())
	return 0
}

var promptRE = regexp.MustCompile(regexp.QuoteMeta(tmuxPrompt))

// prompts counts the prompts on the screen so far.
func (s *tmuxSession) prompts() int { return len(promptRE.FindAllStringIndex(s.screen(), -1)) }

// command types line and waits for the next prompt.
func (s *tmuxSession) command(line string) time.Duration {
	s.t.Helper()
	n := s.prompts()
	s.tmux("send-keys", "-l", line)
	s.tmux("send-keys", "Enter")
	return s.waitFor(promptRE, n+1, "the prompt after "+line)
}

// jobObs is what a run of the script shows.
type jobObs struct {
	CtrlCPrompt   bool   // ^C on sleep gave the prompt back within 5 s
	Stopped       bool   // ^Z printed "Stopped"
	JobsStopped   bool   // jobs listed the stopped sleep
	FgCtrlC       bool   // fg then ^C gave the prompt back
	JobsRunning   bool   // jobs listed the background sleep as Running
	TTYIn         bool   // a background read of /dev/tty stopped the job (SIGTTIN)
	TTYName       string // what tty printed (the pts number aside)
	Size, Resized string // stty size before and after the window change
	Exit          string // the shell's exit status line
	Restored      bool   // the terminal's modes after exit equal those before
}

// runJobScript runs shell (a command line) in a 120x40 tmux pane and
// types the script into it.
func runJobScript(t *testing.T, shell string) jobObs {
	dir := t.TempDir()
	s := &tmuxSession{t: t, sock: filepath.Join(dir, "sock"), dir: dir}
	script := "#!/bin/sh\nstty -g > " + dir + "/before\n" + shell + "\necho \"shell-exit=$?\"\nstty -g > " + dir + "/after\nexec sleep 600\n"
	writeFile(t, filepath.Join(dir, "run.sh"), script, 0o755)
	cmd := exec.Command("tmux", "-S", s.sock, "-f", "/dev/null", "new-session", "-d", "-x", "120", "-y", "40",
		"env", "PS1="+tmuxPrompt, "HISTFILE=/dev/null", filepath.Join(dir, "run.sh"))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("tmux new-session: %v: %s", err, out)
	}
	t.Cleanup(func() { exec.Command("tmux", "-S", s.sock, "kill-server").Run() })
	var o jobObs
	s.waitFor(promptRE, 1, "the first prompt")

	line := func(re string) string {
		m := regexp.MustCompile(re).FindAllStringSubmatch(s.screen(), -1)
		if len(m) == 0 {
			return ""
		}
		return m[len(m)-1][1]
	}
	s.command("tty")
	o.TTYName = regexp.MustCompile(`[0-9]+$`).ReplaceAllString(line(`(?m)^(/dev/\S+|not a tty)\s*$`), "N")

	// ^C on a foreground sleep.
	n := s.prompts()
	s.tmux("send-keys", "-l", "sleep 100")
	s.tmux("send-keys", "Enter")
	time.Sleep(time.Second)
	s.tmux("send-keys", "C-c")
	o.CtrlCPrompt = s.waitFor(promptRE, n+1, "the prompt after ^C") < 5*time.Second

	// ^Z stops it; jobs lists it; fg and ^C end it.
	n = s.prompts()
	s.tmux("send-keys", "-l", "sleep 100")
	s.tmux("send-keys", "Enter")
	time.Sleep(time.Second)
	s.tmux("send-keys", "C-z")
	s.waitFor(promptRE, n+1, "the prompt after ^Z")
	o.Stopped = regexp.MustCompile(`\[1\]\+\s+Stopped\s+sleep 100`).MatchString(s.screen())
	s.command("jobs")
	o.JobsStopped = len(regexp.MustCompile(`\[1\]\+\s+Stopped\s+sleep 100`).FindAllString(s.screen(), -1)) >= 2
	n = s.prompts()
	s.tmux("send-keys", "-l", "fg")
	s.tmux("send-keys", "Enter")
	time.Sleep(time.Second)
	s.tmux("send-keys", "C-c")
	o.FgCtrlC = s.waitFor(promptRE, n+1, "the prompt after fg, ^C") < 5*time.Second

	// A background job.
	s.command("sleep 100 &")
	s.command("jobs")
	o.JobsRunning = regexp.MustCompile(`\[1\]\+\s+Running\s+sleep 100 &`).MatchString(s.screen())
	s.command("kill %1; wait")

	// A background job reading the terminal is stopped.
	s.command("cat /dev/tty &")
	s.command("sleep 1; jobs")
	o.TTYIn = regexp.MustCompile(`\[1\]\+\s+Stopped\s+cat /dev/tty`).MatchString(s.screen())
	s.command("kill -9 %1; wait")

	// The window size, and its change.
	s.command("stty size")
	o.Size = line(`(?m)^([0-9]+ [0-9]+)\s*$`)
	s.tmux("resize-window", "-x", "100", "-y", "30")
	time.Sleep(500 * time.Millisecond)
	s.command("stty size")
	o.Resized = line(`(?m)^([0-9]+ [0-9]+)\s*$`)

	s.tmux("send-keys", "-l", "exit")
	s.tmux("send-keys", "Enter")
	exitRE := regexp.MustCompile(`shell-exit=[0-9]+`)
	s.waitFor(exitRE, 1, "the shell's exit")
	o.Exit = exitRE.FindString(s.screen())
	for i := 0; i < 50; i++ {
		if _, err := os.Stat(filepath.Join(dir, "after")); err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	before, _ := os.ReadFile(filepath.Join(dir, "before"))
	after, _ := os.ReadFile(filepath.Join(dir, "after"))
	o.Restored = len(before) > 0 && string(before) == string(after)
	if t.Failed() || testing.Verbose() {
		t.Logf("%s screen:\n%s", shell, strings.TrimRight(s.screen(), "\n"))
	}
	return o
}

func TestInteractiveBashJobControl(t *testing.T) {
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Fatalf("tmux is needed (scripts/setup installs it): %v", err)
	}
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	bash := "/bin/bash --norc --noprofile -i"
	native := runJobScript(t, bash)
	gb := runJobScript(t, glassboxBin+" run -- "+bash)
	want := jobObs{CtrlCPrompt: true, Stopped: true, JobsStopped: true, FgCtrlC: true, JobsRunning: true,
		TTYIn: true, TTYName: "/dev/pts/N", Size: "40 120", Resized: "30 100", Exit: "shell-exit=0", Restored: true}
	if native != want {
		t.Errorf("native run: %+v, want %+v", native, want)
	}
	if gb != native {
		t.Errorf("glassbox: %+v\nnative:   %+v", gb, native)
	}
}

// A glassbox whose stdin is a pipe and whose stdout is the terminal: the
// guest's stdin stays a pipe, its stdout is a terminal.
func TestTerminalMixedStdio(t *testing.T) {
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Fatalf("tmux is needed (scripts/setup installs it): %v", err)
	}
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	probe := "/bin/sh -c '[ -p /dev/stdin ] && echo stdin-pipe; tty; [ -t 1 ] && echo stdout-tty; [ -t 2 ] && echo stderr-tty'"
	screen := func(run string) string {
		dir := t.TempDir()
		sock := filepath.Join(dir, "sock")
		writeFile(t, filepath.Join(dir, "run.sh"), "#!/bin/sh\necho | "+run+probe+"\necho probe-done\nexec sleep 600\n", 0o755)
		if out, err := exec.Command("tmux", "-S", sock, "-f", "/dev/null", "new-session", "-d", "-x", "80", "-y", "20",
			filepath.Join(dir, "run.sh")).CombinedOutput(); err != nil {
			t.Fatalf("tmux: %v: %s", err, out)
		}
		defer exec.Command("tmux", "-S", sock, "kill-server").Run()
		for start := time.Now(); time.Since(start) < 30*time.Second; time.Sleep(100 * time.Millisecond) {
			out, _ := exec.Command("tmux", "-S", sock, "capture-pane", "-p").Output()
			if strings.Contains(string(out), "probe-done") {
				return regexp.MustCompile(`[0-9]+`).ReplaceAllString(strings.TrimSpace(string(out)), "N")
			}
		}
		t.Fatalf("%s: timed out", run)
		return ""
	}
	native := screen("")
	gb := screen(glassboxBin + " run -- ")
	want := "stdin-pipe\nnot a tty\nstdout-tty\nstderr-tty\nprobe-done"
	if native != want {
		t.Errorf("native: %q, want %q", native, want)
	}
	if gb != native {
		t.Errorf("glassbox: %q\nnative:   %q", gb, native)
	}
}

// hangupObs runs shell in a tmux pane whose guest ignores SIGHUP and reads
// the terminal; the pane is then killed (its terminal hangs up). It
// returns what the guest wrote after its read ended.
func hangupObs(t *testing.T, shellIn func(dir string) string) string {
	dir := t.TempDir()
	shell := shellIn(dir)
	sock := filepath.Join(dir, "sock")
	out := filepath.Join(dir, "out")
	script := "#!/bin/sh\n" + shell + ` -c 'trap "" HUP; echo ready > ` + out + `.ready; cat; echo "cat ended: $?" > ` + out + "'\n"
	writeFile(t, filepath.Join(dir, "run.sh"), script, 0o755)
	cmd := exec.Command("tmux", "-S", sock, "-f", "/dev/null", "new-session", "-d", "-x", "80", "-y", "24", filepath.Join(dir, "run.sh"))
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("tmux new-session: %v: %s", err, b)
	}
	t.Cleanup(func() { exec.Command("tmux", "-S", sock, "kill-server").Run() })
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if _, err := os.Stat(out + ".ready"); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s never started", shell)
		}
	}
	// Let cat block in read: a read that starts after the hangup sees
	// end of file (exit 0) where one already waiting gets EIO (exit 1),
	// natively and inside glassbox alike.
	time.Sleep(time.Second)
	exec.Command("tmux", "-S", sock, "kill-server").Run()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if b, err := os.ReadFile(out); err == nil && len(b) > 0 {
			return string(b)
		}
	}
	return "(the guest never finished its read)"
}

// TestTerminalHangup: when the host terminal goes away, a guest that
// ignores SIGHUP and reads the terminal sees end of file, as on Linux, so
// the sandbox does not outlive its terminal.
func TestTerminalHangup(t *testing.T) {
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	native := hangupObs(t, func(string) string { return "/bin/sh" })
	gb := hangupObs(t, func(dir string) string { return glassboxBin + " run --bind " + dir + ":" + dir + " -- /bin/sh" })
	if native != gb {
		t.Errorf("after a hangup: native %q, glassbox %q", native, gb)
	}
}
