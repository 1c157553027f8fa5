// Package loader builds a fresh address space for execve: it maps an ELF
// executable (ET_EXEC, or ET_DYN: PIE and static-pie) and, when it names
// one, its program interpreter (PT_INTERP, the dynamic linker), then writes
// the initial stack: argc, argv, envp and the auxiliary vector.
// Linux: fs/binfmt_elf.c, fs/exec.c
//
// Segments are MAP_PRIVATE file mappings of the file's page cache, so every
// process running the same binary shares its pages until it writes them.
// The loader holds no state and takes no locks of its own.
package loader
