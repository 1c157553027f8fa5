package bpf

import (
	"encoding/binary"
	"errors"

	"golang.org/x/sys/unix"
)

// Insn is one instruction: struct sock_filter.
type Insn = unix.SockFilter

// InsnSize is sizeof(struct sock_filter).
const InsnSize = 8

// MaxInsns is BPF_MAXINSNS: the longest program Linux accepts.
const MaxInsns = 4096

// DataSize is sizeof(struct seccomp_data): nr, arch, instruction_pointer
// and six arguments.
const DataSize = 64

// memWords is BPF_MEMWORDS: the scratch memory's slots.
const memWords = 16

// ErrInvalid is the answer for a program Linux refuses (EINVAL).
var ErrInvalid = errors.New("bpf: invalid seccomp filter")

// Program is a checked seccomp filter.
type Program struct {
	insns []Insn
}

// Len returns the number of instructions.
func (p *Program) Len() int { return len(p.insns) }

// Decode reads n instructions (as the guest laid them out) from b.
func Decode(b []byte) []Insn {
	insns := make([]Insn, len(b)/InsnSize)
	for i := range insns {
		o := i * InsnSize
		insns[i] = Insn{Code: binary.LittleEndian.Uint16(b[o:]), Jt: b[o+2], Jf: b[o+3],
			K: binary.LittleEndian.Uint32(b[o+4:])}
	}
	return insns
}

// Instruction classes and fields (include/uapi/linux/bpf_common.h).
const (
	clsLD, clsLDX, clsST, clsSTX, clsALU, clsJMP, clsRET, clsMISC = 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07

	ldW, ldH, ldB                             = 0x00, 0x08, 0x10
	mIMM, mABS, mIND, mMEM, mLEN, mMSH        = 0x00, 0x20, 0x40, 0x60, 0x80, 0xa0
	aADD, aSUB, aMUL, aDIV, aOR, aAND         = 0x00, 0x10, 0x20, 0x30, 0x40, 0x50
	aLSH, aRSH, aNEG, aMOD, aXOR              = 0x60, 0x70, 0x80, 0x90, 0xa0
	jJA, jJEQ, jJGT, jJGE, jJSET              = 0x00, 0x10, 0x20, 0x30, 0x40
	srcK, srcX                                = 0x00, 0x08
	rvK, rvA                                  = 0x00, 0x10
	miscTAX, miscTXA                          = 0x00, 0x80
	skfAdOff                           uint32 = 0xfffff000 // SKF_AD_OFF: ancillary loads, none allowed here
)

// Check validates insns as a seccomp filter and returns the program Run
// executes. Linux checks the generic rules first (bpf_check_classic),
// then seccomp's narrower instruction set (seccomp_check_filter); either
// failure is EINVAL, so the order does not show.
func Check(insns []Insn) (*Program, error) {
	n := len(insns)
	if n == 0 || n > MaxInsns {
		return nil, ErrInvalid
	}
	for pc, in := range insns {
		if !seccompAllowed(in) {
			return nil, ErrInvalid
		}
		switch in.Code {
		case clsALU | aDIV | srcK:
			if in.K == 0 {
				return nil, ErrInvalid
			}
		case clsALU | aLSH | srcK, clsALU | aRSH | srcK:
			if in.K >= 32 {
				return nil, ErrInvalid
			}
		case clsLD | mMEM, clsLDX | mMEM, clsST, clsSTX:
			if in.K >= memWords {
				return nil, ErrInvalid
			}
		case clsJMP | jJA:
			if in.K >= uint32(n-pc-1) {
				return nil, ErrInvalid
			}
		case clsLD | ldW | mABS:
			if in.K >= DataSize || in.K&3 != 0 {
				return nil, ErrInvalid
			}
		default:
			if in.Code&0x07 == clsJMP {
				if pc+int(in.Jt)+1 >= n || pc+int(in.Jf)+1 >= n {
					return nil, ErrInvalid
				}
			}
		}
	}
	if last := insns[n-1].Code; last != clsRET|rvK && last != clsRET|rvA {
		return nil, ErrInvalid
	}
	if !loadsAfterStores(insns) {
		return nil, ErrInvalid
	}
	p := &Program{insns: make([]Insn, n)}
	copy(p.insns, insns)
	for i := range p.insns {
		// A "length of the packet" load is the size of seccomp_data.
		switch p.insns[i].Code {
		case clsLD | ldW | mLEN:
			p.insns[i] = Insn{Code: clsLD | mIMM, K: DataSize}
		case clsLDX | ldW | mLEN:
			p.insns[i] = Insn{Code: clsLDX | mIMM, K: DataSize}
		}
	}
	return p, nil
}

