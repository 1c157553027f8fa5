package tests

import (
	"os/exec"
	"testing"
)

// diffShellAsUser runs script with sh natively as uid 1000 (setpriv) and
// under glassbox --uid 1000 --gid 1000, and requires the same stdout and
// exit status.
func diffShellAsUser(t *testing.T, script string) {
	t.Helper()
	argv := []string{"sh", "-c", script}
	native := runNative(t, append(append([]string{}, asUser...), argv...))
	gb := runGlassbox(t, userFlags, argv)
	if native.Stdout != gb.Stdout || native.Code != gb.Code {
		t.Errorf("%q as uid 1000: glassbox differs from native\n===== native: %s\n===== glassbox: %s", script, native, gb)
	}
}

// nsScripts are namespace commands compared with the host, as root and as
// uid 1000 (the host allows unprivileged user namespaces).
var nsScripts = []string{
	`unshare -Ur id -u; unshare -Ur id`,
	`unshare -Ur cat /proc/self/uid_map /proc/self/gid_map /proc/self/setgroups`,
	`unshare -Ur grep ^Cap /proc/self/status`,
	`unshare -Ur sh -c 'echo $(id -u) $(id -g); cat /proc/self/uid_map'`,
	// A new network namespace: only lo, down, without addresses.
	`unshare -Urn ip link; unshare -Urn ip addr; unshare -Urn ip route`,
	// Names change in the new UTS namespace only.
	`h=$(hostname); unshare -Uru sh -c 'hostname foo; hostname; domainname bar; domainname'; [ "$(hostname)" = "$h" ] && echo unchanged`,
	// A tmpfs mounted in a new mount namespace is seen there only.
	`unshare -Urm sh -c 'mount -t tmpfs none /mnt && echo hi > /mnt/x && cat /mnt/x && grep -c " /mnt tmpfs" /proc/self/mounts'; test -e /mnt/x || echo gone`,
	`unshare -Urm sh -c 'mkdir -p /tmp/nsbind && mount --bind /etc /tmp/nsbind && test -e /tmp/nsbind/passwd && echo bound && umount /tmp/nsbind && test ! -e /tmp/nsbind/passwd && echo unmounted'; rmdir /tmp/nsbind 2>/dev/null; true`,
	// Without a user namespace only root may make namespaces.
	`unshare -u true; echo $?; unshare -m true; echo $?`,
	// Nested user namespaces.
	`unshare -Ur unshare -Ur id -u`,
	// Links in /proc/PID/ns name the same namespace for parent and child
	// until one is unshared.
	`a=$(readlink /proc/self/ns/uts); b=$(sh -c 'readlink /proc/self/ns/uts'); [ "$a" = "$b" ] && echo same; c=$(unshare -Uu readlink /proc/self/ns/uts); [ "$a" != "$c" ] && echo differs; echo ${c%%:*}`,
	`ls /proc/self/ns | sort`,
}

// TestUnshare: the unshare(1) invocations behave as on the host.
func TestUnshare(t *testing.T) {
	if _, err := exec.LookPath("unshare"); err != nil {
		t.Skip("unshare not installed (apt-get install util-linux)")
	}
	for _, s := range nsScripts {
		diff(t, []string{"sh", "-c", s})
		diffShellAsUser(t, s)
	}
}
