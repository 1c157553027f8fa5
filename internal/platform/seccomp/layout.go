package seccomp

// Fixed layout of every stub process. The stub's code page and the vDSO sit
// where the ptrace platform puts them, so guests see the same address space
// on both platforms; the control areas lie above them, all above the guest's
// TASK_SIZE.
const (
	StubBase = 0x7ff000000000 // guest TASK_SIZE: guests map below this
	codeOff  = 0x100          // the stub's code, after the ELF headers
	codePage = 0x1000
	vdsoArea = StubBase + 0x10000 // the host's vvar and vDSO pages, moved here
	vdsoMax  = 0x100000 - 0x10000 // room for them

	// The control memfd, one per stub process, shared with glassbox. Its
	// first ctlROSize bytes are mapped read-only in the stub at ctlRO
	// (commands for the syscall thread, set-up data); the rest, the
	// per-thread slots, read-write at slotsBase.
	ctlRO     = StubBase + 0x100000
	ctlROSize = 0x20000
	slotsBase = StubBase + 0x200000
	slotSize  = 0x8000 // one guest thread: header, then its signal stack
	maxSlots  = 4096
	slotsSize = maxSlots * slotSize
	areaEnd   = slotsBase + slotsSize // the stub's areas end here
	ctlSize   = ctlROSize + slotsSize // the control memfd's size
	// userTop is the end of the x86-64 user address space (4-level paging).
	userTop = 0x7ffffffff000
)

// The read-only command page (offsets into the control memfd).
const (
	cmdSeq    = 0x000 // uint32: glassbox bumps it to post a command (futex word)
	cmdOp     = 0x008 // uint64: opMmap...
	cmdArgs   = 0x010 // 6 × uint64: the syscall's arguments
	cmdSS     = 0x040 // uint64: clone: address of the new thread's stack_t
	cmdSlot   = 0x048 // uint64: clone: the new thread's slot
	cmdCount  = 0x050 // uint64: mapping changes queued ahead of the command (cmdQueue)
	cmdResume = 0x058 // uint64: 0, or the state word the command resumes (queue.go)
	setupVDSO = 0x080 // uint64 count, then 4 × {rel to AT_SYSINFO_EHDR, size, target}
	maxVDSO   = 4
	sigact    = 0x100   // struct kernel_sigaction for the stub's handler
	maskAll   = 0x120   // uint64 sigset: every signal
	maskBoot  = 0x128   // uint64 sigset: a new thread's mask until its first trap
	rlimZero  = 0x140   // struct rlimit {0, 0}
	roXfeat   = 0x150   // uint64: the XSAVE components of a signal frame (patch.go's trampoline)
	roPatch   = 0x158   // uint64: nonzero while the patch region is mapped at PatchBase
	byteTable = 0x200   // 256 bytes, byte i = i: what the syscall thread writes
	cmdQueue  = 0x400   // cmdQueueMax × {op, 6 args}: queued mapping changes (queue.go)
	stackTs   = 0x1000  // maxSlots × stack_t: each slot's sigaltstack
	roProgB   = 0x19000 // the base filter: struct sock_fprog, then its program
	roProgG   = 0x1c000 // the guest filter likewise
)

// The filters lie past the last stack_t, and the queue before the first
// (a negative constant here does not compile).
const (
	_ = uint(roProgB - (stackTs + maxSlots*24))
	_ = uint(stackTs - (cmdQueue + cmdQueueMax*cmdEntrySize))
)

// A queued mapping change on the command page: its op, then its syscall's
// six arguments.
const (
	cmdEntrySize = 0x40
	cmdQueueMax  = 48
)

// Commands for the syscall thread.
const (
	// opNone does nothing: a command that only resumes a thread after
	// its queued mapping changes (queue.go).
	opNone     = 0
	opMmap     = 1
	opMunmap   = 2
	opMprotect = 3
	opClone    = 4
	// opMembarrier serialises every CPU running a thread of the stub
	// (patch.go); its failure is reported, not fatal.
	opMembarrier = 5
	// opMmapPopulate is opMmap with MAP_POPULATE: the host fills the
	// stub's page tables for the whole run at once.
	opMmapPopulate = 6
	// opMmapFile maps a host file the stub already holds (hostfile.go):
	// MAP_PRIVATE|MAP_FIXED, never writable.
	opMmapFile = 7
	// opRecvMmapFile receives one host file's descriptor from the socket
	// (recvmsg), then maps it as opMmapFile does.
	opRecvMmapFile = 8
)

