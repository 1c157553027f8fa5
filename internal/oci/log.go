package oci

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sync"
	"time"
)

// logger writes glassbox' own lines as an OCI runtime does: to the
// --log file (stderr without one), as text or as one JSON object per
// line ({"level","msg","time"}, which conmon and containerd's shim read
// back to report a failure). Lines about the container (fields of
// config.json glassbox does not apply) go only to the --log file, never
// to the container's stderr.
type logger struct {
	mu    sync.Mutex
	w     io.Writer // nil: no --log file
	json  bool
	debug bool
}

func openLog(path, format string, debug bool) (*logger, error) {
	l := &logger{json: format == "json", debug: debug}
	switch format {
	case "", "text", "json":
	default:
		return nil, fmt.Errorf("--log-format %q: want text or json", format)
	}
	if path != "" {
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
		if err != nil {
			return nil, fmt.Errorf("--log %s: %v", path, err)
		}
		l.w = f
	}
	return l, nil
}

func (l *logger) line(level, msg string) {
	if l == nil || l.w == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	now := time.Now()
	if l.json {
		b, _ := json.Marshal(struct {
			Level string `json:"level"`
			Msg   string `json:"msg"`
			Time  string `json:"time"`
		}{level, msg, now.Format(time.RFC3339Nano)})
		l.w.Write(append(b, '\n'))
		return
	}
	fmt.Fprintf(l.w, "time=%q level=%s msg=%q\n", now.Format(time.RFC3339Nano), level, msg)
}

// Debugf is written with --debug only.
func (l *logger) Debugf(format string, args ...any) {
	if l != nil && l.debug {
		l.line("debug", fmt.Sprintf(format, args...))
	}
}

// Warnf is for what glassbox ignores or does differently.
func (l *logger) Warnf(format string, args ...any) { l.line("warning", fmt.Sprintf(format, args...)) }

// Errorf is a command's failure (also printed on stderr by the caller).
func (l *logger) Errorf(format string, args ...any) { l.line("error", fmt.Sprintf(format, args...)) }

// Writer is an io.Writer of lines at level info (the sandbox's own
// messages); without a --log file they are dropped.
func (l *logger) Writer() io.Writer {
	if l == nil || l.w == nil {
		return io.Discard
	}
	return lineWriter{l}
}

type lineWriter struct{ l *logger }

func (w lineWriter) Write(b []byte) (int, error) {
	msg := string(b)
	for len(msg) > 0 && msg[len(msg)-1] == '\n' {
		msg = msg[:len(msg)-1]
	}
	w.l.line("info", msg)
	return len(b), nil
}
