// gostress: Go runtime shapes that stress a kernel: fork/exec from many
// goroutines while others allocate, run timers and read the clock (the
// shape of os/exec's tests, where issue 13 saw SEGV_ACCERR in
// runtime.nanotime1), the sync package's primitives under contention with
// GC running, and os/signal with signals sent to the process while
// goroutines are busy. Output is deterministic.
//
// usage: gostress forkexec|sync|signal|iocopy|dialaccept [N]
package main

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

func main() {
	n := 20
	if len(os.Args) > 2 {
		n, _ = strconv.Atoi(os.Args[2])
	}
	switch os.Args[1] {
	case "forkexec":
		forkexec(n)
	case "sync":
		syncShapes(n)
	case "signal":
		signals(n)
	case "iocopy":
		ioCopyTCP(n)
	case "dialaccept":
		dialAccept(n)
	case "exit":
		code, _ := strconv.Atoi(os.Args[2])
		os.Exit(code)
	default:
		fmt.Println("unknown mode")
		os.Exit(2)
	}
}

// busy keeps goroutines allocating, hashing and reading the clock until stop
// is closed; it returns a function that waits for them.
func busy(stop chan struct{}, k int) func() {
	var wg sync.WaitGroup
	for i := 0; i < k; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			var keep [][]byte
			for j := 0; ; j++ {
				select {
				case <-stop:
					return
				default:
				}
				b := make([]byte, 1<<(10+j%8))
				for x := range b {
					b[x] = byte(i + j + x)
				}
				sum := sha256.Sum256(b)
				if sum == [32]byte{} {
					panic("impossible")
				}
				keep = append(keep, b)
				if len(keep) > 64 {
					keep = nil
				}
				_ = time.Now()
				if j%16 == 0 {
					time.Sleep(time.Microsecond)
				}
			}
		}(i)
	}
	return wg.Wait
}

func forkexec(n int) {
	stop := make(chan struct{})
	wait := busy(stop, 4)
	tick := time.NewTicker(time.Millisecond)
	go func() {
		for range tick.C {
		}
	}()
	self, err := os.Executable()
	if err != nil {
		fmt.Println("os.Executable:", err)
		os.Exit(1)
	}
	var wg sync.WaitGroup
	var bad atomic.Int32
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < n; i++ {
				switch (g + i) % 3 {
				case 0:
					want := fmt.Sprintf("g%d i%d\n", g, i)
					out, err := exec.Command("/bin/echo", fmt.Sprintf("g%d", g), fmt.Sprintf("i%d", i)).Output()
					if err != nil || string(out) != want {
						bad.Add(1)
						fmt.Printf("echo g%d i%d: %q %v\n", g, i, out, err)
					}
				case 1:
					code := (g*7 + i) % 100
					err := exec.Command(self, "exit", strconv.Itoa(code)).Run()
					got := 0
					if ee, ok := err.(*exec.ExitError); ok {
						got = ee.ExitCode()
					} else if err != nil {
						got = -1
					}
					if got != code {
						bad.Add(1)
						fmt.Printf("exit %d: got %d (%v)\n", code, got, err)
					}
				case 2:
					in := bytes.Repeat([]byte{byte('a' + g)}, 100000)
					cmd := exec.Command("/bin/cat")
					cmd.Stdin = bytes.NewReader(in)
					out, err := cmd.Output()
					if err != nil || !bytes.Equal(out, in) {
						bad.Add(1)
						fmt.Printf("cat g%d i%d: %d bytes %v\n", g, i, len(out), err)
					}
				}
			}
		}(g)
	}
	wg.Wait()
	tick.Stop()
	close(stop)
	wait()
	fmt.Printf("forkexec: 8 goroutines x %d commands while 4 allocate: %d bad\n", n, bad.Load())
}

