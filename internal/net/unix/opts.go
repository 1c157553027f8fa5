package unix

import (
	"encoding/binary"
	"math"
	"time"

	"golang.org/x/sys/unix"
)

// hz is the tick rate socket timeouts are kept in (the reference host's
// CONFIG_HZ); SO_RCVTIMEO and SO_SNDTIMEO round up to whole ticks.
const hz = 250

// Socket options of x/sys/unix's older names.
const (
	soRcvtimeoOld = unix.SO_RCVTIMEO
	soSndtimeoOld = unix.SO_SNDTIMEO
)

// timeout is SO_RCVTIMEO or SO_SNDTIMEO: unset means wait forever; set
// with d == 0 means don't wait (a negative timeval, as Linux takes it).
type timeout struct {
	set bool
	d   time.Duration
}

// options are a socket's SOL_SOCKET settings.
type options struct {
	sndbuf, rcvbuf     int
	rcvlowat, priority int32
	lingerSecs         int32
	linger             bool
	rcvtimeo, sndtimeo timeout
	passcred           bool
	flags              map[int]bool // plain boolean options
}

func defaultOptions() options {
	return options{sndbuf: DefaultSndbuf, rcvbuf: DefaultRcvbuf, rcvlowat: 1}
}

// boolOptions are options that only store a flag.
var boolOptions = map[int]bool{unix.SO_REUSEADDR: true, unix.SO_KEEPALIVE: true, unix.SO_BROADCAST: true,
	unix.SO_DONTROUTE: true, unix.SO_OOBINLINE: true, unix.SO_DEBUG: true}

func intBytes(v int32) []byte { return binary.LittleEndian.AppendUint32(nil, uint32(v)) }

func boolInt(b bool) int32 {
	if b {
		return 1
	}
	return 0
}

// GetOption answers getsockopt(SOL_SOCKET, name) with the option's bytes;
// the caller copies as many as the user's length allows.
// Linux: net/core/sock.c (sk_getsockopt)
func (s *Socket) GetOption(name int) ([]byte, error) {
	s.ns.mu.Lock()
	defer s.ns.mu.Unlock()
	o := &s.opts
	switch name {
	case unix.SO_TYPE:
		return intBytes(int32(s.typ)), nil
	case unix.SO_PROTOCOL:
		return intBytes(0), nil
	case unix.SO_DOMAIN:
		return intBytes(unix.AF_UNIX), nil
	case unix.SO_ERROR:
		return intBytes(int32(Errno(s.takeErrLocked()))), nil
	case unix.SO_ACCEPTCONN:
		return intBytes(boolInt(s.state == stateListening)), nil
	case unix.SO_SNDBUF:
		return intBytes(int32(o.sndbuf)), nil
	case unix.SO_RCVBUF:
		return intBytes(int32(o.rcvbuf)), nil
	case unix.SO_PASSCRED:
		return intBytes(boolInt(o.passcred)), nil
	case unix.SO_REUSEPORT:
		return intBytes(0), nil
	case unix.SO_PRIORITY:
		return intBytes(o.priority), nil
	case unix.SO_RCVLOWAT:
		return intBytes(o.rcvlowat), nil
	case unix.SO_SNDLOWAT:
		return intBytes(1), nil
	case unix.SO_LINGER:
		return append(intBytes(boolInt(o.linger)), intBytes(o.lingerSecs)...), nil
	case soRcvtimeoOld, unix.SO_RCVTIMEO_NEW:
		return timeoutBytes(o.rcvtimeo), nil
	case soSndtimeoOld, unix.SO_SNDTIMEO_NEW:
		return timeoutBytes(o.sndtimeo), nil
	case unix.SO_PEERCRED:
		c := s.peerCred
		b := intBytes(c.PID)
		b = binary.LittleEndian.AppendUint32(b, c.UID)
		return binary.LittleEndian.AppendUint32(b, c.GID), nil
	}
	if boolOptions[name] {
		return intBytes(boolInt(o.flags[name])), nil
	}
	return nil, unix.ENOPROTOOPT
}

// timeoutBytes encodes a timeout as struct timeval in whole ticks.
// Linux: net/core/sock.c (sock_get_timeout)
func timeoutBytes(t timeout) []byte {
	var sec, usec int64
	if t.set {
		ticks := int64(t.d / (time.Second / hz))
		sec, usec = ticks/hz, ticks%hz*1e6/hz
	}
	b := binary.LittleEndian.AppendUint64(nil, uint64(sec))
	return binary.LittleEndian.AppendUint64(b, uint64(usec))
}

