package tests

import (
	"regexp"
	"strings"
	"testing"
)

// TestPs: ps inside the sandbox sees the sandbox's own processes: the
// shell as pid 1, its background sleep and ps itself, with parents and
// states. (Not diffed with the host, whose process list is its own.)
func TestPs(t *testing.T) {
	t.Parallel()
	gb := runGlassbox(t, nil, []string{"/bin/sh", "-c", "sleep 1 & ps -eo pid,ppid,stat,comm"})
	lines := strings.Split(strings.TrimSpace(gb.Stdout), "\n")
	if gb.Code != 0 || len(lines) != 4 {
		t.Fatalf("want a header and 3 processes: %s", gb)
	}
	want := []*regexp.Regexp{
		regexp.MustCompile(`^\s+1\s+0\s+S\S*\s+sh$`),
		regexp.MustCompile(`^\s+\d+\s+1\s+[RS]\s+sleep$`), // R until it reaches its nanosleep
		regexp.MustCompile(`^\s+\d+\s+1\s+[RS]\s+ps$`),
	}
	for i, re := range want {
		if !re.MatchString(lines[i+1]) {
			t.Errorf("line %q does not match %v\n%s", lines[i+1], re, gb)
		}
	}
}

// TestProcSelf: /proc/self/{fd,status,maps,stat,cmdline} describe the
// reading process, as natively.
func TestProcSelf(t *testing.T) {
	t.Parallel()
	script := `exec 5</etc/hostname; ls /proc/self/fd | grep -c '^5$';` +
		`readlink /proc/self/fd/5; grep -c '^Sig' /proc/self/status;` +
		`grep -E '^(Name|State|Threads|Uid):' /proc/self/status | cut -f1,2;` +
		`grep -c ' /usr/bin/cat$' /proc/self/maps;` +
		`cut -d' ' -f2,3 /proc/self/stat; tr '\0' ' ' < /proc/self/cmdline; echo;` +
		`head -1 /proc/self/limits | tr -s ' '`
	diff(t, []string{"/bin/bash", "-c", script})
}

// TestReopenThroughProc: /dev/stdin and /proc/self/fd/N open the pipe or
// host descriptor behind an fd again.
func TestReopenThroughProc(t *testing.T) {
	t.Parallel()
	diff(t, []string{"/bin/bash", "-c", `echo x | cat /proc/self/fd/0; echo z | (read a < /dev/stdin; echo got $a);` +
		`exec 4< <(echo procsub); cat /proc/self/fd/4; echo out > /dev/stdout`})
}

// TestToolsInside: stat's owner/mode formatting matches natively; lsof
// and top read the sandbox's /proc (glassbox-only checks: their pids and
// numbers are the sandbox's own).
func TestToolsInside(t *testing.T) {
	t.Parallel()
	diff(t, []string{"/bin/sh", "-c", "stat -c '%A %U %G %s' /etc/passwd /usr/bin/ls; stat -c '%A %U %G' /tmp; id -un"})
	gb := runGlassbox(t, nil, []string{"/bin/sh", "-c", "lsof -p $$ | awk '{print $1, $2, $4}' | head -4; top -b -n1 | grep -c '^ *1 root'"})
	want := "COMMAND PID FD\nsh 1 cwd\nsh 1 rtd\nsh 1 txt\n1\n"
	if gb.Stdout != want || gb.Code != 0 {
		t.Errorf("lsof/top inside: got %q, want %q\n%s", gb.Stdout, want, gb)
	}
}

// TestProcInodesStable: the inode numbers under /proc/PID stay the same
// from one lookup to the next while the process lives (a listing and a
// lookup agree too), as natively; a child's directory has its own.
func TestProcInodesStable(t *testing.T) {
	t.Parallel()
	script := `same() { [ "$1" = "$2" ] && echo same || echo differ; };` +
		`same "$(stat -c %i /proc/$$/status)" "$(stat -c %i /proc/$$/status)";` +
		`same "$(stat -c %i /proc/$$)" "$(stat -c %i /proc/$$)";` +
		`same "$(ls -i /proc/$$/ | grep -w cmdline)" "$(ls -i /proc/$$/ | grep -w cmdline)";` +
		`same "$(ls -i /proc/$$/ | awk '$2=="environ"{print $1}')" "$(stat -c %i /proc/$$/environ)";` +
		`sleep 1 & same "$(stat -c %i /proc/$!/status)" "$(stat -c %i /proc/$$/status)"; wait`
	native, _ := diff(t, []string{"/bin/sh", "-c", script})
	expect(t, "native", native, "same\nsame\nsame\nsame\ndiffer\n", 0)
}
