package seccomp

import (
	"encoding/binary"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"glassbox/internal/platform"
)

// Spin mode: a hand-off without sleeping.
//
// By default a guest thread's stub thread and the glassbox thread serving
// it share one CPU and hand each trap over with a futex: each hand-off is
// two context switches on that CPU. When a CPU is idle, a pair may
// instead run on two CPUs with both sides polling the state word for a
// bounded time before they sleep: a hand-off is then a cache line moving
// between CPUs, without a context switch or a futex call. But polling
// burns a CPU, a sleeper woken across CPUs costs far more than one woken
// on its own (a halted virtual CPU must be woken), and a poller that
// shares its CPU with another busy thread waits for its time slice. So
// the choice is measured, not assumed:
//
//   - The handler stamps each trap and each resume it sees with the TSC
//     (slot header); glassbox stamps when it saw the trap and when it
//     wrote resume. Their differences are the hand-off's own latency,
//     whatever the guest computes or the kernel does in between.
//   - Each pair keeps a moving average of that latency in each mode. A
//     pair in the default mode tries spin mode now and then (a probe of
//     probeLen hand-offs), keeps it while spinning is at least twice as
//     fast as sleeping, and backs off (doubling, up to backoffMax) when
//     it is not: a guest that computes or blocks between calls makes
//     pollers sleep and pay cross-CPU wake-ups; another busy thread on
//     the CPUs delays them.
//   - At most ncpu/2 pairs spin at once (spin tokens): never more pollers
//     than CPUs. And only on an otherwise idle host: a probe starts only
//     when the host's runnable count (/proc/loadavg) shows at most one
//     thread besides the reader, and spinning ends at a window whose
//     count shows more than one besides the pair, or at one hand-off
//     slower than spinStall. Without this, two
//     sandboxes spinning side by side (or any busy process) made pollers
//     wait out each other's time slices: rare hand-offs took 20-60 ms.
//
// Entering and leaving spin mode moves the stub thread (sched_setaffinity)
// to the other CPU or back to the serving thread's. The stamps are
// guest-writable: a guest that forges them only changes how its own
// thread waits.

const (
	// gbSpin is how long glassbox polls for the guest's next trap.
	gbSpin = 50 * time.Microsecond
	// stubSpin is how many times the handler polls (a pause each, about
	// 40-50 ns here) for glassbox' answer before it sleeps.
	stubSpin = 1500
	// Latencies are averaged over windows of at least this long and this
	// many hand-offs: long enough to see the scheduler's time slices.
	window     = 20 * time.Millisecond
	minSamples = 32
	// probeWarm hand-offs start a probe uncounted: the stub thread, just
	// moved to the other CPU, wakes there cold.
	probeWarm = 8
	// spinStall is a hand-off that ends spinning at once however cheap
	// the others were: a poller that waited out other threads' time
	// slices (those take 20-60 ms here; a paused virtual CPU up to 2).
	spinStall  = 5 * time.Millisecond
	backoffMin = 20 * time.Millisecond
	backoffMax = 2 * time.Second
)

// spinState is the platform's share of spin mode.
type spinState struct {
	enabled bool
	// maxLat is spinStall in TSC ticks (one hand-off this slow ends
	// spinning), measured at the first probe.
	maxLat     uint64
	maxLatOnce sync.Once
	// always keeps every pair spinning from its first hand-off (tests).
	always bool
	tokens atomic.Int32
	start  time.Time
	// Counters for --stats: hand-offs (added by each thread at its
	// release) and probes.
	handOffs, spun        atomic.Uint64
	probes, kept, refused atomic.Uint64
}

func (s *spinState) init(ncpu int, enabled bool) {
	s.start = time.Now()
	s.enabled = enabled && ncpu >= 2
	s.tokens.Store(int32(ncpu / 2))
}

func (s *spinState) now() int64 { return int64(time.Since(s.start)) }

func (s *spinState) take() bool {
	for {
		n := s.tokens.Load()
		if n <= 0 {
			return false
		}
		if s.tokens.CompareAndSwap(n, n-1) {
			return true
		}
	}
}