// SetOption answers setsockopt(SOL_SOCKET, name, val). privileged stands
// for CAP_NET_ADMIN (SO_SNDBUFFORCE, SO_RCVBUFFORCE, SO_DEBUG,
// SO_PRIORITY above 6). Linux: net/core/sock.c (sk_setsockopt)
func (s *Socket) SetOption(name int, val []byte, privileged bool) error {
	if len(val) < 4 {
		return unix.EINVAL
	}
	v := int32(binary.LittleEndian.Uint32(val))
	s.ns.mu.Lock()
	defer s.ns.mu.Unlock()
	o := &s.opts
	switch name {
	case unix.SO_SNDBUF, unix.SO_SNDBUFFORCE:
		n := int64(min(uint32(v), WmemMax))
		if name == unix.SO_SNDBUFFORCE {
			if !privileged {
				return unix.EPERM
			}
			n = max(int64(min(v, math.MaxInt32/2)), 0)
		}
		o.sndbuf = max(int(n)*2, minSndbuf)
		s.notifyLocked() // writers may go on
	case unix.SO_RCVBUF, unix.SO_RCVBUFFORCE:
		n := int64(min(uint32(v), RmemMax))
		if name == unix.SO_RCVBUFFORCE {
			if !privileged {
				return unix.EPERM
			}
			n = int64(max(v, 0))
		}
		o.rcvbuf = max(int(min(n, math.MaxInt32/2))*2, minRcvbuf)
	case unix.SO_PASSCRED:
		o.passcred = v != 0
	case unix.SO_REUSEPORT:
		if v != 0 {
			return unix.EOPNOTSUPP // not an inet socket
		}
	case unix.SO_PRIORITY:
		if (v < 0 || v > 6) && !privileged {
			return unix.EPERM
		}
		o.priority = v
	case unix.SO_RCVLOWAT:
		if v < 0 {
			v = math.MaxInt32
		}
		o.rcvlowat = max(v, 1)
		s.notifyLocked()
	case unix.SO_LINGER:
		if len(val) < 8 {
			return unix.EINVAL
		}
		o.linger = v != 0
		if o.linger {
			o.lingerSecs = int32(binary.LittleEndian.Uint32(val[4:]))
		}
	case soRcvtimeoOld, unix.SO_RCVTIMEO_NEW, soSndtimeoOld, unix.SO_SNDTIMEO_NEW:
		t, err := parseTimeout(val)
		if err != nil {
			return err
		}
		if name == soRcvtimeoOld || name == unix.SO_RCVTIMEO_NEW {
			o.rcvtimeo = t
		} else {
			o.sndtimeo = t
		}
	default:
		if !boolOptions[name] {
			return unix.ENOPROTOOPT
		}
		if name == unix.SO_DEBUG && v != 0 && !privileged {
			return unix.EACCES
		}
		if o.flags == nil {
			o.flags = map[int]bool{}
		}
		o.flags[name] = v != 0
	}
	return nil
}

// parseTimeout decodes a struct timeval timeout, rounded up to ticks.
// Linux: net/core/sock.c (sock_set_timeout)
func parseTimeout(val []byte) (timeout, error) {
	if len(val) < 16 {
		return timeout{}, unix.EINVAL
	}
	sec := int64(binary.LittleEndian.Uint64(val))
	usec := int64(binary.LittleEndian.Uint64(val[8:]))
	if usec < 0 || usec >= 1e6 {
		return timeout{}, unix.EDOM
	}
	switch {
	case sec < 0:
		return timeout{set: true}, nil // don't wait
	case sec == 0 && usec == 0, sec >= math.MaxInt64/int64(time.Second)-1:
		return timeout{}, nil // forever
	}
	ticks := sec*hz + (usec+1e6/hz-1)/(1e6/hz)
	return timeout{set: true, d: time.Duration(ticks) * (time.Second / hz)}, nil
}

// TakeError returns and clears the pending error (sock_error).
func (s *Socket) TakeError() error {
	s.ns.mu.Lock()
	defer s.ns.mu.Unlock()
	return s.takeErrLocked()
}

// SetError makes e the pending error, as recvmmsg does with an error that
// came after some messages.
func (s *Socket) SetError(e unix.Errno) {
	s.ns.mu.Lock()
	defer s.ns.mu.Unlock()
	s.err = e
	s.notifyLocked()
}

// Timeout is an SO_RCVTIMEO/SO_SNDTIMEO setting, shared with the inet
// sockets, which keep their timeouts the same way.
type Timeout = timeout

// Bytes encodes t as getsockopt reports it (struct timeval).
func (t timeout) Bytes() []byte { return timeoutBytes(t) }

// Deadline is when a wait under t gives up (zero: never).
func (t timeout) Deadline() time.Time { return deadline(t) }

// ParseTimeout decodes a setsockopt struct timeval.
func ParseTimeout(val []byte) (Timeout, error) { return parseTimeout(val) }

// IntBytes encodes an int option value.
func IntBytes(v int32) []byte { return intBytes(v) }

// BoolInt is an on/off option value.
func BoolInt(b bool) int32 { return boolInt(b) }
