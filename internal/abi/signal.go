package abi

import "strconv"

// Signal numbers on x86-64. Linux: arch/x86/include/uapi/asm/signal.h
const (
	SIGHUP    = 1
	SIGINT    = 2
	SIGQUIT   = 3
	SIGILL    = 4
	SIGTRAP   = 5
	SIGABRT   = 6
	SIGBUS    = 7
	SIGFPE    = 8
	SIGKILL   = 9
	SIGUSR1   = 10
	SIGSEGV   = 11
	SIGUSR2   = 12
	SIGPIPE   = 13
	SIGALRM   = 14
	SIGTERM   = 15
	SIGSTKFLT = 16
	SIGCHLD   = 17
	SIGCONT   = 18
	SIGSTOP   = 19
	SIGTSTP   = 20
	SIGTTIN   = 21
	SIGTTOU   = 22
	SIGURG    = 23
	SIGXCPU   = 24
	SIGXFSZ   = 25
	SIGVTALRM = 26
	SIGPROF   = 27
	SIGWINCH  = 28
	SIGIO     = 29
	SIGPWR    = 30
	SIGSYS    = 31
	SIGRTMIN  = 32
	SIGRTMAX  = 64
	NSIG      = 64
)

var signalNames = [...]string{
	"", "SIGHUP", "SIGINT", "SIGQUIT", "SIGILL", "SIGTRAP", "SIGABRT", "SIGBUS", "SIGFPE",
	"SIGKILL", "SIGUSR1", "SIGSEGV", "SIGUSR2", "SIGPIPE", "SIGALRM", "SIGTERM", "SIGSTKFLT",
	"SIGCHLD", "SIGCONT", "SIGSTOP", "SIGTSTP", "SIGTTIN", "SIGTTOU", "SIGURG", "SIGXCPU",
	"SIGXFSZ", "SIGVTALRM", "SIGPROF", "SIGWINCH", "SIGIO", "SIGPWR", "SIGSYS",
}

// SignalName returns "SIGSEGV" for 11, "SIGRTMIN+3" for 35 and so on.
func SignalName(sig int) string {
	switch {
	case sig > 0 && sig < len(signalNames):
		return signalNames[sig]
	case sig == SIGRTMIN:
		return "SIGRTMIN"
	case sig > SIGRTMIN && sig <= SIGRTMAX:
		return "SIGRTMIN+" + strconv.Itoa(sig-SIGRTMIN)
	}
	return "signal " + strconv.Itoa(sig)
}

// SigSet is a 64-bit signal mask; bit sig-1 stands for signal sig.
type SigSet uint64

// SigBit returns the mask bit of sig.
func SigBit(sig int) SigSet { return 1 << uint(sig-1) }

// Has reports whether sig is in the set.
func (s SigSet) Has(sig int) bool { return s&SigBit(sig) != 0 }

// Unblockable signals: SIGKILL and SIGSTOP.
const Unblockable = SigSet(1<<(SIGKILL-1) | 1<<(SIGSTOP-1))

// Signal codes (si_code). Linux: include/uapi/asm-generic/siginfo.h
const (
	SI_USER       = 0
	SI_KERNEL     = 0x80
	SI_QUEUE      = -1
	SI_TIMER      = -2
	SI_TKILL      = -6
	SEGV_MAPERR   = 1
	SEGV_ACCERR   = 2
	BUS_ADRERR    = 2
	FPE_INTDIV    = 1
	ILL_ILLOPN    = 2
	TRAP_BRKPT    = 1
	CLD_EXITED    = 1
	CLD_KILLED    = 2
	CLD_DUMPED    = 3
	CLD_TRAPPED   = 4
	CLD_STOPPED   = 5
	CLD_CONTINUED = 6
)

// sigaction flags (sa_flags).
const (
	SA_NOCLDSTOP = 0x1
	SA_NOCLDWAIT = 0x2
	SA_SIGINFO   = 0x4
	SA_RESTORER  = 0x04000000
	SA_ONSTACK   = 0x08000000
	SA_RESTART   = 0x10000000
	SA_NODEFER   = 0x40000000
	SA_RESETHAND = 0x80000000
)
