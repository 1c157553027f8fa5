package tests

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

const readdirC = `
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>

struct ent { char name[256]; unsigned char type; };

static int cmp(const void *a, const void *b) {
	return strcmp(((const struct ent *)a)->name, ((const struct ent *)b)->name);
}

static const char *tname(unsigned char t) {
	switch (t) {
	case DT_REG: return "REG";
	case DT_DIR: return "DIR";
	case DT_LNK: return "LNK";
	case DT_FIFO: return "FIFO";
	case DT_UNKNOWN: return "UNKNOWN";
	default: return "OTHER";
	}
}

int main(int argc, char **argv) {
	if (argc != 2) return 2;
	DIR *d = opendir(argv[1]);
	if (!d) { perror("opendir"); return 1; }
	struct ent e[64];
	int n = 0;
	struct dirent *de;
	while ((de = readdir(d)) != NULL && n < 64) {
		strcpy(e[n].name, de->d_name);
		e[n].type = de->d_type;
		n++;
	}
	/* At the end, readdir keeps returning NULL. */
	printf("end again: %s\n", readdir(d) == NULL ? "NULL" : "entry");
	/* rewinddir starts over. */
	rewinddir(d);
	int m = 0;
	while (readdir(d) != NULL) m++;
	closedir(d);
	qsort(e, n, sizeof e[0], cmp);
	printf("%d entries, %d after rewind\n", n, m);
	for (int i = 0; i < n; i++)
		printf("%s %s\n", e[i].name, tname(e[i].type));
	return 0;
}
`

// TestGetdents: readdir over a directory with files a, b, c, a subdir and a
// symlink lists the same names and d_type values as the host.
func TestGetdents(t *testing.T) {
	t.Parallel()
	prog := compileC(t, "readdir", readdirC)
	dir := t.TempDir()
	for _, f := range []string{"a", "b", "c"} {
		writeFile(t, filepath.Join(dir, f), "content of "+f+"\n", 0o644)
	}
	if err := os.Mkdir(filepath.Join(dir, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("a", filepath.Join(dir, "link")); err != nil {
		t.Fatal(err)
	}
	native, _ := diff(t, []string{prog, dir})
	expect(t, "native", native, "end again: NULL\n7 entries, 7 after rewind\n"+
		". DIR\n.. DIR\na REG\nb REG\nc REG\nlink LNK\nsub DIR\n", 0)
}

// TestGetdentsBig: a directory with more entries than one getdents64 buffer
// (glibc reads 32 KiB at a time) is listed completely.
func TestGetdentsBig(t *testing.T) {
	t.Parallel()
	prog := compileC(t, "readdircount", `
#include <stdio.h>
#include <dirent.h>
int main(int argc, char **argv) {
	DIR *d = opendir(argv[1]);
	if (!d) { perror("opendir"); return 1; }
	int n = 0; unsigned long h = 0;
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		n++;
		for (const char *p = de->d_name; *p; p++) h += (unsigned char)*p * 131;
	}
	printf("%d entries, name hash %lu\n", n, h);
	return 0;
}
`)
	dir := t.TempDir()
	for i := 0; i < 1500; i++ {
		name := filepath.Join(dir, "a-rather-long-file-name-to-fill-getdents-buffers-"+strconv.Itoa(i))
		writeFile(t, name, "", 0o644)
	}
	native, _ := diff(t, []string{prog, dir})
	if native.Code != 0 || !strings.HasPrefix(native.Stdout, "1502 entries,") {
		t.Errorf("native run unexpected:\n%s", native)
	}
}
