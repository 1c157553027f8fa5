package main

import (
	"debug/buildinfo"
	"os"
	"os/exec"
)

// runscInstall is how to get the runsc the harness compares against.
const runscInstall = "CGO_ENABLED=0 go install gvisor.dev/gvisor/runsc@v0.0.0-20260905035102-160fafc42237"

// runscFlags run a program in gVisor with the systrap platform (its
// default: seccomp traps plus stub threads), no network, and without
// creating cgroups (glassbox does not either, and a killed runsc would
// leave them behind).
var runscFlags = []string{"--platform=systrap", "--network=none", "--ignore-cgroups", "do"}

// sandbox is one column of the table: a way of running a workload's
// command other than natively.
type sandbox struct {
	side   string // in failure reports: "glassbox", "glassbox/ptrace", "runsc-systrap"
	header string // the wall-time column's header: "glassbox", "glassbox ptrace", "runsc-systrap"
	short  string // qualifies the other columns' headers: "", "ptrace", "runsc"
	runsc  bool
	wrap   func(e *env, w workload, argv []string) []string
}

// sandboxes are the columns to run: one per glassbox platform, then
// runsc when it is available.
func (e *env) sandboxes() []sandbox {
	var out []sandbox
	for _, pl := range e.platforms {
		s := sandbox{side: "glassbox", header: "glassbox", short: "glassbox"}
		if pl != "" {
			s.side, s.header, s.short = "glassbox/"+pl, "glassbox "+pl, pl
		}
		s.wrap = func(e *env, w workload, argv []string) []string {
			flags := w.gbFlags
			if pl != "" {
				flags = append([]string{"--platform=" + pl}, flags...)
			}
			return glassboxArgv(e, flags, argv)
		}
		out = append(out, s)
	}
	if e.runsc != "" {
		out = append(out, sandbox{side: "runsc-systrap", header: "runsc-systrap", short: "runsc", runsc: true,
			wrap: func(e *env, w workload, argv []string) []string {
				out := append([]string{e.runsc}, runscFlags...)
				return append(out, argv...)
			}})
	}
	// One column alone keeps the unqualified headers ("ratio", "per-op").
	if len(out) == 1 {
		out[0].short = ""
	}
	return out
}

// findRunsc sets e.runsc to the runsc on PATH, or e.runscNote to why
// there is no runsc column.
func findRunsc(e *env) {
	p, err := exec.LookPath("runsc")
	switch {
	case err != nil:
		e.runscNote = "not on PATH, so no runsc column; to compare with gVisor: " + runscInstall +
			" and put $(go env GOPATH)/bin on PATH"
	case os.Geteuid() != 0:
		e.runscNote = p + " found, but `runsc do` needs root, so no runsc column"
	default:
		e.runsc = p
	}
}

// runscVersion is the module version go install stamped into runsc (its
// --version says VERSION_MISSING when built that way).
func runscVersion(path string) string {
	bi, err := buildinfo.ReadFile(path)
	if err != nil || bi.Main.Version == "" {
		return "unknown version"
	}
	return bi.Main.Path + "@" + bi.Main.Version
}
