// Package bpf checks and runs classic BPF programs as Linux runs seccomp
// filters: the guest hands glassbox a struct sock_fprog with
// seccomp(SECCOMP_SET_MODE_FILTER) or prctl(PR_SET_SECCOMP), glassbox
// checks it once (Check: the rules of bpf_check_classic and
// seccomp_check_filter, so a program Linux refuses is refused here with
// the same EINVAL) and then runs it (Run) on the 64-byte seccomp_data of
// every system call of the tasks it applies to.
//
// Everything here is untrusted input from guest memory: Check bounds every
// jump, memory slot and load; Run never indexes outside the program or
// the data and always ends (a checked program only jumps forward).
//
// The package holds no state and no locks; a checked Program is immutable
// and may be run by any number of goroutines at once.
//
// Linux: net/core/filter.c (bpf_check_classic, check_load_and_stores),
// kernel/seccomp.c (seccomp_check_filter, seccomp_run_filters).
package bpf
