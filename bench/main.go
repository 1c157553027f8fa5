// Command bench measures what running a program under glassbox costs
// compared with running the same program directly on the host.
//
// It builds the glassbox binary from this module into a temporary
// directory, compiles small C workloads there with `gcc -O2 -static`,
// creates a 64 MiB data file, and then runs every workload natively and
// under `glassbox run` in the same session, interleaved, -n times each
// (after one untimed warm-up run of each). It prints the median wall time
// (process start to exit) of both, their ratio, and for the workloads that
// time their own inner loop a per-operation cost: nanoseconds per getpid
// syscall, MB/s of read(), microseconds per first touch of a page,
// nanoseconds per clock_gettime. For the startup and getpid workloads it
// also counts the syscalls the guest made (from `--trace=syscall`, and
// natively with strace when available).
//
// When gVisor's runsc is on PATH (and we are root), every workload also
// runs under `runsc --platform=systrap do`, in a column of its own, with
// glassbox/runsc ratios; without it that column is left out.
//
// Run it from the module root:
//
//	go run ./bench              # all workloads, median of 5 runs
//	go run ./bench -n 3         # median of 3
//	go run ./bench -only getpid # one workload (or a group such as "startup")
//	go run ./bench -list        # the workloads and what they measure
//	go run ./bench -platform ptrace,seccomp # both platforms side by side
//
// A workload that fails under glassbox or runsc (non-zero exit, timeout,
// output that differs from the native run) is reported as a FAIL row with
// its error output; the other workloads and sandboxes still run.
package main

import (
	"flag"
	"fmt"
	"os"
	"strings"
	"time"
)

// options are the command-line flags.
type options struct {
	n        int
	only     string
	timeout  time.Duration
	keep     bool
	glassbox string
	list     bool
	platform string
}

func main() {
	var o options
	flag.IntVar(&o.n, "n", 5, "timed runs per workload and side (the median is reported)")
	flag.StringVar(&o.only, "only", "", "comma-separated workload names or groups to run (default: all)")
	flag.DurationVar(&o.timeout, "timeout", 2*time.Minute, "limit for a single run")
	flag.BoolVar(&o.keep, "keep", false, "keep the temporary directory (binaries, data file, traces)")
	flag.StringVar(&o.glassbox, "glassbox", "", "use this glassbox binary instead of building one")
	flag.BoolVar(&o.list, "list", false, "list the workloads and exit")
	flag.StringVar(&o.platform, "platform", "", "comma-separated glassbox platforms to run side by side, e.g. ptrace,seccomp (default: glassbox' own default)")
	flag.Parse()
	if err := run(o); err != nil {
		fmt.Fprintf(os.Stderr, "bench: %v\n", err)
		os.Exit(1)
	}
}

func run(o options) error {
	all := workloads()
	if o.list {
		for _, w := range all {
			fmt.Printf("%-22s %s\n", w.name, w.desc)
		}
		return nil
	}
	if o.n < 1 {
		return fmt.Errorf("-n must be at least 1")
	}
	selected, err := selectWorkloads(all, o.only)
	if err != nil {
		return err
	}

	dir, err := os.MkdirTemp("", "gbbench-")
	if err != nil {
		return err
	}
	if o.keep {
		fmt.Fprintf(os.Stderr, "bench: keeping %s\n", dir)
	} else {
		defer os.RemoveAll(dir)
	}

	e, err := prepare(dir, o, selected)
	if err != nil {
		return err
	}
	printMachine(os.Stdout, e)

	var rows []row
	var counts []syscallCount
	for _, w := range selected {
		fmt.Fprintf(os.Stderr, "bench: %s ...\n", w.name)
		rows = append(rows, measure(e, w, o.n))
		if w.countSyscalls {
			counts = append(counts, countSyscalls(e, w))
		}
	}
	sbs := e.sandboxes()
	printTable(os.Stdout, rows, o.n, sbs)
	printSyscallCounts(os.Stdout, counts)
	printFailures(os.Stdout, rows, sbs)
	return nil
}

// selectWorkloads keeps the workloads named in only: a full name
// ("startup/empty-c"), the group before the slash ("startup") or the
// part after it ("empty-c").
func selectWorkloads(all []workload, only string) ([]workload, error) {
	if only == "" {
		return all, nil
	}
	chosen := map[string]bool{}
	for _, want := range strings.Split(only, ",") {
		want = strings.TrimSpace(want)
		found := false
		for _, w := range all {
			group, leaf, _ := strings.Cut(w.name, "/")
			if w.name == want || group == want || leaf == want {
				chosen[w.name], found = true, true
			}
		}
		if !found {
			return nil, fmt.Errorf("no workload %q (see -list)", want)
		}
	}
	var out []workload // in the order of all
	for _, w := range all {
		if chosen[w.name] {
			out = append(out, w)
		}
	}
	return out, nil
}
