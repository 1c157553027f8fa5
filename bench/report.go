package main

import (
	"bufio"
	"debug/buildinfo"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"text/tabwriter"
	"time"

	"golang.org/x/sys/unix"
)

// printMachine prints what the numbers were measured on.
func printMachine(w io.Writer, e *env) {
	var u unix.Utsname
	kernel := "unknown"
	if unix.Uname(&u) == nil {
		kernel = unix.ByteSliceToString(u.Release[:]) + " " + unix.ByteSliceToString(u.Version[:])
	}
	fmt.Fprintf(w, "machine:  %d CPUs, %s\n", runtime.NumCPU(), cpuModel())
	fmt.Fprintf(w, "kernel:   %s\n", kernel)
	fmt.Fprintf(w, "glassbox: %s (%s)\n", e.glassbox, revision(e))
	fmt.Fprintf(w, "date:     %s\n\n", time.Now().Format("2006-01-02 15:04:05 MST"))
}

// cpuModel is the first "model name" of /proc/cpuinfo.
func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return "unknown CPU"
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if k, v, ok := strings.Cut(s.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown CPU"
}

// revision is the commit the glassbox binary was built from: the one go
// build stamped into it or, failing that, the module's git HEAD.
func revision(e *env) string {
	bi, err := buildinfo.ReadFile(e.glassbox)
	if err != nil {
		return "no build info"
	}
	rev, dirty := "", ""
	for _, s := range bi.Settings {
		switch {
		case s.Key == "vcs.revision":
			rev = s.Value
		case s.Key == "vcs.modified" && s.Value == "true":
			dirty = " + uncommitted changes"
		}
	}
	if rev == "" && e.root != "" {
		if rev = gitHead(e.root); rev != "" {
			dirty = " + working tree as is"
		}
	}
	if rev == "" {
		return "unknown revision, " + bi.GoVersion
	}
	return "commit " + rev[:min(12, len(rev))] + dirty + ", " + bi.GoVersion
}

// printTable prints one line per workload: median wall times, their
// ratio and, where the workload has one, the per-operation figure; with
// several platforms, one glassbox column of each kind per platform.
func printTable(w io.Writer, rows []row, n int, platforms []string) {
	fmt.Fprintf(w, "median of %d runs each (wall = process start to exit)\n\n", n)
	// Names are padded by hand so they stay left-aligned; the numbers
	// are right-aligned. A failure's reason trails the last column.
	width := len("workload")
	for _, r := range rows {
		width = max(width, len(r.w.name))
	}
	col := func(what string, i int) string {
		if platforms[i] == "" {
			return what
		}
		return what + " " + platforms[i]
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	hdr := []string{"native"}
	for i := range platforms {
		hdr = append(hdr, col("glassbox", i))
	}
	for i := range platforms {
		hdr = append(hdr, col("ratio", i))
	}
	hdr = append(hdr, "per-op native")
	for i := range platforms {
		hdr = append(hdr, col("per-op", i))
	}
	for i := range platforms {
		hdr = append(hdr, col("slowdown", i))
	}
	fmt.Fprintf(tw, "%-*s\t%s\t\n", width, "workload", strings.Join(hdr, "\t"))
	for _, r := range rows {
		if r.fail != "" {
			fmt.Fprintf(tw, "%-*s\t%s\t  %s: %s\n", width, r.w.name,
				strings.TrimSuffix(strings.Repeat("-\t", len(hdr)), "\t"), r.failSide, r.failSummary())
			continue
		}
		cells := []string{fmtDur(r.native.wall)}
		for _, g := range r.guests {
			cells = append(cells, fmtDur(g.wall))
		}
		for _, g := range r.guests {
			cells = append(cells, fmtRatio(float64(g.wall)/float64(r.native.wall)))
		}
		m := r.w.metric
		if m != nil {
			cells = append(cells, fmtNum(r.native.op)+" "+m.unit)
		} else {
			cells = append(cells, "")
		}
		for _, g := range r.guests {
			if m != nil {
				cells = append(cells, fmtNum(g.op)+" "+m.unit)
			} else {
				cells = append(cells, "")
			}
		}
		for _, g := range r.guests {
			if m == nil {
				cells = append(cells, "")
				continue
			}
			ratio := g.op / r.native.op
			if m.higherBetter {
				ratio = 1 / ratio
			}
			cells = append(cells, fmtRatio(ratio))
		}
		fmt.Fprintf(tw, "%-*s\t%s\t\n", width, r.w.name, strings.Join(cells, "\t"))
	}
	tw.Flush()
	fmt.Fprintln(w, "\nratio = glassbox/native wall time; slowdown = glassbox/native per-op cost (native/glassbox for MB/s)")
}

// printSyscallCounts prints the traced syscall counts, if any.
func printSyscallCounts(w io.Writer, cs []syscallCount) {
	if len(cs) == 0 {
		return
	}
	fmt.Fprintln(w, "\nsyscalls made by one run (glassbox: --trace=syscall lines; native: strace -f, which includes the execve)")
	width := len("workload")
	for _, c := range cs {
		width = max(width, len(c.name))
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "%-*s\tglassbox\tnative\t\n", width, "workload")
	for _, c := range cs {
		guest := fmt.Sprint(c.guest)
		if c.guestErr != nil {
			guest = "FAIL: " + firstLine(c.guestErr.Error())
		}
		native := "(no strace)"
		switch {
		case c.nativeErr != nil:
			native = "FAIL: " + firstLine(c.nativeErr.Error())
		case c.nativeTried:
			native = fmt.Sprint(c.native)
		}
		fmt.Fprintf(tw, "%-*s\t%s\t%s\t\n", width, c.name, guest, native)
	}
	tw.Flush()
}

// printFailures prints the full error output of every failed workload.
func printFailures(w io.Writer, rows []row) {
	for _, r := range rows {
		if r.fail == "" {
			continue
		}
		fmt.Fprintf(w, "\nFAIL %s (%s): %s\n", r.w.name, r.failSide, r.fail)
		if r.failOut == "" {
			continue
		}
		for _, l := range strings.Split(r.failOut, "\n") {
			fmt.Fprintf(w, "    %s\n", l)
		}
	}
}

func firstLine(s string) string {
	first, _, _ := strings.Cut(s, "\n")
	return first
}

// fmtDur prints d with about three significant digits.
func fmtDur(d time.Duration) string {
	switch {
	case d < time.Millisecond:
		return fmt.Sprintf("%.1f µs", float64(d)/1e3)
	case d < time.Second:
		return fmt.Sprintf("%s ms", fmtNum(float64(d)/1e6))
	default:
		return fmt.Sprintf("%.2f s", d.Seconds())
	}
}

// fmtNum prints v with about three significant digits.
func fmtNum(v float64) string {
	switch {
	case v >= 100:
		return fmt.Sprintf("%.0f", v)
	case v >= 10:
		return fmt.Sprintf("%.1f", v)
	default:
		return fmt.Sprintf("%.2f", v)
	}
}

func fmtRatio(v float64) string {
	if v >= 10 {
		return fmt.Sprintf("%.0fx", v)
	}
	return fmt.Sprintf("%.2fx", v)
}
