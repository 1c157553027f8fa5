// Package oci is glassbox as an OCI runtime: runc's command line (create,
// start, state, kill, delete, run, exec, ps, list, features, spec) over
// the root package's Sandbox, so container engines (podman, Docker,
// containerd's runc shim) run containers inside glassbox. The kernel
// knows nothing of containers.
//
// Processes: create starts the sandbox process (this binary's hidden
// _sandbox command, in its own session, inside the engine's network
// namespace when config.json names one), which builds the sandbox with
// the first process held before its first instruction, serves the
// control socket, says it is ready on a pipe, and exits with the first
// process's status; create writes the state and --pid-file and returns.
// exec talks to the control socket; exec --detach leaves the hidden
// _exec helper holding the connection, whose own status is the exec'd
// process's. `glassbox run --name` registers its sandbox the same way.
//
// State: ROOT/ID/ (0700) holds state.json (written to a temporary file
// and renamed) and control.sock (0600). Commands that change the state
// (create, start, delete) hold an exclusive flock on ROOT/ID for the whole
// change; state, kill, ps and exec only read state.json, which is
// always whole. Whether the sandbox process still runs is read from
// /proc (its pid with the start time recorded at create), so "stopped"
// needs no writer.
//
// Concurrency in the sandbox process: one goroutine per control
// connection; Sandbox's methods are safe to call from any of them.
package oci