// seccompAllowed reports whether in's code is one seccomp filters may
// use (seccomp_check_filter's list).
func seccompAllowed(in Insn) bool {
	switch in.Code {
	case clsLD | ldW | mABS, clsLD | ldW | mLEN, clsLDX | ldW | mLEN,
		clsRET | rvK, clsRET | rvA,
		clsALU | aNEG, clsLD | mIMM, clsLDX | mIMM, clsMISC | miscTAX, clsMISC | miscTXA,
		clsLD | mMEM, clsLDX | mMEM, clsST, clsSTX, clsJMP | jJA:
		return true
	}
	switch in.Code &^ srcX {
	case clsALU | aADD, clsALU | aSUB, clsALU | aMUL, clsALU | aDIV, clsALU | aAND,
		clsALU | aOR, clsALU | aXOR, clsALU | aLSH, clsALU | aRSH,
		clsJMP | jJEQ, clsJMP | jJGE, clsJMP | jJGT, clsJMP | jJSET:
		return true
	}
	return false
}

// loadsAfterStores reports whether every load from scratch memory reads a
// slot stored to on every path to it. Linux: net/core/filter.c
// (check_load_and_stores)
func loadsAfterStores(insns []Insn) bool {
	masks := make([]uint16, len(insns))
	for i := range masks {
		masks[i] = 0xffff
	}
	var valid uint16
	for pc, in := range insns {
		valid &= masks[pc]
		switch {
		case in.Code == clsST || in.Code == clsSTX:
			valid |= 1 << in.K
		case in.Code == clsLD|mMEM || in.Code == clsLDX|mMEM:
			if valid&(1<<in.K) == 0 {
				return false
			}
		case in.Code == clsJMP|jJA:
			masks[pc+1+int(in.K)] &= valid
			valid = 0xffff
		case in.Code&0x07 == clsJMP:
			masks[pc+1+int(in.Jt)] &= valid
			masks[pc+1+int(in.Jf)] &= valid
			valid = 0xffff
		}
	}
	return true
}

// Run executes p on data (a seccomp_data as the guest would see it, in
// little-endian order) and returns the filter's 32-bit answer.
func (p *Program) Run(data *[DataSize]byte) uint32 {
	r, _ := p.run(data, false)
	return r
}

// ConstantFor runs p for a call whose number and architecture are known
// and nothing else: ok is false if the answer depends on the instruction
// pointer or the arguments (the program loaded one of them). Linux builds
// its seccomp action cache the same way. Linux: kernel/seccomp.c
// (seccomp_cache_prepare_bitmap)
func (p *Program) ConstantFor(nr, arch uint32) (ret uint32, ok bool) {
	var d [DataSize]byte
	binary.LittleEndian.PutUint32(d[0:], nr)
	binary.LittleEndian.PutUint32(d[4:], arch)
	return p.run(&d, true)
}

// run executes p; with onlyHeader a load past seccomp_data's nr and arch
// stops it with ok false.
func (p *Program) run(data *[DataSize]byte, onlyHeader bool) (uint32, bool) {
	var a, x uint32
	var mem [memWords]uint32
	insns := p.insns
	for pc := 0; pc < len(insns); pc++ {
		in := insns[pc]
		switch in.Code {
		case clsLD | ldW | mABS:
			if onlyHeader && in.K >= 8 {
				return 0, false
			}
			a = binary.LittleEndian.Uint32(data[in.K:])
		case clsLD | mIMM:
			a = in.K
		case clsLDX | mIMM:
			x = in.K
		case clsLD | mMEM:
			a = mem[in.K]
		case clsLDX | mMEM:
			x = mem[in.K]
		case clsST:
			mem[in.K] = a
		case clsSTX:
			mem[in.K] = x
		case clsMISC | miscTAX:
			x = a
		case clsMISC | miscTXA:
			a = x
		case clsRET | rvK:
			return in.K, true
		case clsRET | rvA:
			return a, true
		case clsALU | aNEG:
			a = -a
		case clsJMP | jJA:
			pc += int(in.K)
		default:
			v := in.K
			if in.Code&srcX != 0 {
				v = x
			}
			if in.Code&0x07 == clsJMP {
				if jumpTaken(in.Code&0xf0, a, v) {
					pc += int(in.Jt)
				} else {
					pc += int(in.Jf)
				}
				continue
			}
			switch in.Code & 0xf0 {
			case aADD:
				a += v
			case aSUB:
				a -= v
			case aMUL:
				a *= v
			case aDIV:
				if v == 0 {
					return 0, true // Linux: a division by zero ends the program with 0
				}
				a /= v
			case aAND:
				a &= v
			case aOR:
				a |= v
			case aXOR:
				a ^= v
			case aLSH:
				a = shift(a, v, true)
			case aRSH:
				a = shift(a, v, false)
			}
		}
	}
	return 0, true // unreachable for a checked program: its last instruction returns
}

func jumpTaken(op uint16, a, v uint32) bool {
	switch op {
	case jJEQ:
		return a == v
	case jJGT:
		return a > v
	case jJGE:
		return a >= v
	default: // jJSET
		return a&v != 0
	}
}

// shift is a 32-bit shift. A count in X is taken mod 32, as Linux's BPF
// interpreter and x86 JIT do; Check refuses a constant count of 32 or more.
func shift(a, v uint32, left bool) uint32 {
	v &= 31
	if left {
		return a << v
	}
	return a >> v
}
