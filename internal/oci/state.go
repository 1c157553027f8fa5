package oci

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// A container's state lives in ROOT/ID/ (mode 0700): state.json, written
// whole to a temporary file and renamed over the old one, and
// control.sock, the sandbox process's control socket (mode 0600). A
// command that changes the state holds an exclusive flock on the
// directory itself for the whole change.

const (
	stateFile   = "state.json"
	controlSock = "control.sock"
)

// record is what state.json holds: the spec's state plus what glassbox
// needs to tell its own sandbox process from a process that reused its
// pid.
type record struct {
	specs.State
	Created   time.Time    `json:"created"`
	Rootfs    string       `json:"rootfs,omitempty"`
	Owner     string       `json:"owner,omitempty"`
	StartTime uint64       `json:"pidStartTime,omitempty"` // /proc/PID/stat field 22
	Hooks     *specs.Hooks `json:"hooks,omitempty"`
	// Base is the first process's settings, which exec starts from.
	Base *specs.Process `json:"baseProcess,omitempty"`
}

// checkID refuses ids that are not a plain file name (runc's rule: the
// regular expression ^[\w+\-.]+$, \w being ASCII letters, digits and _;
// tested here byte by byte, so that glassbox does not link the regexp
// package and its Unicode tables' initialisation into every start).
func checkID(id string) error {
	if id == "" || id == "." || id == ".." || !idChars(id) {
		return fmt.Errorf("invalid container id %q", id)
	}
	return nil
}

// idChars reports whether every byte of id is one runc allows.
func idChars(id string) bool {
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '+' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}

// notExistError is the error for an unknown id, worded as runc words it
// (engines look for "does not exist").
type notExistError struct{ id string }

func (e notExistError) Error() string { return fmt.Sprintf("container %q does not exist", e.id) }

func errNotExist(id string) error { return notExistError{id} }

// stateDir is one container's directory under --root.
type stateDir struct {
	path string
	id   string
	lock *os.File // open while locked
}

func (g *globals) dir(id string) (*stateDir, error) {
	if err := checkID(id); err != nil {
		return nil, err
	}
	return &stateDir{path: filepath.Join(g.Root, id), id: id}, nil
}

// create makes the directory; EEXIST means the id is taken.
func (d *stateDir) create() error {
	if err := os.MkdirAll(filepath.Dir(d.path), 0o711); err != nil {
		return err
	}
	if err := os.Mkdir(d.path, 0o700); err != nil {
		if errors.Is(err, os.ErrExist) {
			return fmt.Errorf("container with id %q already exists", d.id)
		}
		return err
	}
	return nil
}

// lockDir takes the directory's exclusive lock (blocking).
func (d *stateDir) lockDir() error {
	f, err := os.Open(d.path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return errNotExist(d.id)
		}
		return err
	}
	for {
		err = unix.Flock(int(f.Fd()), unix.LOCK_EX)
		if err != unix.EINTR {
			break
		}
	}
	if err != nil {
		f.Close()
		return err
	}
	d.lock = f
	return nil
}

func (d *stateDir) unlock() {
	if d.lock != nil {
		d.lock.Close() // drops the flock
		d.lock = nil
	}
}

// load reads state.json.
func (d *stateDir) load() (*record, error) {
	b, err := os.ReadFile(filepath.Join(d.path, stateFile))
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, errNotExist(d.id)
		}
		return nil, err
	}
	var r record
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("state of %q: %v", d.id, err)
	}
	return &r, nil
}

// save writes state.json atomically.
func (d *stateDir) save(r *record) error {
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	return writeAtomic(filepath.Join(d.path, stateFile), b, 0o600)
}

// remove deletes the directory and everything in it.
func (d *stateDir) remove() error { return os.RemoveAll(d.path) }

// writeAtomic writes b to a temporary file beside path and renames it
// over path, so a reader sees the old contents or the new, never part.
func writeAtomic(path string, b []byte, mode os.FileMode) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, err = f.Write(b)
	if err == nil {
		err = f.Chmod(mode)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
	}
	return err
}

// procStartTime returns field 22 of /proc/PID/stat (the start time in
// clock ticks) and whether the process is a zombie; ok is false when
// there is no such process.
func procStartTime(pid int) (start uint64, zombie, ok bool) {
	if pid <= 0 {
		return 0, false, false
	}
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, false, false
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, false, false
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 20 {
		return 0, false, false
	}
	start, _ = strconv.ParseUint(f[19], 10, 64)
	return start, f[0] == "Z" || f[0] == "X", true
}

// alive reports whether the record's sandbox process still runs (not a
// zombie, and not another process that took its pid).
func (r *record) alive() bool {
	start, zombie, ok := procStartTime(r.Pid)
	return ok && !zombie && (r.StartTime == 0 || start == r.StartTime)
}

// current is the record with its status brought up to date: stopped
// once the sandbox process has ended.
func (r *record) current() *record {
	c := *r
	if c.Status != specs.StateStopped && !c.alive() {
		c.Status = specs.StateStopped
	}
	return &c
}

// specState is the state as `state` prints it (the spec's fields; the
// pid is 0 once stopped, as runc shows it).
func (r *record) specState() specs.State {
	st := r.current().State
	st.Version = specs.Version
	if st.Status == specs.StateStopped {
		st.Pid = 0
	}
	return st
}
