package tests

import "testing"

// utsSysctlScript writes the UTS names through /proc/sys in a new UTS
// namespace and reads them back there and through uname and hostname.
const utsSysctlScript = `echo newname > /proc/sys/kernel/hostname; echo "rc=$?"
cat /proc/sys/kernel/hostname; hostname; uname -n
printf 'dom.example' > /proc/sys/kernel/domainname; cat /proc/sys/kernel/domainname
printf '%070d\n' 0 > /proc/sys/kernel/hostname; cat /proc/sys/kernel/hostname | wc -c
ls -l /proc/sys/kernel/hostname | cut -c1-10`

// TestProcSysUTSNames: /proc/sys/kernel/{hostname,domainname} show the
// reader's UTS namespace's names and root may set them (truncated at 64
// bytes, up to a newline), as sethostname; others get EACCES.
func TestProcSysUTSNames(t *testing.T) {
	t.Parallel()
	diff(t, []string{"unshare", "-u", "sh", "-c", utsSysctlScript})
	diffShellAsUser(t, `unshare -Uru sh -c "echo x > /proc/sys/kernel/hostname; echo rc=\$?" 2>&1; echo y > /proc/sys/kernel/hostname 2>&1; echo rc=$?`)
}
