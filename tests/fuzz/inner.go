package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"sort"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"glassbox"
	"glassbox/internal/hostfd"
)

// inner is one session, run as pid 1 of fresh namespaces: it makes every
// host mount read-only, copies the guest's root to a tmpfs, runs the
// guest in glassbox (a library here) and checks what glassbox left.
func inner(args []string) int {
	fl := flag.NewFlagSet("inner", flag.ContinueOnError)
	seed := fl.Uint64("seed", 1, "")
	millis := fl.Int64("millis", 60000, "")
	procs := fl.Int("procs", 3, "")
	threads := fl.Int("threads", 3, "")
	root := fl.String("root", "", "")
	mnt := fl.String("mnt", "", "")
	trace := fl.Bool("trace", false, "")
	if err := fl.Parse(args); err != nil {
		return 2
	}
	fail := func(format string, a ...any) int {
		fmt.Printf("FUZZ FAIL "+format+"\n", a...)
		return 1
	}
	if os.Getpid() != 1 {
		return fail("setup: not in a new PID namespace")
	}
	if err := lockDown(*mnt); err != nil {
		return fail("setup: %v", err)
	}
	if out, err := exec.Command("cp", "-a", *root, *mnt).CombinedOutput(); err != nil {
		return fail("setup: copying the root: %v %s", err, out)
	}
	guestRoot := filepath.Join(*mnt, filepath.Base(*root))
	before, err := snapshot(guestRoot)
	if err != nil {
		return fail("setup: %v", err)
	}

	baseFDs := listFDs()
	baseCounted := hostfd.InUse()
	baseG := runtime.NumGoroutine()
	baseThreads := countDir("/proc/self/task")

	cfg := glassbox.Config{
		Root: guestRoot, Dir: "/", Log: os.Stderr,
		Stdout: os.Stdout, Stderr: os.Stderr,
		MaxTasks: 256, Memory: 1 << 30,
	}
	if *trace {
		cfg.Trace, cfg.TraceOut = "syscall,signal,proc", os.NewFile(3, "trace")
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Duration(*millis)*time.Millisecond+45*time.Second)
	defer cancel()
	argv := []string{"/fuzz", "run", strconv.FormatUint(*seed, 10), strconv.FormatInt(*millis, 10),
		strconv.Itoa(*procs), strconv.Itoa(*threads)}
	sb, err := glassbox.Start(ctx, cfg, argv)
	if err != nil {
		return fail("start: %v", err)
	}
	st, err := sb.Wait()
	if err != nil {
		return fail("run: %v", err)
	}
	code := 0
	if st.ShellCode() != 0 {
		code = fail("the guest's supervisor ended with status %d", st.ShellCode())
	}
	cancel()

	// What glassbox must have given back, allowing a few seconds for
	// goroutines on their way out.
	var leakedFDs []string
	var procsLeft []string
	deadline := time.Now().Add(5 * time.Second)
	for {
		leakedFDs = newFDs(baseFDs, listFDs())
		procsLeft = otherProcesses()
		if (runtime.NumGoroutine() <= baseG && len(leakedFDs) == 0 && len(procsLeft) == 0) || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if g := runtime.NumGoroutine(); g > baseG {
		code = fail("leak: %d goroutines after the run, %d before", g, baseG)
		pprof.Lookup("goroutine").WriteTo(os.Stderr, 1)
	}
	if len(leakedFDs) > 0 {
		code = fail("leak: host descriptors left open: %s", strings.Join(leakedFDs, ", "))
	}
	if n := sb.LeakedFrames(); n != 0 {
		code = fail("leak: %d memory frames in use after the run that no file holds", n)
	}
	if n := hostfd.InUse(); n != baseCounted {
		code = fail("leak: %d host descriptors still counted for the guest (package hostfd), %d before", n, baseCounted)
	}
	if len(procsLeft) > 0 {
		code = fail("leak: host processes left behind: %s", strings.Join(procsLeft, ", "))
	}
	threadsAfter := countDir("/proc/self/task")
	if threadsAfter > baseThreads+2*runtime.GOMAXPROCS(0)+16 {
		code = fail("leak: %d host threads after the run, %d before", threadsAfter, baseThreads)
	}
	after, err := snapshot(guestRoot)
	if err != nil {
		return fail("snapshot after: %v", err)
	}
	if d := diff(before, after); d != "" {
		code = fail("host effect: the read-only root changed: %s", d)
	}
	fmt.Printf("FUZZ checked goroutines=%d/%d fds=%d threads=%d/%d mem_peak_kib=%d syscalls=%d\n",
		runtime.NumGoroutine(), baseG, len(baseFDs), threadsAfter, baseThreads, st.Stats.MemPeakByte>>10, st.Stats.Syscalls)
	return code
}

// lockDown makes every mount of this (new, private) mount namespace
// read-only, mounts a /proc of the new PID namespace, and a tmpfs at mnt
// for the guest's root.
func lockDown(mnt string) error {
	if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
		return fmt.Errorf("making mounts private: %v", err)
	}
	data, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return err
	}
	for _, l := range strings.Split(string(data), "\n") {
		f := strings.Fields(l)
		if len(f) < 6 {
			continue
		}
		at := unescapeMount(f[4])
		flags := uintptr(unix.MS_REMOUNT | unix.MS_BIND | unix.MS_RDONLY)
		for _, o := range strings.Split(f[5], ",") {
			switch o {
			case "nosuid":
				flags |= unix.MS_NOSUID
			case "nodev":
				flags |= unix.MS_NODEV
			case "noexec":
				flags |= unix.MS_NOEXEC
			case "noatime":
				flags |= unix.MS_NOATIME
			case "nodiratime":
				flags |= unix.MS_NODIRATIME
			case "relatime":
				flags |= unix.MS_RELATIME
			}
		}
		if err := unix.Mount("", at, "", flags, ""); err != nil && at == "/" {
			return fmt.Errorf("remounting / read-only: %v", err)
		}
	}
	if err := unix.Mount("proc", "/proc", "proc", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, ""); err != nil {
		return fmt.Errorf("mounting /proc: %v", err)
	}
	if err := unix.Mount("tmpfs", mnt, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, "size=64m"); err != nil {
		return fmt.Errorf("mounting a tmpfs at %s: %v", mnt, err)
	}
	// The check that the guard holds.
	if f, err := os.CreateTemp("/tmp", "fuzz-guard-"); err == nil {
		os.Remove(f.Name())
		f.Close()
		return fmt.Errorf("/tmp is still writable")
	}
	return nil
}

