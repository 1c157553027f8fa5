package kernel

import (
	"glassbox/internal/abi"
	"glassbox/internal/vfs"
)

// hostCtx is the vfs context of work glassbox does for the sandbox's
// creator before any guest runs (finding the program, mounting), with the
// credentials the first guest process will have.
type hostCtx struct{ creds *vfs.Creds }

func (c hostCtx) Creds() *vfs.Creds          { return c.creds }
func (c hostCtx) Interrupt() <-chan struct{} { return nil }
func (c hostCtx) Interrupted() bool          { return false }

// HostCtx returns a file-operation context with the guest's initial
// credentials.
func (k *Kernel) HostCtx() vfs.Ctx {
	u, g := k.cfg.UID, k.cfg.GID
	return hostCtx{vfs.NewCreds(u, g, nil)}
}

// KillAll sends SIGKILL to every guest task.
func (k *Kernel) KillAll() {
	k.mu.Lock()
	ts := make([]*Task, 0, len(k.tasks))
	for _, t := range k.tasks {
		ts = append(ts, t)
	}
	k.mu.Unlock()
	for _, t := range ts {
		t.SendSignal(abi.SIGKILL)
	}
}

// SignalInit sends sig from outside the sandbox to the first process, or
// to every process in its process group.
func (k *Kernel) SignalInit(sig int, group bool) {
	k.mu.Lock()
	init := k.init
	k.mu.Unlock()
	if init == nil {
		return
	}
	info := SigInfo{Signo: int32(sig), Code: abi.SI_USER, Host: true}
	if !group {
		init.SignalInfo(info)
		return
	}
	pg := init.Pgid()
	for _, pid := range k.PIDs() {
		if tg := k.ThreadGroupByPID(pid); tg != nil && tg.Pgid() == pg {
			tg.SignalInfo(info)
		}
	}
}
