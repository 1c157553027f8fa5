package main

import (
	"embed"
	"encoding/binary"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// The C workloads, compiled at run time with gcc -O2 -static.
//
//go:embed c/*.c c/*.h
var csrc embed.FS

// dataSize is the size of the file the read and sha256sum workloads use.
const dataSize = 64 << 20

// env is everything the workloads need: where things are and how to run.
type env struct {
	dir      string // the temporary directory
	glassbox string // the glassbox binary
	root     string // the module it was built from, "" if given with -glassbox
	bin      string // directory of the compiled C workloads
	data     string // the 64 MiB data file
	strace   string // strace binary, "" when the host has none
	timeout  time.Duration
	// platforms are the glassbox platforms to run, one column each; ""
	// is glassbox' default.
	platforms []string
	runsc     string // the runsc binary, "" when there is no runsc column
	runscNote string // why there is no runsc column
	python    string // the python3 of the python-import workload
}

// prog is the path of the compiled C workload name.
func (e *env) prog(name string) string { return filepath.Join(e.bin, name) }

// src is the path of the C source file name (with its extension).
func (e *env) src(name string) string { return filepath.Join(e.dir, "src", name) }

// prepare builds glassbox (unless given), compiles the C workloads the
// selected workloads use and writes the data file if one needs it.
func prepare(dir string, o options, ws []workload) (*env, error) {
	e := &env{dir: dir, bin: filepath.Join(dir, "bin"), timeout: o.timeout}
	e.platforms = []string{""}
	if o.platform != "" {
		e.platforms = strings.Split(o.platform, ",")
	}
	e.data = filepath.Join(dir, "data.bin")
	if p, err := exec.LookPath("strace"); err == nil {
		e.strace = p
	}
	findRunsc(e)
	e.python = findPython()
	if err := os.MkdirAll(e.bin, 0o755); err != nil {
		return nil, err
	}
	if o.glassbox != "" {
		p, err := filepath.Abs(o.glassbox)
		if err != nil {
			return nil, err
		}
		e.glassbox = p
	} else if err := buildGlassbox(e); err != nil {
		return nil, err
	}
	if err := install(e); err != nil {
		return nil, err
	}
	if err := writeSources(e); err != nil {
		return nil, err
	}
	needData := false
	compiled := map[string]bool{}
	for _, w := range ws {
		needData = needData || w.needsData
		if w.csrc == "" || compiled[w.csrc] {
			continue
		}
		if err := compileC(e, w.csrc, w.cflags); err != nil {
			return nil, err
		}
		compiled[w.csrc] = true
	}
	if needData {
		if err := writeData(e.data, dataSize); err != nil {
			return nil, err
		}
	}
	return e, nil
}

// install copies the glassbox and runsc binaries into the run's own
// directory, as an installer (cp, tar, a package manager) writes a
// binary: with write(2). The Go linker writes its output through a
// mapping, which leaves the file's page cache in single 4 KiB pages, and
// a binary run from such a file takes more page faults to start (here
// 1-3 ms per start) than one installed by a copy, whose page cache the
// kernel fills in large folios. Both sandboxes' binaries are copied, so
// neither is timed with how it happened to be built; the native programs
// are the host's, installed by its package manager.
func install(e *env) error {
	copyTo := func(src, name string) (string, error) {
		dst := filepath.Join(e.dir, "installed", name)
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return "", err
		}
		in, err := os.Open(src)
		if err != nil {
			return "", err
		}
		defer in.Close()
		out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o755)
		if err != nil {
			return "", err
		}
		buf := make([]byte, 1<<20)
		if _, err := io.CopyBuffer(struct{ io.Writer }{out}, struct{ io.Reader }{in}, buf); err != nil {
			out.Close()
			return "", err
		}
		return dst, out.Close()
	}
	var err error
	if e.glassbox, err = copyTo(e.glassbox, "glassbox"); err != nil {
		return fmt.Errorf("installing glassbox: %w", err)
	}
	if e.runsc != "" {
		if e.runsc, err = copyTo(e.runsc, "runsc"); err != nil {
			return fmt.Errorf("installing runsc: %w", err)
		}
	}
	return nil
}

// findPython is the distribution's /usr/bin/python3 when there is one:
// a python3 found first on PATH may be a wrapper such as a pyenv shim (a
// bash script), which would be timed too.
func findPython() string {
	if _, err := os.Stat("/usr/bin/python3"); err == nil {
		return "/usr/bin/python3"
	}
	return "python3"
}

// buildGlassbox runs `CGO_ENABLED=0 go build ./cmd/glassbox` in the module root.
func buildGlassbox(e *env) error {
	root, err := moduleRoot()
	if err != nil {
		return err
	}
	e.root = root
	e.glassbox = filepath.Join(e.dir, "glassbox")
	fmt.Fprintf(os.Stderr, "bench: building glassbox from %s\n", root)
	cmd := exec.Command("go", "build", "-o", e.glassbox, "./cmd/glassbox")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0") // as scripts/install builds it
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build ./cmd/glassbox: %v\n%s", err, out)
	}
	return nil
}

// moduleRoot finds the directory of the glassbox module's go.mod, walking
// up from the working directory.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		b, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && strings.HasPrefix(string(b), "module glassbox\n") {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("not inside the glassbox module (run from /work/main)")
		}
		dir = parent
	}
}

// writeSources copies the embedded C sources to the temp directory's src/.
func writeSources(e *env) error {
	src := filepath.Join(e.dir, "src")
	if err := os.MkdirAll(src, 0o755); err != nil {
		return err
	}
	files, err := csrc.ReadDir("c")
	if err != nil {
		return err
	}
	for _, f := range files {
		b, err := csrc.ReadFile("c/" + f.Name())
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(src, f.Name()), b, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// compileC compiles src/name.c into bin/name, with extra gcc flags.
func compileC(e *env, name string, extra []string) error {
	args := append([]string{"-O2", "-static", "-Wall"}, extra...)
	args = append(args, "-o", e.prog(name), filepath.Join(e.dir, "src", name+".c"))
	cmd := exec.Command("gcc", args...)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("gcc %s.c: %v\n%s", name, err, out)
	}
	return nil
}

// writeData fills path with size pseudo-random bytes (fixed seed, so the
// sha256 is the same every time) and syncs it, so the first timed run
// does not pay for writeback.
func writeData(path string, size int) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	r := rand.New(rand.NewPCG(1, 2))
	buf := make([]byte, 1<<20)
	for done := 0; done < size; done += len(buf) {
		for i := 0; i < len(buf); i += 8 {
			binary.LittleEndian.PutUint64(buf[i:], r.Uint64())
		}
		if _, err := f.Write(buf); err != nil {
			f.Close()
			return err
		}
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// gitHead reads the commit .git/HEAD names in root, without running git
// (GOFLAGS may carry -buildvcs=false, so the binary need not say).
func gitHead(root string) string {
	gitDir := filepath.Join(root, ".git")
	b, err := os.ReadFile(filepath.Join(gitDir, "HEAD"))
	if err != nil {
		return ""
	}
	head := strings.TrimSpace(string(b))
	ref, isRef := strings.CutPrefix(head, "ref: ")
	if !isRef {
		return head
	}
	if b, err := os.ReadFile(filepath.Join(gitDir, ref)); err == nil {
		return strings.TrimSpace(string(b))
	}
	b, _ = os.ReadFile(filepath.Join(gitDir, "packed-refs"))
	for _, l := range strings.Split(string(b), "\n") {
		if hash, name, ok := strings.Cut(l, " "); ok && name == ref {
			return hash
		}
	}
	return ""
}