func unescapeMount(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// snapshot records every entry under dir: type, mode, size, link target
// or content hash.
func snapshot(dir string) (map[string]string, error) {
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		v := fmt.Sprintf("%v %d", info.Mode(), info.Size())
		switch {
		case info.Mode()&fs.ModeSymlink != 0:
			t, _ := os.Readlink(p)
			v += " -> " + t
		case info.Mode().IsRegular():
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			h := sha256.Sum256(b)
			v += " " + hex.EncodeToString(h[:8])
		}
		if st, ok := info.Sys().(*unix.Stat_t); ok {
			v += fmt.Sprintf(" uid=%d gid=%d mtime=%d", st.Uid, st.Gid, st.Mtim.Nano())
		}
		out[strings.TrimPrefix(p, dir)] = v
		return nil
	})
	return out, err
}

func diff(a, b map[string]string) string {
	var d []string
	for k, v := range a {
		if w, ok := b[k]; !ok {
			d = append(d, k+" removed")
		} else if v != w {
			d = append(d, fmt.Sprintf("%s: %s -> %s", k, v, w))
		}
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			d = append(d, k+" created")
		}
	}
	sort.Strings(d)
	return strings.Join(d, "; ")
}

func listFDs() map[string]string {
	out := map[string]string{}
	ents, _ := os.ReadDir("/proc/self/fd")
	for _, e := range ents {
		t, _ := os.Readlink("/proc/self/fd/" + e.Name())
		out[e.Name()] = t
	}
	return out
}

// newFDs lists descriptors open now that were not before (the one
// ReadDir used is gone by the time it returns).
func newFDs(before, now map[string]string) []string {
	var out []string
	for fd, t := range now {
		if b, ok := before[fd]; !ok || b != t {
			out = append(out, fd+" ("+t+")")
		}
	}
	sort.Strings(out)
	return out
}

func countDir(dir string) int {
	ents, _ := os.ReadDir(dir)
	return len(ents)
}

// otherProcesses lists the PID namespace's processes other than this one
// (stubs glassbox did not reap, or that outlived it).
func otherProcesses() []string {
	ents, _ := os.ReadDir("/proc")
	var out []string
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == 1 {
			continue
		}
		stat, _ := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		out = append(out, strings.TrimSpace(string(stat)))
	}
	return out
}
