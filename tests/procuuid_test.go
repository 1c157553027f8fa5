package tests

import "testing"

// TestProcUUID: /proc/sys/kernel/random/uuid is a fresh version-4 UUID on
// every read, boot_id one that stays the same.
func TestProcUUID(t *testing.T) {
	t.Parallel()
	const script = `d=/proc/sys/kernel/random
a=$(cat $d/uuid); b=$(cat $d/uuid)
[ "$a" != "$b" ] && echo "uuid differs per read"
for u in "$a" "$b" "$(cat $d/boot_id)"; do
	echo "$u" | grep -Eq '^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$' && echo "version 4"
done
[ "$(cat $d/boot_id)" = "$(cat $d/boot_id)" ] && echo "boot_id stays"`
	diff(t, []string{"/bin/sh", "-c", script})
}
