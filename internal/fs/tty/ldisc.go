package tty

// The N_TTY line discipline, run under TTY.mu.
// Linux: drivers/tty/n_tty.c

const (
	bufSize  = 4096      // N_TTY_BUF_SIZE: input held for the reader
	outLimit = 64 * 1024 // output held for the master before writers wait
)

func (t *TTY) lflag(f uint32) bool { return t.termios.Lflag&f != 0 }
func (t *TTY) iflag(f uint32) bool { return t.termios.Iflag&f != 0 }

// readableLocked is how many bytes a slave read could take now.
func (t *TTY) readableLocked() int {
	if t.lflag(lICANON) {
		if len(t.eol) == 0 {
			return 0
		}
		return t.eol[len(t.eol)-1]
	}
	return len(t.rq)
}

// receiveLocked runs one byte from the master through input processing.
// It reports false when the byte can't be taken yet (non-canonical input
// full). Linux: n_tty.c (n_tty_receive_char_special, n_tty_receive_char)
func (t *TTY) receiveLocked(c byte) bool {
	tm := &t.termios
	if t.lnext {
		t.lnext = false
		return t.putLocked(c, true)
	}
	if t.iflag(iISTRIP) {
		c &= 0x7f
	}
	if t.iflag(iIXON) {
		if c == tm.Cc[vSTOP] && c != 0 {
			t.stopped = true
			return true
		}
		if c == tm.Cc[vSTART] && c != 0 {
			t.stopped = false
			return true
		}
	}
	if t.lflag(lISIG) && c != 0 {
		sig := 0
		switch c {
		case tm.Cc[vINTR]:
			sig = 2 // SIGINT
		case tm.Cc[vQUIT]:
			sig = 3 // SIGQUIT
		case tm.Cc[vSUSP]:
			sig = 20 // SIGTSTP
		}
		if sig != 0 {
			if !t.lflag(lNOFLSH) {
				t.rq, t.eol, t.edit = nil, nil, nil
			}
			t.echoCharLocked(c)
			t.stopped = false
			if t.fg > 0 {
				t.sigs = append(t.sigs, pendingSig{t.fg, sig})
			}
			return true
		}
	}
	switch {
	case c == '\r' && t.iflag(iIGNCR):
		return true
	case c == '\r' && t.iflag(iICRNL):
		c = '\n'
	case c == '\n' && t.iflag(iINLCR):
		c = '\r'
	}
	if !t.lflag(lICANON) {
		if len(t.rq) >= bufSize {
			return false
		}
		t.echoCharLocked(c)
		t.rq = append(t.rq, c)
		return true
	}
	if c != 0 {
		switch c {
		case tm.Cc[vERASE], tm.Cc[vKILL]:
			t.eraseLocked(c == tm.Cc[vKILL])
			return true
		case tm.Cc[vWERASE]:
			if t.lflag(lIEXTEN) {
				t.werasLocked()
				return true
			}
		case tm.Cc[vLNEXT]:
			if t.lflag(lIEXTEN) {
				t.lnext = true
				if t.lflag(lECHO) && t.lflag(lECHOCTL) {
					t.outputLocked([]byte("^\b"), true)
				}
				return true
			}
		case tm.Cc[vREPRINT]:
			if t.lflag(lIEXTEN) && t.lflag(lECHO) {
				t.echoCharLocked(c)
				t.outputLocked([]byte("\n"), true)
				t.outputLocked(t.edit, true)
				return true
			}
		case tm.Cc[vEOF]:
			t.finishLineLocked()
			return true
		case tm.Cc[vEOL], tm.Cc[vEOL2]:
			t.echoCharLocked(c)
			t.edit = append(t.edit, c)
			t.finishLineLocked()
			return true
		}
	}
	if c == '\n' {
		if t.lflag(lECHO) || t.lflag(lECHONL) {
			t.outputLocked([]byte{'\n'}, true)
		}
		t.edit = append(t.edit, c)
		t.finishLineLocked()
		return true
	}
	return t.putLocked(c, false)
}

// putLocked adds an ordinary character to the line being edited (or the
// raw queue), echoing it.
func (t *TTY) putLocked(c byte, literal bool) bool {
	if !t.lflag(lICANON) {
		if len(t.rq) >= bufSize {
			return false
		}
		t.echoCharLocked(c)
		t.rq = append(t.rq, c)
		return true
	}
	if len(t.rq)+len(t.edit) >= bufSize-1 {
		return true // the line is full: dropped, as Linux drops it
	}
	t.echoCharLocked(c)
	t.edit = append(t.edit, c)
	return true
}

// finishLineLocked makes the edited line readable.
func (t *TTY) finishLineLocked() {
	t.rq = append(t.rq, t.edit...)
	t.edit = t.edit[:0]
	t.eol = append(t.eol, len(t.rq))
}

// echoCharLocked echoes c when ECHO is on: control characters as ^X with
// ECHOCTL (except tab and newline). Linux: n_tty.c (echo_char)
func (t *TTY) echoCharLocked(c byte) {
	if !t.lflag(lECHO) {
		return
	}
	if t.lflag(lECHOCTL) && isCtl(c) {
		t.outputLocked([]byte{'^', c ^ 0o100}, true)
		return
	}
	t.outputLocked([]byte{c}, true)
}

