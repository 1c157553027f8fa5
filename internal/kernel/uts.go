package kernel

import (
	"strings"
	"sync"
)

// The sandbox's UTS names (its own UTS namespace): sethostname and
// setdomainname change them, never the host's. Linux: kernel/sys.c
// (sethostname, setdomainname)

// utsNames are the host and domain names; guarded by mu.
type utsNames struct {
	mu       sync.Mutex
	hostname string
	domain   string
	set      bool // changed by the guest: Config.Hostname no longer applies
}

// Hostname returns the sandbox's host name.
func (k *Kernel) Hostname() string {
	k.uts.mu.Lock()
	defer k.uts.mu.Unlock()
	if !k.uts.set {
		return k.cfg.Hostname
	}
	return cstring(k.uts.hostname)
}

// cstring is s up to its first NUL, as the C string it is read as.
func cstring(s string) string {
	if i := strings.IndexByte(s, 0); i >= 0 {
		return s[:i]
	}
	return s
}

// Domainname returns the sandbox's NIS domain name ("(none)" until set).
func (k *Kernel) Domainname() string {
	k.uts.mu.Lock()
	defer k.uts.mu.Unlock()
	if k.uts.domain == "" && !k.uts.set {
		return "(none)"
	}
	return cstring(k.uts.domain)
}

// SetUTSName sets the host name (domain false) or the domain name; the
// caller has checked the privilege and the length.
func (k *Kernel) SetUTSName(name string, domain bool) {
	k.uts.mu.Lock()
	defer k.uts.mu.Unlock()
	if !k.uts.set {
		k.uts.hostname, k.uts.domain, k.uts.set = k.cfg.Hostname, "(none)", true
	}
	if domain {
		k.uts.domain = name
	} else {
		k.uts.hostname = name
	}
}
