package main

import "path/filepath"

// workload is one program the harness runs natively and under glassbox.
type workload struct {
	name      string
	desc      string
	csrc      string   // the C workload in c/ to compile, "" if none
	cflags    []string // extra gcc flags for csrc
	needsData bool     // uses the 64 MiB data file
	argv      func(e *env) []string

	// metric, if set, turns one run's result into a per-operation figure.
	metric *metric
	// selfTimed: the program prints "ns=… ops=… check=…" for its inner
	// loop; the check values of native and glassbox runs must be equal.
	selfTimed bool
	// sameStdout: glassbox must print exactly what the native run printed.
	sameStdout bool
	// countSyscalls: also count the syscalls one run makes.
	countSyscalls bool
	// gbFlags are extra `glassbox run` flags for this workload (runsc
	// runs it without an equivalent).
	gbFlags []string
}

// metric is a per-operation figure such as ns per syscall or MB/s.
type metric struct {
	unit         string
	higherBetter bool // a throughput: the slowdown is native/glassbox
	value        func(r result) float64
}

// throughput is ops bytes per the program's own timing, in MB/s.
var throughput = &metric{unit: "MB/s", higherBetter: true, value: func(r result) float64 {
	return float64(r.ops) / 1e6 / (float64(r.ns) / 1e9)
}}

// perOp is ns/ops of the program's own timing, divided by scale.
func perOp(unit string, scale float64) *metric {
	return &metric{unit: unit, value: func(r result) float64 {
		return float64(r.ns) / float64(r.ops) / scale
	}}
}

func workloads() []workload {
	return []workload{
		{
			name: "startup/busybox-true",
			desc: "wall time of `/bin/busybox true`, process start to exit",
			argv: func(e *env) []string { return []string{"/bin/busybox", "true"} },
			// The binary is the host's; nothing to compare but the status.
			countSyscalls: true,
		},
		{
			name:          "startup/empty-c",
			desc:          "wall time of a static C `int main(){return 0;}`",
			csrc:          "empty",
			argv:          func(e *env) []string { return []string{e.prog("empty")} },
			countSyscalls: true,
		},
		{
			name:          "getpid",
			desc:          "100000 raw syscall(SYS_getpid); ns per syscall",
			csrc:          "getpid",
			argv:          func(e *env) []string { return []string{e.prog("getpid"), "100000"} },
			metric:        perOp("ns/syscall", 1),
			selfTimed:     true,
			countSyscalls: true,
		},
		{
			name:      "file-read",
			desc:      "64 MiB file read in 64 KiB read() calls, 3 passes; MB/s",
			csrc:      "fileread",
			needsData: true,
			argv:      func(e *env) []string { return []string{e.prog("fileread"), e.data, "3"} },
			metric:    throughput,
			selfTimed: true,
		},
		{
			name:      "page-touch",
			desc:      "mmap 256 MiB anonymous, write one byte per 4 KiB page; µs per page",
			csrc:      "pagetouch",
			argv:      func(e *env) []string { return []string{e.prog("pagetouch"), "256"} },
			metric:    perOp("µs/page", 1e3),
			selfTimed: true,
		},
		{
			name:      "clock_gettime",
			desc:      "1000000 libc clock_gettime(CLOCK_MONOTONIC) (vDSO); ns per call",
			csrc:      "clock",
			argv:      func(e *env) []string { return []string{e.prog("clock"), "1000000"} },
			metric:    perOp("ns/call", 1),
			selfTimed: true,
		},
		{
			name: "shell-loop",
			desc: "`/bin/sh -c 'for i in $(seq 200); do /bin/true; done'`: 200 fork+exec+wait, wall time",
			argv: func(e *env) []string {
				return []string{"/bin/sh", "-c", "for i in $(seq 200); do /bin/true; done"}
			},
			sameStdout: true,
		},
		{
			name:      "swap-in",
			desc:      "write 1 GiB, then read one byte per page; glassbox runs with --memory=256M --swap=2G, so the timed read pass swaps pages in; MB/s",
			csrc:      "swapin",
			argv:      func(e *env) []string { return []string{e.prog("swapin"), "1024"} },
			gbFlags:   []string{"--memory=256M", "--swap=2G"},
			metric:    throughput,
			selfTimed: true,
		},
		{
			name:      "sha256sum",
			desc:      "`/bin/busybox sha256sum` of the 64 MiB file; wall time (MB/s from it)",
			needsData: true,
			argv:      func(e *env) []string { return []string{"/bin/busybox", "sha256sum", e.data} },
			metric: &metric{unit: "MB/s", higherBetter: true, value: func(r result) float64 {
				return dataSize / 1e6 / r.wall.Seconds()
			}},
			sameStdout: true,
		},
		{
			name: "python-import",
			desc: "`/usr/bin/python3 -c 'import json,re,sqlite3'`: interpreter start-up and module loading, wall time",
			argv: func(e *env) []string {
				return []string{e.python, "-c", "import json,re,sqlite3"}
			},
			sameStdout: true,
		},
		{
			name: "gcc-O2",
			desc: "`gcc -O2 -c` of a 300-line C file (gcc, cc1, as), the object written to the temp dir; wall time",
			argv: func(e *env) []string {
				// The temp dir is writable in all three: natively, in
				// glassbox' and runsc's in-memory layer over the host's /.
				// -Werror: a warning fails the run.
				return []string{"gcc", "-O2", "-Wall", "-Wextra", "-Werror", "-c",
					"-o", filepath.Join(e.dir, "gccinput.o"), e.src("gccinput.c")}
			},
			sameStdout: true,
		},
		{
			name:      "pipe-1g",
			desc:      "fork; the child writes 1 GiB into a pipe in 64 KiB write()s, the parent reads it; MB/s",
			csrc:      "pipe",
			argv:      func(e *env) []string { return []string{e.prog("pipe"), "1024"} },
			metric:    throughput,
			selfTimed: true,
		},
		{
			name:      "fork-cow",
			desc:      "touch 256 MiB, fork, the child writes every 4 KiB page (copy-on-write), the parent waits; µs per page",
			csrc:      "forkcow",
			argv:      func(e *env) []string { return []string{e.prog("forkcow"), "256"} },
			metric:    perOp("µs/page", 1e3),
			selfTimed: true,
		},
		{
			name:      "futex-pingpong",
			desc:      "two threads hand a turn back and forth 20000 times with FUTEX_WAIT/FUTEX_WAKE; ns per round trip",
			csrc:      "futex",
			cflags:    []string{"-pthread"},
			argv:      func(e *env) []string { return []string{e.prog("futex"), "20000"} },
			metric:    perOp("ns/trip", 1),
			selfTimed: true,
		},
	}
}
