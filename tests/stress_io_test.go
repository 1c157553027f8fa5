package tests

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The data-integrity stress suite (issue 13): guest programs move bytes
// through every data path (read/write, readv/writev, pread/pwrite,
// sendmsg/recvmsg, sendfile, splice, tee, copy_file_range) over pipes,
// AF_UNIX stream/dgram/seqpacket sockets, loopback TCP and files on tmpfs,
// the overlay root and a --bind host directory; blocking and not (EAGAIN,
// then poll or level- or edge-triggered epoll); with small pipe and socket
// buffers (partial writes); with a thread sending SIGUSR1 to every worker
// thread and child all the time, its handler installed with SA_RESTART or
// without; several streams, threads and forked processes at once. Every
// byte is checked where it arrives (a position hash), and the checksums
// are printed, so native and glassbox outputs are compared whole.
//
// The default run is short (a few seconds). GLASSBOX_STRESS=long runs
// every variant with bigger streams and many seeds (minutes):
//
//	GLASSBOX_STRESS=long go test -count=1 -run 'TestStressIO' -timeout 60m ./tests/
//
// GLASSBOX_STRESS_ROUNDS=N overrides the number of seeds of a long run.

// stressLong reports whether GLASSBOX_STRESS=long asks for the long run.
func stressLong() bool { return os.Getenv("GLASSBOX_STRESS") == "long" }

// stressRounds is how many seeds a long run tries (1 when short).
func stressRounds() int {
	if !stressLong() {
		return 1
	}
	n := 10
	fmt.Sscan(os.Getenv("GLASSBOX_STRESS_ROUNDS"), &n)
	return max(n, 1)
}

func ioStressProg(t *testing.T) string {
	return compileC(t, "iostress", ioStressCommon+ioStressStream+ioStressRecords+ioStressFanout+ioStressFiles+ioStressCopyup+ioStressMain, "-pthread")
}

// stressDiff runs argv natively and under glassbox and requires the same
// output, in which the program flags anything it found wrong.
func stressDiff(t *testing.T, o diffOpts, argv []string) {
	t.Helper()
	native, gb := diffWith(t, o, argv)
	for _, bad := range []string{"ERROR", "CORRUPT", "WRONG", "EINTR", "FAIL", "NO"} {
		if strings.Contains(native.Stdout, bad) {
			t.Errorf("native run reports %s: %s", bad, native)
		}
	}
	if native.Code != 0 || native.Stdout == "" {
		t.Errorf("native run failed: %s", native)
	}
	if t.Failed() {
		t.Logf("glassbox stderr:\n%s", gb.Stderr)
	}
}

var sigModes = []string{"none", "restart", "intr"}

// TestStressIOStreams: every sender against every receiver on pipes,
// unix streams and TCP, under each signal mode.
func TestStressIOStreams(t *testing.T) {
	t.Parallel()
	prog := ioStressProg(t)
	size, full := "16384", "0"
	if stressLong() {
		size, full = "262144", "1"
	}
	for mode := range sigModes {
		t.Run(sigModes[mode], func(t *testing.T) {
			for seed := 1; seed <= stressRounds(); seed++ {
				stressDiff(t, diffOpts{}, []string{prog, "stream", fmt.Sprint(mode), size, fmt.Sprint(seed*10 + mode), "8", full})
			}
		})
	}
}

// TestStressIORecords: four threads and a forked child write numbered
// records into one pipe (PIPE_BUF atomicity), datagram or seqpacket
// socket; blocking and not, under each signal mode.
func TestStressIORecords(t *testing.T) {
	t.Parallel()
	prog := ioStressProg(t)
	per := "150"
	if stressLong() {
		per = "2000"
	}
	for _, kind := range []string{"pipe", "dgram", "seqpacket"} {
		for mode := range sigModes {
			t.Run(kind+"/"+sigModes[mode], func(t *testing.T) {
				for seed := 1; seed <= stressRounds(); seed++ {
					for nb := range 2 {
						stressDiff(t, diffOpts{}, []string{prog, "records", fmt.Sprint(mode), per, fmt.Sprint(seed*10 + mode), kind, fmt.Sprint(nb)})
					}
				}
			})
		}
	}
}

// TestStressIOFiles: threads writing, appending, copying and splicing
// files on tmpfs, the overlay root and a --bind host directory.
func TestStressIOFiles(t *testing.T) {
	t.Parallel()
	prog := ioStressProg(t)
	size := "600000"
	if stressLong() {
		size = "8000000"
	}
	bind := t.TempDir()
	dirs := []struct {
		name, dir string
		flags     []string
	}{
		{"tmpfs", "/tmp", nil},
		{"overlay", "/var/tmp", nil},
		{"bind", bind, []string{"--bind", bind + ":" + bind}},
	}
	for _, d := range dirs {
		t.Run(d.name, func(t *testing.T) {
			for seed := 1; seed <= stressRounds(); seed++ {
				mode := seed % 3
				stressDiff(t, diffOpts{gbFlags: d.flags}, []string{prog, "files", fmt.Sprint(mode), size, fmt.Sprint(seed), d.dir})
			}
		})
	}
}

// TestStressIOFanout: writer threads and a forked writer against four
// readers of one pipe (read, readv, splice to a pipe, splice to a file):
// every record once, whole, and in each writer's order per reader.
func TestStressIOFanout(t *testing.T) {
	t.Parallel()
	prog := ioStressProg(t)
	per := "5000"
	if stressLong() {
		per = "50000"
	}
	for mode := range sigModes {
		t.Run(sigModes[mode], func(t *testing.T) {
			for seed := 1; seed <= stressRounds(); seed++ {
				for nb := range 2 {
					stressDiff(t, diffOpts{}, []string{prog, "fanout", fmt.Sprint(mode), per, fmt.Sprint(seed*10 + mode), fmt.Sprint(nb)})
				}
			}
		})
	}
}

// stressPattern is the stress program's byte pattern (pat in
// ioStressCommon): n bytes of stream seed.
func stressPattern(n int, seed uint32) []byte {
	b := make([]byte, n)
	for i := range b {
		x := uint32(i)*0x9E3779B1 ^ (seed*0x85EBCA77 + uint32(uint64(i)>>32))
		x ^= x >> 15
		x *= 0x2C1B3C6D
		x ^= x >> 12
		x *= 0x297A2D39
		x ^= x >> 15
		b[i] = byte(x >> 24)
	}
	return b
}

// TestStressIOCopyup: threads open one host file for writing at the same
// moment and overwrite blocks; under glassbox the file lies below the
// in-memory layer, so the opens race to copy it up, and no write may land
// in a copy that is then thrown away.
func TestStressIOCopyup(t *testing.T) {
	t.Parallel()
	prog := ioStressProg(t)
	path := filepath.Join(t.TempDir(), "lower")
	for seed := 1; seed <= 3*stressRounds(); seed++ {
		argv := []string{prog, "copyup", fmt.Sprint(seed % 3), "200000", fmt.Sprint(seed), path}
		// Natively the program changes the file: each run starts afresh.
		writeFile(t, path, string(stressPattern(200000, uint32(seed))), 0o644)
		native := runNative(t, argv)
		writeFile(t, path, string(stressPattern(200000, uint32(seed))), 0o644)
		gb := runGlassbox(t, nil, argv)
		if native.Stdout != gb.Stdout || native.Code != gb.Code || strings.Contains(native.Stdout, "CORRUPT") {
			t.Errorf("seed %d: glassbox differs from native (or native is wrong)\n===== native: %s\n===== glassbox: %s", seed, native, gb)
		}
	}
}