// The stub's descriptors. fd 4 (the control memfd) is closed once the
// stub is set up, so the host files it receives get 4, 5, 6... in turn:
// the lowest free numbers, which glassbox predicts (hostfile.go).
const (
	memFD       = 0 // the memory file
	sockFD      = 1 // a socket whose peer only glassbox holds: host files arrive here
	resultFD    = 2 // the result pipe's write end
	deathFD     = 3 // the death pipe's write end (never used: its closing is the news)
	ctlFD       = 4 // the control memfd, until set-up ends
	firstFileFD = 4 // the first host file's descriptor
	// maxHostFiles bounds the host files one stub holds.
	maxHostFiles = 128
)

// The syscall thread's receive area: recvmsg's msghdr and control
// buffer, in the last slot (never a thread's). The kernel writes back
// into both, so they cannot lie on the read-only page; like every slot
// they are guest-writable: glassbox writes them afresh before each
// receive and reads nothing back (hostfile.go says why nothing a guest
// writes there can matter).
const (
	rxSlot    = maxSlots - 1
	rxMsg     = 0x00 // struct msghdr (56 bytes)
	rxCtl     = 0x40 // the control buffer: one cmsghdr and one int
	rxCtlSize = 24   // CMSG_SPACE(sizeof(int))
)

// A slot's header (offsets from the slot's base). Everything in a slot is
// writable by the guest: glassbox validates what it reads here.
const (
	hdrState = 0x00 // uint32 futex word: stDead, stTrapped, stResume, stExit (| flagSleeper)
	hdrTID   = 0x04 // int32: the host tid (CLONE_PARENT_SETTID)
	hdrUC    = 0x08 // uint64: the handler's ucontext pointer
	hdrFS    = 0x10 // uint64: fs_base at the trap / to load on resume
	hdrGS    = 0x18 // uint64: gs_base likewise
	hdrSpin  = 0x20 // uint32: how many times the handler polls before it sleeps (spin.go)
	hdrTrapT = 0x28 // uint64: the TSC when the handler took the trap (spin.go)
	hdrWakeT = 0x30 // uint64: the TSC when the handler saw resume
	hdrSlow  = 0x38 // uint32: a patched call must return through the signal path (patch.go)
	hdrDrops = 0x3c // uint32: interrupts the handler dropped in a patched call (patch.go)
	// A patched call (patch.go) runs on a small stack at the top of the
	// header page and keeps the guest's registers in a frame laid out as
	// the host's signal frame, at the bottom of the signal stack (signals
	// taken meanwhile land at its top: the trampoline's stack lies outside
	// the signal stack).
	pStack   = 0x1000
	pUC      = altStack + 8 // the frame's ucontext
	pFP      = 0x1200       // its XSAVE image (64-byte aligned)
	altStack = 0x1000
	altSize  = slotSize - altStack
)

// Values of a slot's state word.
const (
	stDead    = 0 // the thread is gone (CLONE_CHILD_CLEARTID) or never was
	stTrapped = 1 // the handler holds a trap frame and waits for glassbox
	stResume  = 2 // glassbox answered: return into the frame
	stExit    = 3 // glassbox asks the thread to end
	// stQueued: glassbox answered, and the syscall thread resumes the
	// thread once it has made the queued mapping changes (queue.go).
	stQueued    = 4
	flagSleeper = 0x100
	stateMask   = 0xff
)

// The host clone flags of a new stub thread: same memory, files and
// handlers; its tid stored in its slot, and the slot's state word cleared
// (with a futex wake) when it ends.
const threadCloneFlags = 0x100 | 0x200 | 0x400 | 0x800 | 0x10000 | 0x40000 | // VM FS FILES SIGHAND THREAD SYSVSEM
	0x100000 | 0x200000 // PARENT_SETTID CHILD_CLEARTID

// readyNR is the syscall a new thread makes to trap the first time.
const readyNR = 39 // getpid

func slotAddr(i int) uint64 { return slotsBase + uint64(i)*slotSize }

// slotOff is slot i's offset in the control memfd.
func slotOff(i int) int { return ctlROSize + i*slotSize }