func isCtl(c byte) bool { return (c < 32 || c == 127) && c != '\t' && c != '\n' }

// eraseLocked removes the last character (or the whole line for kill).
// Linux: n_tty.c (eraser)
func (t *TTY) eraseLocked(kill bool) {
	tm := &t.termios
	if len(t.edit) == 0 {
		return
	}
	if !t.lflag(lECHO) {
		if kill {
			t.edit = t.edit[:0]
		} else {
			t.edit = t.edit[:t.lastCharLocked()]
		}
		return
	}
	if kill && (!t.lflag(lECHOK) || !t.lflag(lECHOKE) || !t.lflag(lECHOE)) {
		t.edit = t.edit[:0]
		t.echoCharLocked(tm.Cc[vKILL])
		if t.lflag(lECHOK) {
			t.outputLocked([]byte{'\n'}, true)
		}
		return
	}
	for len(t.edit) > 0 {
		i := t.lastCharLocked()
		ch := t.edit[i]
		t.edit = t.edit[:i]
		switch {
		case !t.lflag(lECHOE):
			t.echoCharLocked(tm.Cc[vERASE])
		case ch == '\t':
			t.outputLocked([]byte{'\b'}, true)
		default:
			t.outputLocked([]byte("\b \b"), true)
			if isCtl(ch) && t.lflag(lECHOCTL) {
				t.outputLocked([]byte("\b \b"), true)
			}
		}
		if !kill {
			return
		}
	}
}

// lastCharLocked is where the last character of the edited line starts
// (a whole UTF-8 sequence with IUTF8).
func (t *TTY) lastCharLocked() int {
	i := len(t.edit) - 1
	if t.iflag(iIUTF8) {
		for i > 0 && t.edit[i]&0xc0 == 0x80 {
			i--
		}
	}
	return i
}

// werasLocked erases the last word. Linux: n_tty.c (eraser, WERASE_CHAR)
func (t *TTY) werasLocked() {
	for len(t.edit) > 0 && (t.edit[len(t.edit)-1] == ' ' || t.edit[len(t.edit)-1] == '\t') {
		t.eraseLocked(false)
	}
	for len(t.edit) > 0 && t.edit[len(t.edit)-1] != ' ' && t.edit[len(t.edit)-1] != '\t' {
		t.eraseLocked(false)
	}
}

// outputLocked queues b for the master, with output processing (OPOST).
// Linux: n_tty.c (do_output_char)
func (t *TTY) outputLocked(b []byte, echo bool) {
	_ = echo
	if t.termios.Oflag&oOPOST == 0 {
		t.out = append(t.out, b...)
		return
	}
	of := t.termios.Oflag
	for _, c := range b {
		switch {
		case c == '\n' && of&oONLCR != 0:
			t.out = append(t.out, '\r', '\n')
			t.col = 0
			continue
		case c == '\n' && of&oONLRET != 0:
			t.col = 0
		case c == '\r':
			if of&oONOCR != 0 && t.col == 0 {
				continue
			}
			if of&oOCRNL != 0 {
				c = '\n'
				if of&oONLRET != 0 {
					t.col = 0
				}
			} else {
				t.col = 0
			}
		case c == '\b':
			if t.col > 0 {
				t.col--
			}
		case of&oOLCUC != 0 && c >= 'a' && c <= 'z':
			c -= 'a' - 'A'
			t.col++
		case c >= 32 && c != 127:
			t.col++
		}
		t.out = append(t.out, c)
	}
}

// setTermiosLocked installs new termios, carrying the input over between
// canonical and non-canonical mode. Linux: n_tty.c (n_tty_set_termios)
func (t *TTY) setTermiosLocked(nt Termios) {
	wasCanon := t.lflag(lICANON)
	t.termios = nt
	canon := t.lflag(lICANON)
	switch {
	case wasCanon && !canon:
		t.rq = append(t.rq, t.edit...)
		t.edit, t.eol = nil, nil
	case !wasCanon && canon:
		t.eol = nil
		if len(t.rq) > 0 {
			t.eol = []int{len(t.rq)}
		}
	}
	if !t.iflag(iIXON) {
		t.stopped = false
	}
}

// takeLocked moves up to len(dst) readable bytes out (one line at most in
// canonical mode; an empty EOF line gives 0).
func (t *TTY) takeLocked(dst [][]byte) int {
	lim := len(t.rq)
	if t.lflag(lICANON) {
		lim = t.eol[0]
	}
	n := 0
	for _, b := range dst {
		m := copy(b, t.rq[n:lim])
		n += m
		if m < len(b) {
			break
		}
	}
	t.rq = t.rq[n:]
	if t.lflag(lICANON) {
		for i := range t.eol {
			t.eol[i] -= n
		}
		if t.eol[0] == 0 {
			t.eol = t.eol[1:]
		}
	}
	if len(t.rq) == 0 {
		t.rq = nil
	}
	return n
}
