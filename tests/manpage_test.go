package tests

import (
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// The manual page docs/glassbox.1 renders without warnings and names
// every command and flag that `glassbox help` and `glassbox help
// COMMAND` list.
func TestManPage(t *testing.T) {
	groff, err := exec.LookPath("groff")
	if err != nil {
		t.Skip("groff is not installed: apt-get install -y groff-base (scripts/setup installs it)")
	}
	page, _ := filepath.Abs(filepath.Join("..", "docs", "glassbox.1"))
	cmd := exec.Command(groff, "-man", "-Tutf8", "-ww", "-rLL=200n", page)
	out, err := cmd.Output()
	var stderr string
	if ee, ok := err.(*exec.ExitError); ok {
		stderr = string(ee.Stderr)
	}
	if err != nil || stderr != "" {
		t.Fatalf("groff %s: %v\n%s", page, err, stderr)
	}
	text := regexp.MustCompile(".\b").ReplaceAllString(string(out), "") // no overstrike
	text = strings.ReplaceAll(text, "\u2010", "-")
	text = regexp.MustCompile(`-\n\s+`).ReplaceAllString(text, "-")
	flag := regexp.MustCompile(`(^|[\s,(\[])(--?[a-z][a-z-]*)`)
	commands := []string{"run", "exec", "ps", "kill", "state", "list", "create", "start", "delete", "features", "spec"}
	helps := []string{"help"}
	for _, c := range commands {
		helps = append(helps, "help "+c)
		if !strings.Contains(text, c) {
			t.Errorf("the manual page does not name the command %s", c)
		}
	}
	for _, h := range helps {
		r := runGlassboxRaw(t, strings.Fields(h)...)
		if r.Code != 0 || r.Stdout == "" {
			t.Errorf("glassbox %s: %s", h, r)
			continue
		}
		for _, m := range flag.FindAllStringSubmatch(r.Stdout, -1) {
			f := strings.TrimRight(m[2], "-")
			if f == "-" || f == "--" {
				continue
			}
			if !regexp.MustCompile(regexp.QuoteMeta(f) + `\b`).MatchString(text) {
				t.Errorf("glassbox %s lists %s, which the manual page does not describe", h, f)
			}
		}
	}
	if r := runGlassboxRaw(t, "help", "no-such-command"); r.Code != 2 {
		t.Errorf("glassbox help no-such-command: %s", r)
	}
}
