// Command repro runs stress programs many times in a row, natively and
// under glassbox, and reports every run whose output differs from native.
// By default it runs issue 13's repros, each 200 times:
//
//	go build -o bin/glassbox ./cmd/glassbox
//	go run ./tests/stress/repro                      # the repros, 200 runs each
//	go run ./tests/stress/repro -all -n 50           # every stress program
//	go run ./tests/stress/repro -n 1000 forkmem      # some programs by name
//	go run ./tests/stress/repro -list
//
// A run differs when glassbox' stdout, stderr or exit status is not the
// native one of the same iteration (-stdout compares only stdout and exit
// status), or when it stalls past -timeout (glassbox then gets SIGABRT
// first, so its stderr holds every goroutine's stack). Each differing
// run's outputs are saved under -out. The exit status is 1 if any run
// differed.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"glassbox/tests/stress"
)

func main() {
	var (
		n       = flag.Int("n", 200, "runs of each program")
		bin     = flag.String("bin", "bin/glassbox", "the glassbox binary")
		all     = flag.Bool("all", false, "every stress program, not only issue 13's repros")
		long    = flag.Bool("long", false, "run programs at their long size (default: short)")
		size    = flag.Int("size", 0, "the size argument to pass (overrides -long)")
		stdout  = flag.Bool("stdout", false, "compare only stdout and exit status, not stderr")
		timeout = flag.Duration("timeout", 5*time.Minute, "a run taking longer is a stall")
		out     = flag.String("out", "", "directory for the outputs of differing runs (default: a new temp dir)")
		list    = flag.Bool("list", false, "list the programs and exit")
		keep    = flag.Bool("k", false, "keep going after a program's first differing run")
	)
	flag.Usage = func() {
		fmt.Fprintf(os.Stderr, "usage: repro [flags] [program...]\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	if *list {
		for _, c := range stress.Cases {
			mark := " "
			if c.Repro {
				mark = "*"
			}
			fmt.Printf("%s %-24s %s\n", mark, c.Name, c.What)
		}
		fmt.Println("(* issue 13's repros: the default set)")
		return
	}
	var cases []stress.Case
	for _, name := range flag.Args() {
		c, ok := stress.Lookup(name)
		if !ok {
			fatalf("no program %q (-list shows them)", name)
		}
		cases = append(cases, c)
	}
	if len(cases) == 0 {
		for _, c := range stress.Cases {
			if c.Repro || *all {
				cases = append(cases, c)
			}
		}
	}
	gb, err := filepath.Abs(*bin)
	if err != nil {
		fatalf("%v", err)
	}
	if _, err := os.Stat(gb); err != nil {
		fatalf("%v (build it: go build -o bin/glassbox ./cmd/glassbox)", err)
	}
	work, err := os.MkdirTemp("", "glassbox-repro-")
	if err != nil {
		fatalf("%v", err)
	}
	defer os.RemoveAll(work)
	built, err := stress.Build(work)
	if err != nil {
		fatalf("%v", err)
	}
	if *out == "" {
		if *out, err = os.MkdirTemp("", "glassbox-repro-out-"); err != nil {
			fatalf("%v", err)
		}
	}
	failed := false
	for _, c := range cases {
		sz := c.Short
		if *long {
			sz = c.Long
		}
		if *size > 0 {
			sz = *size
		}
		argv := c.Argv(built, sz)
		if !runCase(c, argv, gb, *n, *timeout, !*stdout, *keep, *out) {
			failed = true
		}
	}
	if failed {
		fmt.Printf("outputs of differing runs are in %s\n", *out)
		os.Exit(1)
	}
	os.RemoveAll(*out)
}

// runCase runs c n times and prints one summary line (and the first
// difference in full). It reports whether every run was identical.
func runCase(c stress.Case, argv []string, gb string, n int, timeout time.Duration, withStderr, keep bool, out string) bool {
	fmt.Printf("%s: %s\n", c.Name, shellQuote(argv))
	var (
		bad            []string
		nTook, gbTook  time.Duration
		runs           int
		nativeVariants = map[string]bool{}
	)
	for i := 1; i <= n; i++ {
		runs = i
		native, err := stress.Run(argv, nil, timeout, false)
		if err != nil {
			fatalf("%s: %v", c.Name, err)
		}
		nativeVariants[fmt.Sprintf("%d\x00%s", native.Code, native.Stdout)] = true
		g, err := stress.Run(stress.Glassbox(gb, argv), nil, timeout, true)
		if err != nil {
			fatalf("%s: %v", c.Name, err)
		}
		nTook += native.Took
		gbTook += g.Took
		d := stress.Differs(native, g, withStderr)
		if native.TimedOut || native.Code != 0 || strings.Contains(native.Stdout, "FAIL") {
			d = "the native run itself failed (a defect of the program)"
		}
		if d == "" {
			continue
		}
		bad = append(bad, fmt.Sprintf("run %d: %s", i, d))
		f := filepath.Join(out, fmt.Sprintf("%s-run%d.txt", c.Name, i))
		os.WriteFile(f, []byte(shellQuote(argv)+"\n"+d+"\n"+stress.Report(native, g)), 0o644)
		if len(bad) == 1 {
			fmt.Printf("  run %d differs: %s (all of it in %s)\n%s", i, d, f, indent(head(stress.Report(native, g), 60)))
		}
		if !keep {
			break
		}
	}
	if len(nativeVariants) > 1 {
		fmt.Printf("  note: the native output was not the same in every run (%d variants)\n", len(nativeVariants))
	}
	avg := func(d time.Duration) time.Duration { return (d / time.Duration(runs)).Round(time.Millisecond) }
	if len(bad) == 0 {
		fmt.Printf("  %d/%d identical to native (native %v/run, glassbox %v/run)\n", runs, n, avg(nTook), avg(gbTook))
		return true
	}
	fmt.Printf("  %d of %d runs differ:\n", len(bad), runs)
	for _, b := range bad {
		fmt.Printf("    %s\n", b)
	}
	return false
}

// head returns the first n lines of s.
func head(s string, n int) string {
	lines := strings.SplitAfter(s, "\n")
	if len(lines) <= n {
		return s
	}
	return strings.Join(lines[:n], "") + fmt.Sprintf("[... %d more lines]\n", len(lines)-n)
}

func indent(s string) string {
	var b strings.Builder
	for _, l := range strings.SplitAfter(s, "\n") {
		if l != "" {
			b.WriteString("    " + l)
		}
	}
	if !strings.HasSuffix(s, "\n") {
		b.WriteString("\n")
	}
	return b.String()
}

func shellQuote(argv []string) string {
	q := make([]string, len(argv))
	for i, a := range argv {
		if a != "" && strings.IndexFunc(a, func(r rune) bool {
			return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./=:,+", r))
		}) < 0 {
			q[i] = a
		} else {
			q[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
	}
	return strings.Join(q, " ")
}

func fatalf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "repro: "+format+"\n", args...)
	os.Exit(2)
}
