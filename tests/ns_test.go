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
	// Files as the namespace sees their owners; chown maps ids.
	`unshare -Ur sh -c 'stat -c "%u %g" /etc/passwd; d=$(mktemp -d); touch $d/f; stat -c "%u %g" $d/f; chown 0:0 $d/f; echo $?; chown 5 $d/f 2>/dev/null; echo $?; rm -r $d'`,
	`grep -E "^(Uid|Gid|Groups)" /proc/self/status; unshare -Ur grep -E "^(Uid|Gid|Groups)" /proc/self/status`,
	// A new network namespace: only lo, down, without addresses.
	`unshare -Urn ip link; unshare -Urn ip addr; unshare -Urn ip route`,
	// Names change in the new UTS namespace only.
	`h=$(hostname); unshare -Uru sh -c 'hostname foo; hostname; domainname bar; domainname'; [ "$(hostname)" = "$h" ] && echo unchanged`,
	// A tmpfs mounted in a new mount namespace is seen there only.
	`unshare -Urm sh -c 'mount -t tmpfs none /mnt && echo hi > /mnt/x && cat /mnt/x && grep -c " /mnt tmpfs" /proc/self/mounts'; test -e /mnt/x || echo gone`,
	`unshare -Urm sh -c 'mkdir -p /tmp/nsbind && mount --bind /etc /tmp/nsbind && test -e /tmp/nsbind/passwd && echo bound && umount /tmp/nsbind && test ! -e /tmp/nsbind/passwd && echo unmounted'; rmdir /tmp/nsbind 2>/dev/null; true`,
	// Without a user namespace only root may make namespaces.
	`unshare -u true; echo $?; unshare -m true; echo $?`,
	// System V objects stay in their IPC namespace.
	`id=$(ipcmk -Q | awk '{print $NF}'); unshare -Uri sh -c 'ipcs -q | grep -c "^0x"; ipcmk -M 4096 >/dev/null; ipcs -m | grep -c "^0x"'; ipcs -q -i $id >/dev/null && echo visible; ipcrm -q $id`,
	// Nested user namespaces.
	`unshare -Ur unshare -Ur id -u`,
	// Links in /proc/PID/ns name the same namespace for parent and child
	// until one is unshared.
	`a=$(readlink /proc/self/ns/uts); b=$(sh -c 'readlink /proc/self/ns/uts'); [ "$a" = "$b" ] && echo same; c=$(unshare -Uu readlink /proc/self/ns/uts); [ "$a" != "$c" ] && echo differs; echo ${c%%:*}`,
	`ls /proc/self/ns | sort`,
	// A new PID namespace: its first process is 1 and sees only its own.
	`unshare -Urpf --mount-proc sh -c 'echo $$; f=$(mktemp); ps -eo pid=,ppid=,comm= > $f; awk '"'"'{print $1, $2, $3}'"'"' $f; rm $f; grep -E "^(Pid|PPid|Tgid)" /proc/self/status; ls -d /proc/1 /proc/self'`,
	`unshare -Urpf sh -c 'echo $$; sh -c "echo \$PPID"; (sleep 0.1 & wait $!; echo waited $?)'`,
	// The end of the namespace's init kills what remains in it; orphans
	// go to the namespace's init.
	`unshare -Urpf --mount-proc sh -c 'sh -c "sleep 5 & echo \$!"; f=$(mktemp); until ps -eo pid=,ppid=,comm= | grep -q "^ *3 *1 sleep"; do sleep 0.05; done; ps -eo pid=,ppid=,comm= > $f; awk '"'"'$3 == "sh" || $3 == "sleep" {print $1, $2, $3}'"'"' $f; rm $f'`,
	`unshare -Urpf sh -c 'sleep 5 & exit 0'; echo $?`,
}

// bwrapArgs are bubblewrap invocations compared with the host.
var bwrapArgs = [][]string{
	{"--ro-bind", "/", "/", "--unshare-all", "--uid", "0", "id"},
	{"--ro-bind", "/", "/", "--unshare-all", "--uid", "1000", "--gid", "1000", "id"},
	{"--ro-bind", "/", "/", "--unshare-user", "--uid", "0", "id"},
	{"--ro-bind", "/", "/", "--unshare-all", "--uid", "0", "--dev", "/dev", "--proc", "/proc", "--tmpfs", "/tmp", "id"},
	{"--ro-bind", "/", "/", "--unshare-all", "--proc", "/proc", "sh", "-c", "out=$(ps -eo pid=,comm=); echo \"$out\" | awk '{print $1, $2}'"}, // not ps | awk: ps may list awk before or after its exec
	{"--ro-bind", "/", "/", "--unshare-all", "--hostname", "box", "hostname"},
	{"--ro-bind", "/", "/", "--unshare-net", "ip", "link"},
	{"--ro-bind", "/", "/", "--unshare-all", "--dev", "/dev", "ls", "/dev"},
	{"--ro-bind", "/", "/", "--tmpfs", "/tmp", "--unshare-all", "sh", "-c", "echo x > /tmp/f && cat /tmp/f && ls /tmp"},
	{"--ro-bind", "/", "/", "--unshare-all", "sh", "-c", "echo x > /etc/f"},
}

// TestBwrap: bubblewrap makes its namespaces and mounts inside glassbox
// as on the host, as root and as uid 1000.
func TestBwrap(t *testing.T) {
	bw, err := exec.LookPath("bwrap")
	if err != nil {
		t.Skip("bwrap not installed (apt-get install bubblewrap, or run scripts/setup)")
	}
	for _, a := range bwrapArgs {
		argv := append([]string{bw}, a...)
		diff(t, argv)
		native := runNative(t, append(append([]string{}, asUser...), argv...))
		gb := runGlassbox(t, userFlags, argv)
		if native.Stdout != gb.Stdout || native.Code != gb.Code || native.Stderr != gb.Stderr {
			t.Errorf("%q as uid 1000: glassbox differs from native\n===== native: %s\n===== glassbox: %s", argv, native, gb)
		}
	}
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

// TestMountEscape: what glassbox mounted (/proc, /dev, /sys, /tmp) hides
// the host's own directories beneath the read-only host root, so a guest
// root in a mount namespace of its own may not unmount it, bind the root
// without it, or lift its restrictions (Linux locks such mounts for a
// less privileged namespace: MNT_LOCKED). A lazy unmount of a whole
// recursive bind is allowed: it uncovers nothing.
func TestMountEscape(t *testing.T) {
	script := `d=$(mktemp -d); unshare -m sh -c '
		for m in /proc /dev /sys /tmp; do umount $m 2>/dev/null; echo umount $m $?; umount -l $m 2>/dev/null; echo lazy $m $?; done
		mount --bind / '$d' 2>/dev/null; echo bind / $?
		mount --rbind / '$d'; echo rbind / $?
		umount '$d'/proc 2>/dev/null; echo umount copy $?
		umount -l '$d'; echo lazy tree $?
		head -c 2 /proc/1/cmdline; echo
		ls /proc/1/ns >/dev/null && echo own proc'; rmdir $d`
	r := runGlassbox(t, nil, []string{"sh", "-c", script})
	want := `umount /proc 32
lazy /proc 32
umount /dev 32
lazy /dev 32
umount /sys 32
lazy /sys 32
umount /tmp 32
lazy /tmp 32
bind / 32
rbind / 0
umount copy 32
lazy tree 0
sh
own proc
`
	if r.Stdout != want || r.Code != 0 {
		t.Errorf("got %s\nwant stdout:\n%s", r, want)
	}
}
