package kernel

// LocalSigInfo is info as t reads it: the sender's pid numbered in t's
// PID namespace (0 when the sender is outside it). Linux numbers si_pid
// for the receiver when the signal is sent (task_pid_nr_ns); glassbox
// keeps the kernel's number in the queue and numbers it when the siginfo
// is handed to the guest (a frame, sigtimedwait, signalfd, ptrace).
func (t *Task) LocalSigInfo(info SigInfo) SigInfo {
	if info.PID > 0 {
		info.PID = int32(t.VPID(int(info.PID)))
	}
	return info
}
