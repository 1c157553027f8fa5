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
	if e.runsc != "" {
		fmt.Fprintf(w, "runsc:    %s (%s), run as `runsc %s CMD`\n", e.runsc, runscVersion(e.runsc), strings.Join(runscFlags, " "))
	} else {
		fmt.Fprintf(w, "runsc:    %s\n", e.runscNote)
	}
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
// ratios to native and, where the workload has one, the per-operation
// figure; one column of each kind per sandbox (glassbox platform or
// runsc), and with runsc, glassbox/runsc per glassbox platform.
func printTable(w io.Writer, rows []row, n int, sbs []sandbox) {
	fmt.Fprintf(w, "median of %d runs each (wall = process start to exit)\n\n", n)
	// Names are padded by hand so they stay left-aligned; the numbers
	// are right-aligned. Failures' reasons trail the last column.
	width := len("workload")
	for _, r := range rows {
		width = max(width, len(r.w.name))
	}
	col := func(what string, sb sandbox) string {
		return strings.TrimSpace(what + " " + sb.short)
	}
	runsc := -1
	for i, sb := range sbs {
		if sb.runsc {
			runsc = i
		}
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	hdr := []string{"native"}
	for _, sb := range sbs {
		hdr = append(hdr, sb.header)
	}
	for _, sb := range sbs {
		hdr = append(hdr, col("ratio", sb))
	}
	hdr = append(hdr, "per-op native")
	for _, sb := range sbs {
		hdr = append(hdr, col("per-op", sb))
	}
	for _, sb := range sbs {
		hdr = append(hdr, col("slowdown", sb))
	}
	var vsRunsc []string
	if runsc >= 0 {
		for _, sb := range sbs[:runsc] {
			if sb.short == "glassbox" {
				vsRunsc = append(vsRunsc, "gb/runsc")
			} else {
				vsRunsc = append(vsRunsc, sb.short+"/runsc")
			}
		}
		hdr = append(hdr, vsRunsc...)
	}
	fmt.Fprintf(tw, "%-*s\t%s\t\n", width, "workload", strings.Join(hdr, "\t"))
	for _, r := range rows {
		if r.native.fail != "" {
			fmt.Fprintf(tw, "%-*s\t%s\t  native: %s\n", width, r.w.name,
				strings.TrimSuffix(strings.Repeat("-\t", len(hdr)), "\t"), r.native.failSummary())
			continue
		}
		m := r.w.metric
		// each appends one cell per sandbox, "FAIL" for a failed one.
		each := func(cells []string, f func(g outcome) string) []string {
			for _, g := range r.guests {
				if g.fail != "" {
					cells = append(cells, "FAIL")
				} else {
					cells = append(cells, f(g))
				}
			}
			return cells
		}
		cells := []string{fmtDur(r.native.wall)}
		cells = each(cells, func(g outcome) string { return fmtDur(g.wall) })
		cells = each(cells, func(g outcome) string { return fmtRatio(float64(g.wall) / float64(r.native.wall)) })
		if m != nil {
			cells = append(cells, fmtNum(r.native.op)+" "+m.unit)
		} else {
			cells = append(cells, "")
		}
		cells = each(cells, func(g outcome) string {
			if m == nil {
				return ""
			}
			return fmtNum(g.op) + " " + m.unit
		})
		cells = each(cells, func(g outcome) string {
			if m == nil {
				return ""
			}
			return fmtRatio(cost(m, g.stats) / cost(m, r.native.stats))
		})
		if runsc >= 0 {
			rs := r.guests[runsc]
			for _, g := range r.guests[:runsc] {
				switch {
				case g.fail != "" || rs.fail != "":
					cells = append(cells, "FAIL")
				case m == nil:
					cells = append(cells, fmtRatio(float64(g.wall)/float64(rs.wall))+unlike(r.w))
				default:
					cells = append(cells, fmtRatio(cost(m, g.stats)/cost(m, rs.stats))+unlike(r.w))
				}
			}
		}
		var why []string
		for i, g := range r.guests {
			if g.fail != "" {
				why = append(why, sbs[i].side+": "+g.failSummary())
			}
		}
		trailer := ""
		if len(why) > 0 {
			trailer = "  " + strings.Join(why, "; ")
		}
		fmt.Fprintf(tw, "%-*s\t%s\t%s\n", width, r.w.name, strings.Join(cells, "\t"), trailer)
	}
	tw.Flush()
	side := "glassbox"
	if runsc >= 0 {
		side = "sandbox"
	}
	fmt.Fprintf(w, "\nratio = %s/native wall time; slowdown = %s/native per-op cost (native/%s for MB/s)\n", side, side, side)
	if runsc >= 0 {
		fmt.Fprintf(w, "%s = glassbox/runsc per-op cost (wall time where there is no per-op figure); above 1x glassbox is slower\n",
			strings.Join(vsRunsc, ", "))
		for _, r := range rows {
			if unlike(r.w) != "" && r.native.fail == "" {
				fmt.Fprintf(w, "* glassbox ran %s with %s, which runsc has no equivalent of: they did different work\n",
					r.w.name, strings.Join(r.w.gbFlags, " "))
			}
		}
	}
}

// unlike marks a glassbox/runsc ratio of a workload that glassbox runs
// with flags of its own, which runsc has no equivalent of.
func unlike(w workload) string {
	if len(w.gbFlags) > 0 {
		return "*"
	}
	return ""
}

// cost is s's metric as a cost: the per-op figure, or its inverse for a
// throughput.
func cost(m *metric, s stats) float64 {
	if m.higherBetter {
		return 1 / s.op
	}
	return s.op
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

// printFailures prints the full error output of every failed side.
func printFailures(w io.Writer, rows []row, sbs []sandbox) {
	one := func(r row, side string, o outcome) {
		if o.fail == "" {
			return
		}
		fmt.Fprintf(w, "\nFAIL %s (%s): %s\n", r.w.name, side, o.fail)
		if o.failOut == "" {
			return
		}
		for _, l := range strings.Split(o.failOut, "\n") {
			fmt.Fprintf(w, "    %s\n", l)
		}
	}
	for _, r := range rows {
		one(r, "native", r.native)
		for i, g := range r.guests {
			one(r, sbs[i].side, g)
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
