package glassbox

import (
	"fmt"
	"sync"

	"glassbox/internal/gostack"
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
	if testPlatform != nil {
		return testPlatform(memfd), nil
	}
	switch cfg.Platform {
	case "ptrace":
		return ptrace.New(memfd)
	case "seccomp":
		return startPlatform(func(publish func(platform.Layout)) (closablePlatform, error) {
			p, err := seccomp.New(memfd)
			if err != nil {
				return nil, err
			}
			if patch {
				p.EnablePatching()
			}
			publish(p.Layout())
			// A failed first stub is made again, and its error
			// reported, by the first NewAddressSpace.
			p.Probe()
			return p, nil
		}), nil
	case "", "auto":
		verbose, log := cfg.Verbose, cfg.Log
		return startPlatform(func(publish func(platform.Layout)) (closablePlatform, error) {
			p, err := seccomp.New(memfd)
			if err == nil {
				if patch {
					p.EnablePatching()
				}
				// Most likely the layout: the first exec loads its
				// program meanwhile, and loads it again should the
				// probe fail.
				publish(p.Layout())
				if err = p.Probe(); err == nil {
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

// testPlatform, when set (by a test), makes every sandbox's platform.
var testPlatform func(memfd int) closablePlatform

// lazyPlatform is a platform being made on a goroutine of its own.
// NewAddressSpace and Close wait until it is made. Layout may answer
// earlier, with the layout the platform published while it makes its
// first stub (seccomp's, before auto's probe): the kernel loads the first
// program into an address space of that layout while the stub comes up,
// and loads it again if the platform's final layout differs (auto fell
// back to ptrace).
type lazyPlatform struct {
	ready chan struct{} // closed once p and err are set
	p     closablePlatform
	err   error

	layoutOnce sync.Once
	layoutSet  chan struct{} // closed once layout is set (at the latest with ready)
	layout     platform.Layout

	tentativeOnce sync.Once
	tentative     chan struct{} // closed once Layout answered with the published layout
}

func startPlatform(create func(publish func(platform.Layout)) (closablePlatform, error)) *lazyPlatform {
	l := &lazyPlatform{ready: make(chan struct{}), layoutSet: make(chan struct{}), tentative: make(chan struct{})}
	go func() {
		gostack.Grow() // the platform's creation goes deep
		defer close(l.ready)
		defer l.publish(platform.Layout{}) // failed before publishing
		l.p, l.err = create(l.publish)
	}()
	return l
}

// publish sets the layout Layout gives before the platform is made; only
// the first call counts.
func (l *lazyPlatform) publish(layout platform.Layout) {
	l.layoutOnce.Do(func() {
		l.layout = layout
		close(l.layoutSet)
	})
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

// Layout implements platform.Platform: the made platform's layout, or,
// while it is being made, the layout it published (the zero Layout if
// its creation failed, as every NewAddressSpace then says).
func (l *lazyPlatform) Layout() platform.Layout {
	select {
	case <-l.ready:
		if l.err == nil {
			return l.p.Layout()
		}
		return platform.Layout{}
	case <-l.layoutSet:
		select {
		case <-l.ready:
			return l.Layout()
		default:
		}
		l.tentativeOnce.Do(func() { close(l.tentative) })
		return l.layout
	}
}

// HandOffStats implements platform.HandOffCounter for a made platform
// that counts its hand-offs.
func (l *lazyPlatform) HandOffStats() platform.HandOffStats {
	if p, err := l.get(); err == nil {
		if c, ok := p.(platform.HandOffCounter); ok {
			return c.HandOffStats()
		}
	}
	return platform.HandOffStats{}
}

// Close waits for the platform and closes it.
func (l *lazyPlatform) Close() {
	if p, err := l.get(); err == nil {
		p.Close()
	}
}
