package tty

import "encoding/binary"

// Termios is the kernel's struct termios (36 bytes, TCGETS/TCSETS).
// Linux: include/uapi/asm-generic/termbits.h
type Termios struct {
	Iflag, Oflag, Cflag, Lflag uint32
	Line                       uint8
	Cc                         [19]uint8
}

// termios flag and index values. Linux: include/uapi/asm-generic/termbits.h
const (
	vINTR = iota
	vQUIT
	vERASE
	vKILL
	vEOF
	vTIME
	vMIN
	vSWTC
	vSTART
	vSTOP
	vSUSP
	vEOL
	vREPRINT
	vDISCARD
	vWERASE
	vLNEXT
	vEOL2
)

const (
	iIGNBRK = 0o1
	iISTRIP = 0o40
	iINLCR  = 0o100
	iIGNCR  = 0o200
	iICRNL  = 0o400
	iIUCLC  = 0o1000
	iIXON   = 0o2000
	iIUTF8  = 0o40000

	oOPOST  = 0o1
	oOLCUC  = 0o2
	oONLCR  = 0o4
	oOCRNL  = 0o10
	oONOCR  = 0o20
	oONLRET = 0o40

	cB38400 = 0o17
	cCS8    = 0o60
	cCREAD  = 0o200

	lISIG    = 0o1
	lICANON  = 0o2
	lECHO    = 0o10
	lECHOE   = 0o20
	lECHOK   = 0o40
	lECHONL  = 0o100
	lNOFLSH  = 0o200
	lTOSTOP  = 0o400
	lECHOCTL = 0o1000
	lECHOPRT = 0o2000
	lECHOKE  = 0o4000
	lIEXTEN  = 0o100000
)

// defaultTermios is what a new pty slave starts with: tty_std_termios
// without HUPCL. Linux: drivers/tty/tty_io.c (tty_std_termios),
// drivers/tty/pty.c (unix98_pty_init: init_termios.c_cflag).
func defaultTermios() Termios {
	t := Termios{
		Iflag: iICRNL | iIXON,
		Oflag: oOPOST | oONLCR,
		Cflag: cB38400 | cCS8 | cCREAD,
		Lflag: lISIG | lICANON | lECHO | lECHOE | lECHOK | lECHOCTL | lECHOKE | lIEXTEN,
	}
	copy(t.Cc[:], []uint8{3, 28, 127, 21, 4, 0, 1, 0, 17, 19, 26, 0, 18, 15, 23, 22, 0})
	return t
}

// Bytes encodes t as the 36-byte struct termios.
func (t *Termios) Bytes() []byte {
	b := make([]byte, 36)
	binary.LittleEndian.PutUint32(b[0:], t.Iflag)
	binary.LittleEndian.PutUint32(b[4:], t.Oflag)
	binary.LittleEndian.PutUint32(b[8:], t.Cflag)
	binary.LittleEndian.PutUint32(b[12:], t.Lflag)
	b[16] = t.Line
	copy(b[17:], t.Cc[:])
	return b
}

// parseTermios decodes a 36-byte struct termios.
func parseTermios(b []byte) Termios {
	var t Termios
	t.Iflag = binary.LittleEndian.Uint32(b[0:])
	t.Oflag = binary.LittleEndian.Uint32(b[4:])
	t.Cflag = binary.LittleEndian.Uint32(b[8:])
	t.Lflag = binary.LittleEndian.Uint32(b[12:])
	t.Line = b[16]
	copy(t.Cc[:], b[17:36])
	return t
}

// Winsize is struct winsize (TIOCGWINSZ/TIOCSWINSZ).
type Winsize struct{ Row, Col, Xpixel, Ypixel uint16 }

func (w Winsize) bytes() []byte {
	b := make([]byte, 8)
	binary.LittleEndian.PutUint16(b[0:], w.Row)
	binary.LittleEndian.PutUint16(b[2:], w.Col)
	binary.LittleEndian.PutUint16(b[4:], w.Xpixel)
	binary.LittleEndian.PutUint16(b[6:], w.Ypixel)
	return b
}

func parseWinsize(b []byte) Winsize {
	return Winsize{binary.LittleEndian.Uint16(b[0:]), binary.LittleEndian.Uint16(b[2:]),
		binary.LittleEndian.Uint16(b[4:]), binary.LittleEndian.Uint16(b[6:])}
}
