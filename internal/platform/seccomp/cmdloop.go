package seccomp

import "golang.org/x/sys/unix"

// commandLoop assembles the syscall thread's loop: it waits for a command
// on the read-only command page, makes the mapping changes queued ahead of
// it (queue.go), runs it, reports its result on the pipe and, when the
// command names a thread to resume, resumes it. It keeps its state in
// registers: r14 = ctlRO, r12 = the last sequence number served.
func commandLoop(a *asm) {
	// --- The syscall thread's loop. r14 = ctlRO, r12 = last seq. ------
	a.label("wait")
	a.load32(rax, r14, cmdSeq)
	a.cmp32(rax, r12)
	a.jcc(condNE, "command")
	// futex(&cmdSeq, FUTEX_WAIT, last, NULL)
	a.lea(rdi, r14, cmdSeq)
	a.xor32(rsi, rsi)
	a.mov(rdx, r12)
	a.xor32(r10, r10)
	a.movImm32(rax, nrFutex)
	a.syscall("st_futex")
	a.jmp("wait")

	// A command: first the mapping changes queued ahead of it (queue.go;
	// rbx = 1 while they run, r15 counts them, r13 walks them), then the
	// command itself (rbx = 0). A queued change that fails kills the
	// stub: glassbox has recorded it as made.
	a.label("command")
	a.mov(r12, rax)
	a.load64(r15, r14, cmdCount)
	a.lea(r13, r14, cmdQueue)
	a.movImm32(rbx, 1)
	a.label("q_next")
	a.test(r15, r15)
	a.jcc(condE, "main")
	for i, r := range []reg{rdi, rsi, rdx, r10, r8, r9} {
		a.load64(r, r13, 8+8*int32(i))
	}
	a.load64(rax, r13, 0)
	a.addImm(r13, cmdEntrySize)
	a.subImm(r15, 1)
	a.cmpImm(rax, opMmap)
	a.jcc(condE, "do_mmap")
	a.cmpImm(rax, opMmapPopulate)
	a.jcc(condE, "do_mmap_pop")
	a.cmpImm(rax, opMunmap)
	a.jcc(condE, "do_munmap")
	a.cmpImm(rax, opMprotect)
	a.jcc(condE, "do_mprotect")
	a.cmpImm(rax, opMmapFile)
	a.jcc(condE, "do_mmap_file")
	a.movImm64(rax, negErrno(unix.EINVAL))
	a.jmp("q_die")
	// A mapping change done: the next queued one, or the command's report.
	a.label("map_done")
	a.test(rbx, rbx)
	a.jcc(condE, "report")
	a.cmpImm(rax, -4095)
	a.jcc(condB, "q_next")
	a.label("q_die")
	a.mov(rdi, rax)
	a.neg(rdi)
	a.movImm32(rax, nrExitGroup)
	a.syscall("st_die")
	a.ud2()

	a.label("main")
	a.xor32(rbx, rbx)
	loadCmdArgs(a)
	a.load64(rax, r14, cmdOp)
	a.cmpImm(rax, opNone)
	a.jcc(condE, "report")
	a.cmpImm(rax, opMmap)
	a.jcc(condE, "do_mmap")
	a.cmpImm(rax, opMunmap)
	a.jcc(condE, "do_munmap")
	a.cmpImm(rax, opMprotect)
	a.jcc(condE, "do_mprotect")
	a.cmpImm(rax, opClone)
	a.jcc(condE, "do_clone")
	a.cmpImm(rax, opMembarrier)
	a.jcc(condE, "do_membarrier")
	a.cmpImm(rax, opMmapPopulate)
	a.jcc(condE, "do_mmap_pop")
	a.cmpImm(rax, opMmapFile)
	a.jcc(condE, "do_mmap_file")
	a.cmpImm(rax, opRecvMmapFile)
	a.jcc(condE, "do_recv_file")
	a.movImm64(rax, negErrno(unix.EINVAL))
	a.jmp("report")

	a.label("do_mmap")
	a.movImm32(rax, nrMmap)
	a.syscall("st_mmap")
	a.jmp("map_done")
	a.label("do_mmap_pop")
	a.movImm32(rax, nrMmap)
	a.syscall("st_mmap_pop")
	a.jmp("map_done")
	// A host file (hostfile.go): recvmsg(sockFD, &rxMsg, flags) takes
	// the one descriptor glassbox sent, which lands at the lowest free
	// number, the one the command's mmap names. A failed receive reports
	// recvFailed, whatever the errno.
	a.label("do_recv_file")
	a.movImm32(rdi, sockFD)
	a.movImm64(rsi, slotAddr(rxSlot)+rxMsg)
	a.movImm32(rdx, recvFlags)
	a.movImm32(rax, nrRecvmsg)
	a.syscall("st_recvmsg")
	a.cmpImm(rax, -4095)
	a.jcc(condB, "recv_ok")
	a.movImm64(rax, negErrno(recvFailed))
	a.jmp("report")
	a.label("recv_ok")
	loadCmdArgs(a)
	a.label("do_mmap_file")
	a.movImm32(rax, nrMmap)
	a.syscall("st_mmap_file")
	a.jmp("map_done")
	a.label("do_munmap")
	a.movImm32(rax, nrMunmap)
	a.syscall("st_munmap")
	a.jmp("map_done")
	a.label("do_mprotect")
	a.movImm32(rax, nrMprotect)
	a.syscall("st_mprotect")
	a.jmp("map_done")
	a.label("do_membarrier")
	a.movImm32(rdi, membarrierSyncCore)
	a.xor32(rsi, rsi)
	a.xor32(rdx, rdx)
	a.movImm32(rax, nrMembarrier)
	a.syscall("st_membarrier")
	a.jmp("report")
	a.label("do_clone")
	a.load64(rbx, r14, cmdSS)   // the child's stack_t, kept in a register
	a.load64(r13, r14, cmdSlot) // and its slot
	a.movImm32(rax, nrClone)
	a.syscall("st_clone")
	a.test(rax, rax)
	a.jcc(condE, "boot")
	// fall through to report (rax: the child's tid or -errno)

	// report: write(2, &byteTable[errno or 0], 1); then, for a command
	// that succeeded and names a state word, resume that thread: its
	// word goes from stQueued to stResume (an xor keeps glassbox'
	// sleeper flag) and the handler's side is woken (futex bitset
	// futexHandler: a glassbox thread asleep on the word sleeps on).
	// The result byte ends glassbox' wait for the command: the command
	// page is not read after it (r15 keeps the word to resume).
	a.label("report")
	a.load64(r15, r14, cmdResume)
	a.xor32(rsi, rsi)
	a.cmpImm(rax, -4095)
	a.jcc(condB, "report_ok")
	a.mov(rsi, rax)
	a.neg(rsi)
	a.andImm(rsi, 0xff)
	a.label("report_ok")
	a.add(rsi, r14)
	a.addImm(rsi, byteTable)
	a.movImm32(rdi, 2)
	a.movImm32(rdx, 1)
	a.movImm32(rax, nrWrite)
	a.syscall("st_write")
	a.mov(rdi, r15)
	a.test(rdi, rdi)
	a.jcc(condE, "wait")
	a.lea(rax, r14, byteTable)
	a.cmp(rsi, rax)
	a.jcc(condNE, "wait")
	a.movImm32(rax, stQueued^stResume)
	a.lockXor32(rdi, 0, rax)
	a.movImm32(rsi, futexOpWakeBitset)
	a.movImm32(rdx, 0x7fffffff)
	a.xor32(r10, r10)
	a.xor32(r8, r8)
	a.movImm32(r9, futexHandler)
	a.movImm32(rax, nrFutex)
	a.syscall("st_resume")
	a.jmp("wait")
}
