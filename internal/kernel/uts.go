package kernel

import (
	"strings"
	"sync"
)

// UTS names: sethostname and setdomainname change those of the task's
// UTS namespace (ns.go), never the host's. The sandbox's initial
// namespace starts with Config.Hostname. Linux: kernel/sys.c
// (sethostname, setdomainname), kernel/utsname.c

// utsNames are the host and domain names; guarded by mu.
type utsNames struct {
	mu       sync.Mutex
	hostname string
	domain   string
	set      bool // changed by the guest (or copied): Config.Hostname no longer applies
}

// Hostname returns the sandbox's host name (its initial UTS namespace).
func (k *Kernel) Hostname() string { return k.uts.get(k, false) }

// Domainname returns the sandbox's NIS domain name ("(none)" until set).
func (k *Kernel) Domainname() string { return k.uts.get(k, true) }

func (u *utsNames) get(k *Kernel, domain bool) string {
	u.mu.Lock()
	defer u.mu.Unlock()
	if domain {
		if u.domain == "" && !u.set {
			return "(none)"
		}
		return cstring(u.domain)
	}
	if !u.set {
		return k.cfg.Hostname
	}
	return cstring(u.hostname)
}

// cstring is s up to its first NUL, as the C string it is read as.
func cstring(s string) string {
	if i := strings.IndexByte(s, 0); i >= 0 {
		return s[:i]
	}
	return s
}

// SetUTSName sets the host name (domain false) or the domain name of the
// sandbox's initial UTS namespace; the caller has checked the privilege
// and the length.
func (k *Kernel) SetUTSName(name string, domain bool) { k.uts.put(k, name, domain) }

func (u *utsNames) put(k *Kernel, name string, domain bool) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.fix(k)
	if domain {
		u.domain = name
	} else {
		u.hostname = name
	}
}

// fix turns the defaults into set names; called with mu held.
func (u *utsNames) fix(k *Kernel) {
	if !u.set {
		u.hostname, u.domain, u.set = k.cfg.Hostname, "(none)", true
	}
}

// snapshot returns a copy for a new UTS namespace.
func (u *utsNames) snapshot(k *Kernel) *utsNames {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.fix(k)
	return &utsNames{hostname: u.hostname, domain: u.domain, set: true}
}
