package tests

import "testing"

// statfsRootC checks what disk-usage tools conclude from statvfs("/"):
// the root holds the host's files (blocks and inodes in use) and has room
// left (CPython's test_shutil test_disk_usage).
const statfsRootC = `
#include <stdio.h>
#include <sys/statvfs.h>

int main(void) {
	struct statvfs s;
	if (statvfs("/", &s)) { perror("statvfs"); return 1; }
	unsigned long long total = s.f_blocks, free = s.f_bfree, avail = s.f_bavail;
	printf("blocks used: %d\n", total > free);
	printf("room left: %d\n", avail > 0 && free >= avail && total > free);
	printf("inodes used: %d\n", s.f_files > s.f_ffree);
	printf("read-write: %d\n", !(s.f_flag & ST_RDONLY));
	return 0;
}
`

func TestStatfsRoot(t *testing.T) {
	diff(t, []string{compileC(t, "statfsroot", statfsRootC)})
}
