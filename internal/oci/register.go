package oci

import (
	"os"
	"strconv"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"glassbox"
)

// Register makes a sandbox that `glassbox run --name NAME` started
// reachable by name, as a container is: a state directory under --root
// (the pid is this process's) and a control socket, so `glassbox exec`,
// `ps`, `kill` and `state` work on it. cfg and argv are what it was
// started with (exec starts from them). The returned function removes
// both; a leftover directory of a NAME whose process is gone is reused.
func (g *Globals) Register(name string, s *glassbox.Sandbox, cfg glassbox.Config, argv []string) (func(), error) {
	d, err := g.dir(name)
	if err != nil {
		return nil, err
	}
	if err := d.create(); err != nil {
		old, lerr := d.load()
		if lerr != nil || old.current().Status != specs.StateStopped {
			return nil, err
		}
		d.remove()
		if err := d.create(); err != nil {
			return nil, err
		}
	}
	rootfs := cfg.Root
	if rootfs == "" {
		rootfs = "/"
	}
	dir := cfg.Dir
	if dir == "" {
		dir = "/"
	}
	start, _, _ := procStartTime(os.Getpid())
	rec := &record{
		State: specs.State{Version: specs.Version, ID: name, Status: specs.StateRunning, Pid: os.Getpid(),
			Annotations: map[string]string{"org.glassbox.command": "run"}},
		Created: time.Now().UTC(), Rootfs: rootfs, Owner: strconv.Itoa(os.Getuid()), StartTime: start,
		Base: &specs.Process{Args: argv, Env: cfg.Env, Cwd: dir,
			User: specs.User{UID: cfg.UID, GID: cfg.GID, AdditionalGids: cfg.Groups}},
	}
	if err := d.save(rec); err != nil {
		d.remove()
		return nil, err
	}
	sv, err := serve(d.path, s, rootfs, g.log)
	if err != nil {
		d.remove()
		return nil, err
	}
	return func() {
		sv.close()
		d.remove()
	}, nil
}