func syncShapes(n int) {
	runtime.GOMAXPROCS(4)
	stop := make(chan struct{})
	wait := busy(stop, 2)
	// Mutex: exact count under contention, with starvation mode kicking in.
	var mu sync.Mutex
	count := 0
	var wg sync.WaitGroup
	for g := 0; g < 16; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < n*500; i++ {
				mu.Lock()
				count++
				if i%100 == 0 {
					time.Sleep(10 * time.Microsecond) // long holds: starvation mode
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	fmt.Println("mutex:", count)
	// RWMutex: readers never see a half-done update.
	var rw sync.RWMutex
	a, b := 0, 0
	var torn atomic.Int32
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < n*200; i++ {
				if g%4 == 0 {
					rw.Lock()
					a++
					runtime.Gosched()
					b++
					rw.Unlock()
				} else {
					rw.RLock()
					if a != b {
						torn.Add(1)
					}
					rw.RUnlock()
				}
			}
		}(g)
	}
	wg.Wait()
	fmt.Println("rwmutex:", a, b, "torn reads:", torn.Load())
	// Cond: a ping-pong between goroutines, n*100 rounds.
	var cmu sync.Mutex
	cond := sync.NewCond(&cmu)
	turn, rounds := 0, 0
	for p := 0; p < 3; p++ {
		wg.Add(1)
		go func(p int) {
			defer wg.Done()
			for i := 0; i < n*100; i++ {
				cmu.Lock()
				for turn != p {
					cond.Wait()
				}
				turn = (turn + 1) % 3
				rounds++
				cond.Broadcast()
				cmu.Unlock()
			}
		}(p)
	}
	wg.Wait()
	fmt.Println("cond rounds:", rounds)
	// Once, Pool, Map, WaitGroup reuse, with GC cycles.
	var once sync.Once
	var onces atomic.Int32
	pool := sync.Pool{New: func() any { return make([]byte, 4096) }}
	var m sync.Map
	for g := 0; g < 32; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			once.Do(func() { onces.Add(1) })
			for i := 0; i < n*50; i++ {
				buf := pool.Get().([]byte)
				buf[0] = byte(g)
				pool.Put(buf)
				m.Store(g*100000+i, i)
				if i%500 == 0 {
					runtime.GC()
				}
			}
		}(g)
	}
	wg.Wait()
	entries := 0
	m.Range(func(k, v any) bool { entries++; return true })
	fmt.Println("once:", onces.Load(), "map entries:", entries)
	// Channels and select across many goroutines.
	ch := make(chan int)
	res := make(chan int)
	for g := 0; g < 8; g++ {
		go func() {
			s := 0
			for v := range ch {
				s += v
			}
			res <- s
		}()
	}
	for i := 1; i <= n*1000; i++ {
		ch <- i
	}
	close(ch)
	total := 0
	for g := 0; g < 8; g++ {
		total += <-res
	}
	fmt.Println("channel sum:", total)
	close(stop)
	wait()
}

func signals(n int) {
	stop := make(chan struct{})
	wait := busy(stop, 3)
	c := make(chan os.Signal, 1)
	signal.Notify(c, syscall.SIGUSR1, syscall.SIGUSR2)
	got := map[os.Signal]int{}
	for i := 0; i < n*10; i++ {
		s := syscall.SIGUSR1
		if i%3 == 0 {
			s = syscall.SIGUSR2
		}
		syscall.Kill(os.Getpid(), s)
		select {
		case r := <-c:
			got[r]++
		case <-time.After(20 * time.Second):
			fmt.Println("signal", i, "never arrived")
			os.Exit(1)
		}
	}
	// An ignored signal, then a reset one, while goroutines run.
	signal.Ignore(syscall.SIGHUP)
	syscall.Kill(os.Getpid(), syscall.SIGHUP)
	signal.Reset(syscall.SIGUSR2)
	signal.Ignore(syscall.SIGUSR2)
	syscall.Kill(os.Getpid(), syscall.SIGUSR2)
	time.Sleep(10 * time.Millisecond)
	close(stop)
	wait()
	fmt.Println("signals: SIGUSR1", got[syscall.SIGUSR1], "SIGUSR2", got[syscall.SIGUSR2])
}
