package oci

import (
	"encoding/binary"
	"io"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"glassbox/internal/bpf"
)

// TestCompileSeccomp runs a compiled profile on seccomp_data for calls
// and arguments on each side of every condition.
func TestCompileSeccomp(t *testing.T) {
	u := func(v uint) *uint { return &v }
	arg := func(i uint, op specs.LinuxSeccompOperator, v, v2 uint64) []specs.LinuxSeccompArg {
		return []specs.LinuxSeccompArg{{Index: i, Value: v, ValueTwo: v2, Op: op}}
	}
	prof := &specs.LinuxSeccomp{
		DefaultAction: specs.ActErrno,
		Syscalls: []specs.LinuxSyscall{
			{Names: []string{"read", "write", "no_such_call"}, Action: specs.ActAllow},
			{Names: []string{"personality"}, Action: specs.ActAllow, Args: arg(0, specs.OpEqualTo, 0xffffffff, 0)},
			{Names: []string{"clone"}, Action: specs.ActAllow, Args: arg(0, specs.OpMaskedEqual, 0x7e020000, 0)},
			{Names: []string{"dup"}, Action: specs.ActErrno, ErrnoRet: u(5), Args: arg(0, specs.OpGreaterThan, 10, 0)},
			{Names: []string{"dup2"}, Action: specs.ActTrap, Args: arg(0, specs.OpLessThan, 3, 0)},
			{Names: []string{"dup3"}, Action: specs.ActAllow, Args: arg(1, specs.OpGreaterEqual, 1<<32, 0)},
			{Names: []string{"fcntl"}, Action: specs.ActAllow, Args: arg(1, specs.OpLessEqual, 1<<32|1, 0)},
			{Names: []string{"kill"}, Action: specs.ActAllow, Args: arg(1, specs.OpNotEqual, 9, 0)},
			{Names: []string{"exit_group"}, Action: specs.ActKillProcess},
		},
	}
	insns, err := compileSeccomp(prof, &logger{w: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	p, err := bpf.Check(insns)
	if err != nil {
		t.Fatalf("the compiled filter does not pass Linux's checks: %v", err)
	}
	const (
		allow = unix.SECCOMP_RET_ALLOW
		eperm = unix.SECCOMP_RET_ERRNO | uint32(unix.EPERM)
	)
	for _, c := range []struct {
		nr   int
		args []uint64
		want uint32
	}{
		{unix.SYS_READ, nil, allow},
		{unix.SYS_WRITE, nil, allow},
		{unix.SYS_GETPID, nil, eperm},
		{unix.SYS_PERSONALITY, []uint64{0xffffffff}, allow},
		{unix.SYS_PERSONALITY, []uint64{0x1ffffffff}, eperm},
		{unix.SYS_PERSONALITY, []uint64{8}, eperm},
		{unix.SYS_CLONE, []uint64{unix.CLONE_VM | unix.CLONE_THREAD}, allow},
		{unix.SYS_CLONE, []uint64{unix.CLONE_NEWUSER}, eperm},
		{unix.SYS_CLONE, []uint64{1<<40 | uint64(unix.SIGCHLD)}, allow},
		{unix.SYS_DUP, []uint64{11}, unix.SECCOMP_RET_ERRNO | 5},
		{unix.SYS_DUP, []uint64{10}, eperm},
		{unix.SYS_DUP, []uint64{1 << 32}, unix.SECCOMP_RET_ERRNO | 5},
		{unix.SYS_DUP2, []uint64{2}, unix.SECCOMP_RET_TRAP},
		{unix.SYS_DUP2, []uint64{3}, eperm},
		{unix.SYS_DUP2, []uint64{1<<32 | 1}, eperm},
		{unix.SYS_DUP3, []uint64{0, 1 << 32}, allow},
		{unix.SYS_DUP3, []uint64{0, 1<<32 - 1}, eperm},
		{unix.SYS_DUP3, []uint64{0, 1 << 33}, allow},
		{unix.SYS_FCNTL, []uint64{0, 1<<32 | 1}, allow},
		{unix.SYS_FCNTL, []uint64{0, 1<<32 | 2}, eperm},
		{unix.SYS_FCNTL, []uint64{0, 5}, allow},
		{unix.SYS_FCNTL, []uint64{0, 2 << 32}, eperm},
		{unix.SYS_KILL, []uint64{1, 15}, allow},
		{unix.SYS_KILL, []uint64{1, 9}, eperm},
		{unix.SYS_KILL, []uint64{1, 1<<32 | 9}, allow},
		{unix.SYS_EXIT_GROUP, nil, unix.SECCOMP_RET_KILL_PROCESS},
	} {
		var d [bpf.DataSize]byte
		binary.LittleEndian.PutUint32(d[0:], uint32(c.nr))
		binary.LittleEndian.PutUint32(d[4:], unix.AUDIT_ARCH_X86_64)
		for i, a := range c.args {
			binary.LittleEndian.PutUint64(d[16+8*i:], a)
		}
		if got := p.Run(&d); got != c.want {
			t.Errorf("nr %d args %#x: got %#x, want %#x", c.nr, c.args, got, c.want)
		}
	}
	var other [bpf.DataSize]byte
	binary.LittleEndian.PutUint32(other[4:], unix.AUDIT_ARCH_I386)
	if got := p.Run(&other); got != unix.SECCOMP_RET_KILL_PROCESS {
		t.Errorf("another architecture: got %#x", got)
	}
	if _, err := compileSeccomp(&specs.LinuxSeccomp{DefaultAction: specs.ActNotify}, &logger{w: io.Discard}); err == nil {
		t.Errorf("SCMP_ACT_NOTIFY compiled; glassbox has no notifications")
	}
}
