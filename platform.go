package glassbox

import (
	"fmt"

	"glassbox/internal/platform"
	"glassbox/internal/platform/ptrace"
	"glassbox/internal/platform/seccomp"
)

// closablePlatform is a platform whose host resources end with the sandbox.
type closablePlatform interface {
	platform.Platform
	Close()
}

// newPlatform starts creating the platform cfg names over the memory file
// and returns at once: the platform (for seccomp: its stub image, the
// vDSO layout and its first stub process) comes up in the background
// while build sets up the file systems and the kernel, and the first
// process's exec waits for it. "auto" (the default) probes the seccomp
// platform once (its first stub, which the first process then uses) and
// falls back to ptrace.
func newPlatform(cfg *Config, memfd int) (closablePlatform, error) {
	switch cfg.SyscallPatch {
	case "", "on", "off":
	default:
		return nil, fmt.Errorf("--syscall-patch=%q: want on or off", cfg.SyscallPatch)
	}
	patch := cfg.SyscallPatch != "off"
	switch cfg.Platform {
	case "ptrace":
		return ptrace.New(memfd)
	case "seccomp":
		return startPlatform(func() (closablePlatform, error) {
			p, err := seccomp.New(memfd)
			if err != nil {
				return nil, err
			}
			if patch {
				p.EnablePatching()
			}
			// A failed first stub is made again, and its error
			// reported, by the first NewAddressSpace.
			p.Probe()
			return p, nil
		}), nil
	case "", "auto":
		verbose, log := cfg.Verbose, cfg.Log
		return startPlatform(func() (closablePlatform, error) {
			p, err := seccomp.New(memfd)
			if err == nil {
				if err = p.Probe(); err == nil {
					if patch {
						p.EnablePatching()
					}
					return p, nil
				}
				p.Close()
			}
			if verbose && log != nil {
				fmt.Fprintf(log, "glassbox: the seccomp platform does not work here (%v): using ptrace\n", err)
			}
			return ptrace.New(memfd)
		}), nil
	}
	return nil, fmt.Errorf("unknown platform %q (ptrace, seccomp or auto)", cfg.Platform)
}

// lazyPlatform is a platform being made on a goroutine of its own. Its
// methods wait until it is made; the kernel's first call is the first
// process's NewAddressSpace (Layout comes after it).
type lazyPlatform struct {
	ready chan struct{} // closed once p and err are set
	p     closablePlatform
	err   error
}

func startPlatform(create func() (closablePlatform, error)) *lazyPlatform {
	l := &lazyPlatform{ready: make(chan struct{})}
	go func() {
		defer close(l.ready)
		l.p, l.err = create()
	}()
	return l
}

func (l *lazyPlatform) get() (closablePlatform, error) {
	<-l.ready
	return l.p, l.err
}

// NewAddressSpace implements platform.Platform.
func (l *lazyPlatform) NewAddressSpace() (platform.Thread, error) {
	p, err := l.get()
	if err != nil {
		return nil, fmt.Errorf("platform: %w", err)
	}
	return p.NewAddressSpace()
}

// Layout implements platform.Platform. Without a platform (its creation
// failed, as every NewAddressSpace says) it is the zero Layout.
func (l *lazyPlatform) Layout() platform.Layout {
	if p, err := l.get(); err == nil {
		return p.Layout()
	}
	return platform.Layout{}
}

// Close waits for the platform and closes it.
func (l *lazyPlatform) Close() {
	if p, err := l.get(); err == nil {
		p.Close()
	}
}