// pairSpin is a thread's share of spin mode (its owner goroutine's).
type pairSpin struct {
	on      bool
	resumed uint64 // TSC when glassbox last wrote resume (0: unknown)
	// sum and n add up the hand-off latencies (TSC ticks) of the current
	// window; base is the mean latency sleeping on one CPU, measured over
	// the last window before spinning.
	sum, n  uint64
	base    uint64
	winEnd  int64 // the current window's end (ns since the platform started)
	probeAt int64 // the next probe
	backoff int64
	kept    bool // spin mode has passed its probe
	strikes int  // hand-offs of this probe dearer than sleeping
	warm    int  // hand-offs of the probe not counted yet (see probeWarm)
	calls   uint // adapt calls: the clock is read on every 16th only
	// handOffs and spun count this thread's hand-offs (all, and those
	// made spinning) until its release adds them to spinState's.
	handOffs, spun uint64
}

// adapt decides, before a hand-off, whether this pair spins for it.
func (t *thread) adapt() {
	s := &t.proc.p.spinSt
	if !s.enabled || t.dead {
		return
	}
	ps := &t.spin
	if s.always {
		if !ps.on && s.take() {
			s.maxLatOnce.Do(func() { s.maxLat = tscPerStall() })
			unix.SchedSetaffinity(t.tid, cpuSet((t.cpu+1)%t.proc.p.ncpu))
			ps.on, ps.kept = true, true
			t.setStubSpin(stubSpin)
		}
		return
	}
	if ps.calls++; ps.calls%16 != 1 {
		return
	}
	now := s.now()
	if ps.winEnd == 0 {
		// Learn the sleeping cost first.
		ps.backoff = int64(backoffMin)
		ps.winEnd = now + int64(window)
		ps.probeAt = ps.winEnd
		return
	}
	if now < ps.winEnd || (ps.n < minSamples && !ps.on) || ps.n == 0 {
		return
	}
	mean := ps.sum / ps.n
	ps.sum, ps.n = 0, 0
	ps.winEnd = now + int64(window)
	if !ps.on {
		ps.base = mean
		if now < ps.probeAt {
			return
		}
		// The pair needs two CPUs nobody else wants: besides this thread
		// (reading), at most one other may be runnable (there is always
		// some kernel thread's work).
		// A busy host is a moment's state, not the probe's verdict: ask
		// again after the shortest back-off rather than doubling it (a
		// few busy moments must not put off probing past a short run).
		if runnable() > t.proc.p.ncpu {
			s.refused.Add(1)
			ps.probeAt = now + int64(backoffMin)
			return
		}
		if !s.take() {
			return
		}
		s.maxLatOnce.Do(func() { s.maxLat = tscPerStall() })
		other := (t.cpu + 1) % t.proc.p.ncpu
		if unix.SchedSetaffinity(t.tid, cpuSet(other)) != nil {
			s.tokens.Add(1)
			t.backOff(s)
			return
		}
		ps.on, ps.kept, ps.strikes, ps.warm = true, false, 0, probeWarm
		t.setStubSpin(stubSpin)
		s.probes.Add(1)
		return
	}
	// A probe must halve the cost; spinning is kept while it is cheaper
	// and while at most one thread besides the pair's two wants a CPU.
	if ((!ps.kept && mean*2 < ps.base) || (ps.kept && mean < ps.base)) && runnable() <= t.proc.p.ncpu+1 {
		if !ps.kept {
			s.kept.Add(1)
		}
		ps.kept = true
		ps.backoff = int64(backoffMin)
		return
	}
	t.spinOff()
	t.backOff(s)
}

// backOff schedules the next probe, twice as far as the last.
func (t *thread) backOff(s *spinState) {
	ps := &t.spin
	ps.probeAt = s.now() + ps.backoff
	if ps.backoff *= 2; ps.backoff > int64(backoffMax) {
		ps.backoff = int64(backoffMax)
	}
}

// spinOff ends spin mode for this pair: the stub thread comes back to
// the serving thread's CPU and the token is returned.
func (t *thread) spinOff() {
	ps := &t.spin
	if !ps.on {
		return
	}
	ps.on = false
	t.setStubSpin(0)
	if !t.dead {
		unix.SchedSetaffinity(t.tid, cpuSet(t.cpu))
	}
	t.proc.p.spinSt.tokens.Add(1)
}

