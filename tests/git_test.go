package tests

import (
	"os/exec"
	"strconv"
	"testing"
)

// gitDaemonScript makes a repository with two commits, serves it with
// `git daemon` on 127.0.0.1:$1, clones it over git:// and prints the
// clone's log, then stops the daemon. Dates and names are fixed, so the
// commit ids are too.
const gitDaemonScript = `
set -e
port=$1
D=$(mktemp -d /tmp/gitd.XXXXXX)
trap 'rm -rf "$D"' EXIT
cd "$D"
export HOME=$D GIT_CONFIG_NOSYSTEM=1 GIT_AUTHOR_NAME=a GIT_AUTHOR_EMAIL=a@example.com \
  GIT_COMMITTER_NAME=a GIT_COMMITTER_EMAIL=a@example.com \
  GIT_AUTHOR_DATE=2020-01-01T00:00:00Z GIT_COMMITTER_DATE=2020-01-01T00:00:00Z
git init -q -b main srv/repo
cd srv/repo
echo hi > f; git add f; git commit -qm one
echo two >> f; git commit -qam two
cd "$D"
git daemon --export-all --base-path="$D/srv" --listen=127.0.0.1 --port="$port" \
  --reuseaddr --pid-file="$D/pid" 2>"$D/err" &
i=0
until git ls-remote "git://127.0.0.1:$port/repo" >/dev/null 2>&1; do
  i=$((i+1)); [ $i -lt 300 ] || { echo "daemon did not start"; cat "$D/err"; exit 1; }
  sleep 0.1
done
git clone -q "git://127.0.0.1:$port/repo" clone
git -C clone log --oneline
git -C clone rev-parse HEAD
git -C clone fsck --no-progress 2>&1 | grep -v '^Checking' || true
cat clone/f
kill "$(cat "$D/pid")"
wait || true
echo done
`

// TestGitDaemonClone: a git daemon and a git clone talking over the
// sandbox's private loopback (--net=none) do what they do on the host.
func TestGitDaemonClone(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Fatalf("git not found (%v): apt-get install git", err)
	}
	// Natively the port must be free on the host; in the sandbox any
	// port is, so the same one serves both.
	port := strconv.Itoa(freeHostPort(t))
	native, _ := diff(t, []string{"/bin/sh", "-c", gitDaemonScript, "sh", port})
	if native.Code != 0 {
		t.Errorf("the script fails natively: %s", native)
	}
}
