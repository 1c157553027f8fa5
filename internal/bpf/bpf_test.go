package bpf

import (
	"encoding/binary"
	"testing"
)

func stmt(code uint16, k uint32) Insn { return Insn{Code: code, K: k} }
func jump(code uint16, k uint32, jt, jf uint8) Insn {
	return Insn{Code: code, Jt: jt, Jf: jf, K: k}
}

func data(nr uint32, args ...uint64) *[DataSize]byte {
	var d [DataSize]byte
	binary.LittleEndian.PutUint32(d[0:], nr)
	binary.LittleEndian.PutUint32(d[4:], 0xc000003e)
	for i, a := range args {
		binary.LittleEndian.PutUint64(d[16+8*i:], a)
	}
	return &d
}

// A libseccomp-shaped filter: check the arch, then allow getpid, answer
// EPERM for write to fd 2 and kill everything else.
var sample = []Insn{
	stmt(clsLD|ldW|mABS, 4),
	jump(clsJMP|jJEQ|srcK, 0xc000003e, 1, 0),
	stmt(clsRET|rvK, 0), // kill
	stmt(clsLD|ldW|mABS, 0),
	jump(clsJMP|jJEQ|srcK, 39, 0, 1),
	stmt(clsRET|rvK, 0x7fff0000), // allow
	jump(clsJMP|jJEQ|srcK, 1, 0, 3),
	stmt(clsLD|ldW|mABS, 16),
	jump(clsJMP|jJEQ|srcK, 2, 0, 1),
	stmt(clsRET|rvK, 0x00050001), // errno EPERM
	stmt(clsRET|rvK, 0x80000000), // kill process
}

func TestRunSample(t *testing.T) {
	p, err := Check(sample)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		d    *[DataSize]byte
		want uint32
	}{
		{data(39), 0x7fff0000},
		{data(1, 2), 0x00050001},
		{data(1, 1), 0x80000000},
		{data(60), 0x80000000},
	} {
		if got := p.Run(c.d); got != c.want {
			t.Errorf("nr %d: got %#x, want %#x", c.d[0], got, c.want)
		}
	}
	d := data(39)
	d[4] = 0 // another arch
	if got := p.Run(d); got != 0 {
		t.Errorf("other arch: got %#x, want 0", got)
	}
}

func TestRunALUAndMemory(t *testing.T) {
	p, err := Check([]Insn{
		stmt(clsLD|ldW|mLEN, 0),      // A = 64
		stmt(clsST, 3),               // M[3] = 64
		stmt(clsLDX|mIMM, 5),         // X = 5
		stmt(clsALU|aMUL|srcX, 0),    // A = 320
		stmt(clsALU|aSUB|srcK, 20),   // 300
		stmt(clsALU|aDIV|srcK, 7),    // 42
		stmt(clsALU|aLSH|srcK, 4),    // 672
		stmt(clsALU|aXOR|srcK, 0xff), // 607
		stmt(clsMISC|miscTAX, 0),     // X = 607
		stmt(clsLD|mMEM, 3),          // A = 64
		stmt(clsALU|aADD|srcX, 0),    // 671
		stmt(clsALU|aNEG, 0),
		stmt(clsALU|aNEG, 0),
		stmt(clsRET|rvA, 0),
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := p.Run(data(0)); got != 671 {
		t.Errorf("got %d, want 671", got)
	}
	div0, err := Check([]Insn{stmt(clsLDX|mIMM, 0), stmt(clsALU|aDIV|srcX, 0), stmt(clsRET|rvK, 7)})
	if err != nil {
		t.Fatal(err)
	}
	if got := div0.Run(data(0)); got != 0 {
		t.Errorf("division by X=0: got %d, want 0", got)
	}
}

func TestCheckRefuses(t *testing.T) {
	ret := stmt(clsRET|rvK, 0)
	for name, prog := range map[string][]Insn{
		"empty":             nil,
		"no ret at end":     {stmt(clsLD|mIMM, 1)},
		"unaligned load":    {stmt(clsLD|ldW|mABS, 2), ret},
		"load past data":    {stmt(clsLD|ldW|mABS, 64), ret},
		"half-word load":    {stmt(clsLD|ldH|mABS, 0), ret},
		"indirect load":     {stmt(clsLD|ldW|mIND, 0), ret},
		"ancillary load":    {stmt(clsLD|ldW|mABS, skfAdOff), ret},
		"div by 0":          {stmt(clsALU|aDIV|srcK, 0), ret},
		"mod":               {stmt(clsALU|aMOD|srcK, 3), ret},
		"shift 32":          {stmt(clsALU|aLSH|srcK, 32), ret},
		"mem slot 16":       {stmt(clsST, 16), ret},
		"load before store": {stmt(clsLD|mMEM, 0), ret},
		"store on one path": {jump(clsJMP|jJEQ|srcK, 1, 0, 1), stmt(clsST, 0), stmt(clsLD|mMEM, 0), ret},
		"ja out":            {stmt(clsJMP|jJA, 1), ret},
		"jt out":            {jump(clsJMP|jJGT|srcK, 0, 1, 0), ret},
		"unknown code":      {stmt(0xffff, 0), ret},
	} {
		if _, err := Check(prog); err != ErrInvalid {
			t.Errorf("%s: Check = %v, want ErrInvalid", name, err)
		}
	}
	long := make([]Insn, MaxInsns+1)
	for i := range long {
		long[i] = ret
	}
	if _, err := Check(long); err != ErrInvalid {
		t.Errorf("4097 instructions: Check = %v", err)
	}
	if _, err := Check(long[:MaxInsns]); err != nil {
		t.Errorf("4096 instructions: Check = %v", err)
	}
}

// FuzzCheckRun: any bytes a guest hands over either fail Check or make a
// program that Run ends on every input without a panic.
func FuzzCheckRun(f *testing.F) {
	var b []byte
	for _, in := range sample {
		b = binary.LittleEndian.AppendUint16(b, in.Code)
		b = append(b, in.Jt, in.Jf)
		b = binary.LittleEndian.AppendUint32(b, in.K)
	}
	f.Add(b, uint32(39), uint64(2))
	f.Add([]byte{0x06, 0, 0, 0, 0, 0, 0xff, 0x7f}, uint32(1), uint64(0))
	f.Fuzz(func(t *testing.T, prog []byte, nr uint32, arg uint64) {
		p, err := Check(Decode(prog))
		if err != nil {
			return
		}
		p.Run(data(nr, arg, arg>>3, ^arg))
	})
}