// countHandOffs adds the thread's hand-offs to the platform's (at its
// release).
func (t *thread) countHandOffs() {
	s, ps := &t.proc.p.spinSt, &t.spin
	s.handOffs.Add(ps.handOffs)
	s.spun.Add(ps.spun)
	ps.handOffs, ps.spun = 0, 0
}

// HandOffStats implements platform.HandOffCounter: the hand-offs of
// released threads, and every probe.
func (p *Platform) HandOffStats() platform.HandOffStats {
	s := &p.spinSt
	return platform.HandOffStats{
		HandOffs: s.handOffs.Load(), Spun: s.spun.Load(),
		Probes: s.probes.Load(), Kept: s.kept.Load(), Refused: s.refused.Load(),
	}
}

// setStubSpin sets how long the handler polls (the slot's header; a
// guest that changes it only changes how its own thread waits).
func (t *thread) setStubSpin(n uint32) {
	atomic.StoreUint32(t.proc.spinWord(t.slot), n)
}

// gbPoll is how long glassbox polls before sleeping for this hand-off.
func (t *thread) gbPoll() time.Duration {
	if t.spin.on {
		return gbSpin
	}
	return 0
}

// resuming stamps glassbox' resume.
func (t *thread) resuming() {
	if t.proc.p.spinSt.enabled {
		t.spin.resumed = rdtsc()
	}
}

// handedOff adds the hand-off that just ended (the resume before it and
// this trap) to the current window. Stamps out of order (a forged or torn
// slot, a thread's first trap) are ignored.
func (t *thread) handedOff() {
	ps := &t.spin
	ps.handOffs++
	if ps.on {
		ps.spun++
	}
	if !t.proc.p.spinSt.enabled {
		return
	}
	seen := rdtsc()
	hdr := t.proc.ctl[slotOff(t.slot):]
	trap := binary.LittleEndian.Uint64(hdr[hdrTrapT:])
	wake := binary.LittleEndian.Uint64(hdr[hdrWakeT:])
	r := ps.resumed
	if r == 0 || wake < r || trap < wake || seen < trap {
		return
	}
	if ps.on && ps.warm > 0 {
		ps.warm--
		return
	}
	lat := (wake - r) + (seen - trap)
	ps.sum += lat
	ps.n++
	if ps.on && ps.base != 0 && !t.proc.p.spinSt.always {
		// A probe ends early when a quarter of its hand-offs (eight at
		// least) cost more than sleeping: on a busy CPU a poller waits
		// out other threads' time slices. Any spinning ends at one
		// hand-off over spinStall. A single hand-off of a few hundred
		// µs is not enough: a virtual CPU the hypervisor pauses now and
		// then makes those, in either mode, and ending spinning at each
		// (as this did at 16 times the sleeping cost) kept a getpid loop
		// sleeping most of the time on an idle host; the window's mean
		// judges the rest.
		if lat > ps.base {
			ps.strikes++
		}
		if (!ps.kept && ps.strikes >= 8 && 4*uint64(ps.strikes) > ps.n) || lat > t.proc.p.spinSt.maxLat {
			t.spinOff()
			t.backOff(&t.proc.p.spinSt)
			ps.sum, ps.n = 0, 0
			ps.winEnd = t.proc.p.spinSt.now() + int64(window)
		}
	}
}

// tscPerStall is spinStall in TSC ticks, measured against the monotonic
// clock over a short interval at start (a generous default if the TSC
// does not advance).
func tscPerStall() uint64 {
	t0, c0 := time.Now(), rdtsc()
	for time.Since(t0) < 200*time.Microsecond {
	}
	dt, dc := time.Since(t0), rdtsc()-c0
	if dc == 0 || dt <= 0 {
		return 1 << 40
	}
	return uint64(float64(dc) / float64(dt) * float64(spinStall))
}

// runnable is the host's count of runnable threads, the caller included.
func runnable() int { return platform.HostRunnable() }
