package oci

// Help returns the usage of OCI command cmd ("" when there is none).
func Help(cmd string) string { return helps[cmd] }

// GlobalHelp describes the flags before the command.
const GlobalHelp = `global flags (before the command, as runc takes them):
  --root DIR          container state (default /run/glassbox; without root,
                      $XDG_RUNTIME_DIR/glassbox)
  --log FILE          glassbox' own lines (errors, what config.json asks that glassbox
                      does not apply) go to FILE; never to a container's output
  --log-format F      text (default) or json (one {"level","msg","time"} object a line)
  --debug             also log debug lines
  --systemd-cgroup    accepted (glassbox makes no cgroups)
  -v, --version       print the version
`

var helps = map[string]string{
	"create": `usage: glassbox [global flags] create [flags] ID

Creates container ID from the bundle's config.json: starts the sandbox
process (glassbox' kernel, with the container's first process loaded and
held before its first instruction) and returns. The sandbox process's pid
is the one to watch: it exits with the container's status (128+N when a
signal N killed the first process).

flags:
  -b, --bundle DIR        the bundle (default: the current directory)
  --pid-file FILE         write the sandbox process's pid to FILE
  --console-socket PATH   with process.terminal: send the pty master there (SCM_RIGHTS)
  --no-pivot, --no-new-keyring, --preserve-fds N   accepted
`,
	"start": `usage: glassbox [global flags] start ID

Lets container ID's first process run (created → running); runs the
poststart hooks.
`,
	"state": `usage: glassbox [global flags] state ID

Prints the container's state as the OCI runtime spec defines it (JSON:
ociVersion, id, status created|running|stopped, pid, bundle, annotations).
`,
	"kill": `usage: glassbox [global flags] kill [--all] ID [SIGNAL]

Sends SIGNAL (a name such as TERM or SIGKILL, or a number; default TERM)
to the container's first process, or with -a/--all to every process in it.
`,
	"delete": `usage: glassbox [global flags] delete [--force] ID

Removes a stopped (or created) container's state and runs its poststop
hooks. With -f/--force a running container is killed first, and an
unknown ID is not an error.
`,
	"run": `usage: glassbox [global flags] run [flags] ID          (OCI: create + start)
       glassbox run [flags] [--] PROG [ARG...]           (glassbox' own; see glassbox help)

Creates and starts container ID from the bundle and, unless --detach,
waits for it, exits with its status and deletes it (unless --keep).
It is the OCI form when an OCI flag below is given, or when there is no
"--", one argument and a config.json in the bundle.

flags:
  -b, --bundle DIR, --pid-file FILE, --console-socket PATH   as for create
  -d, --detach            return once started
  --keep                  keep the container's state after it ends
  --no-pivot, --no-new-keyring, --no-subreaper, --preserve-fds N   accepted
`,
	"exec": `usage: glassbox [global flags] exec [flags] ID [--] COMMAND [ARG...]
       glassbox [global flags] exec [flags] --process FILE ID

Starts a further process inside the running sandbox ID (the same files,
processes and network as its first process), with this command's stdin,
stdout and stderr (or a terminal), and exits with its status. Without
--process the process is the container's own (environment, user,
working directory) with COMMAND and the flags over it.

flags:
  -p, --process FILE      the process as OCI JSON (a config.json "process")
  -t, --tty               give it a terminal: a new pty sent to --console-socket,
                          or else this command's own terminal
  --console-socket PATH   where the pty master goes (SCM_RIGHTS)
  -d, --detach            return at once, leaving a helper process whose status
                          is the process's (its pid goes to --pid-file)
  --pid-file FILE         the pid to watch
  --cwd DIR               working directory inside
  -e, --env K=V           add an environment variable (repeatable)
  -u, --user UID[:GID]    run as this user (and group)
  -g, --additional-gids GID   a supplementary group (repeatable)
  --no-new-privs          set no_new_privs
  -c, --cap CAP, --process-label, --apparmor, --cgroup, --preserve-fds, --ignore-paused   accepted
`,
	"ps": `usage: glassbox [global flags] ps [--format table|json] ID

Lists the processes inside sandbox ID (their pids inside the sandbox: a
guest process is not a host process). json prints the pids as an array.
`,
	"list": `usage: glassbox [global flags] list [--format table|json] [-q]

Lists the containers under --root (-q: ids only).
`,
	"features": `usage: glassbox [global flags] features

Prints what glassbox supports, as the OCI runtime spec's features JSON.
`,
	"spec": `usage: glassbox [global flags] spec [--bundle DIR]

Writes a starter config.json into the bundle (sh in ./rootfs, with a
terminal).
`,
}
