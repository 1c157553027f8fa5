package memfile

import (
	"testing"
	"time"
)

// TestAllocAwaitsRelease: at the limit, Alloc fails at once when no
// release is in flight, waits for one that is (and succeeds once its
// frames are freed), and fails when the release ends without freeing
// enough.
func TestAllocAwaitsRelease(t *testing.T) {
	f, err := New(1 << 30)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	f.SetLimit(64 << 12)
	fr, err := f.Alloc(64)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if _, err := f.Alloc(1); err != ErrLimit {
		t.Fatalf("Alloc at the limit, nothing in flight: %v", err)
	}
	if d := time.Since(start); d > 100*time.Millisecond {
		t.Fatalf("Alloc with nothing in flight waited %v", d)
	}

	// A release in flight that frees half the frames.
	f.BeginRelease()
	go func() {
		time.Sleep(20 * time.Millisecond)
		f.DecRef(fr, 32)
		f.EndRelease()
	}()
	got, err := f.Alloc(16)
	if err != nil {
		t.Fatalf("Alloc with a release in flight: %v", err)
	}

	// One that frees nothing: Alloc fails when it ends, not at releaseWait.
	f.BeginRelease()
	go func() {
		time.Sleep(20 * time.Millisecond)
		f.EndRelease()
	}()
	start = time.Now()
	if _, err := f.Alloc(32); err != ErrLimit {
		t.Fatalf("Alloc past what the release freed: %v", err)
	}
	if d := time.Since(start); d > releaseWait/2 {
		t.Fatalf("Alloc waited %v after the release ended", d)
	}
	f.DecRef(fr+32, 32)
	f.DecRef(got, 16)
	if s := f.Stats(); s.InUse != 0 {
		t.Fatalf("%d frames in use at the end", s.InUse)
	}
}
