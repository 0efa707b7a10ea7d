package priority

import (
	"encoding/json"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"sync"
	"testing"

	"golang.org/x/sys/unix"
)

// threadSched is one thread's scheduling as the kernel reports it.
type threadSched struct {
	TID      int
	Policy   uint32
	Priority uint32
	Nice     int32
}

// childReport is what the re-executed test binary prints.
type childReport struct {
	Result    Result
	Refused   string
	Threads   []threadSched
	PacerTID  int    // the thread that ran Thread(mode), 0 when it is nil
	ThreadErr string // what Thread(mode) returned
}

// TestMain lets a test re-execute this binary to apply a mode in a
// process of its own: Apply changes the whole process, which must not be
// the test runner.
func TestMain(m *testing.M) {
	if mode := os.Getenv("PRIORITY_TEST_CHILD"); mode != "" {
		child(Mode(mode))
		return
	}
	os.Exit(m.Run())
}

func child(mode Mode) {
	r := Apply(mode)
	// Threads started after Apply must inherit it: locking goroutines to
	// their threads makes the runtime start new ones.
	var wg sync.WaitGroup
	release := make(chan struct{})
	var started sync.WaitGroup
	for range 4 {
		wg.Add(1)
		started.Add(1)
		go func() {
			defer wg.Done()
			runtime.LockOSThread()
			started.Done()
			<-release
		}()
	}
	started.Wait()
	rep := childReport{Result: r}
	// A pacer: its own locked thread, which runs Thread(mode) on itself.
	if setup := Thread(mode); setup != nil {
		tid := make(chan int)
		wg.Add(1)
		go func() {
			defer wg.Done()
			runtime.LockOSThread()
			if err := setup(); err != nil {
				rep.ThreadErr = err.Error()
			}
			tid <- unix.Gettid()
			<-release
		}()
		rep.PacerTID = <-tid
	}
	if r.Refused != nil {
		rep.Refused = r.Refused.Error()
		rep.Result.Refused = nil // an error does not round-trip through JSON
	}
	ents, _ := os.ReadDir("/proc/self/task")
	for _, e := range ents {
		tid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		a, err := unix.SchedGetAttr(tid, 0)
		if err != nil {
			continue
		}
		rep.Threads = append(rep.Threads, threadSched{TID: tid, Policy: a.Policy, Priority: a.Priority, Nice: a.Nice})
	}
	close(release)
	wg.Wait()
	_ = json.NewEncoder(os.Stdout).Encode(rep)
}

func runChild(t *testing.T, mode Mode) childReport {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "PRIORITY_TEST_CHILD="+string(mode))
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("child for %s: %v", mode, err)
	}
	var rep childReport
	if err := json.Unmarshal(out, &rep); err != nil {
		t.Fatalf("child output %q: %v", out, err)
	}
	if len(rep.Threads) < 5 {
		t.Fatalf("child saw %d threads; want the runtime's and the 4 locked ones", len(rep.Threads))
	}
	return rep
}

// canFIFO reports whether this process may use SCHED_FIFO.
func canFIFO() bool { return Probe() == nil }

func TestApply(t *testing.T) {
	cases := []struct {
		mode  Mode
		check func(t *testing.T, rep childReport, th threadSched)
	}{
		{Normal, func(t *testing.T, rep childReport, th threadSched) {
			if rep.Result.Applied != "unchanged" || th.Policy != schedOther || th.Nice != int32(selfNice(t)) {
				t.Errorf("normal: thread %d policy %d nice %d (ours %d), applied %q", th.TID, th.Policy, th.Nice, selfNice(t), rep.Result.Applied)
			}
		}},
		{Low, func(t *testing.T, rep childReport, th threadSched) {
			if rep.Result.Applied != "nice 19" || th.Policy != schedOther || th.Nice != 19 {
				t.Errorf("low: thread %d policy %d nice %d, applied %q (%s)", th.TID, th.Policy, th.Nice, rep.Result.Applied, rep.Refused)
			}
		}},
		{Auto, func(t *testing.T, rep childReport, th threadSched) {
			if th.TID == rep.PacerTID {
				checkPacer(t, rep, th)
				return
			}
			if rep.Result.Applied != "unchanged" || th.Policy != schedOther || th.Nice != int32(selfNice(t)) {
				t.Errorf("auto: thread %d policy %d nice %d, applied %q", th.TID, th.Policy, th.Nice, rep.Result.Applied)
			}
		}},
		{Realtime, func(t *testing.T, rep childReport, th threadSched) {
			if th.TID == rep.PacerTID {
				checkPacer(t, rep, th)
				return
			}
			checkRealtime(t, rep, th)
		}},
	}
	for _, c := range cases {
		t.Run(string(c.mode), func(t *testing.T) {
			rep := runChild(t, c.mode)
			wantPacer := c.mode == Auto || c.mode == Realtime
			if (rep.PacerTID != 0) != wantPacer {
				t.Errorf("Thread(%s) != nil is %v; want %v", c.mode, rep.PacerTID != 0, wantPacer)
			}
			for _, th := range rep.Threads {
				c.check(t, rep, th)
			}
		})
	}
}

func checkRealtime(t *testing.T, rep childReport, th threadSched) {
	t.Helper()
	switch {
	case canFIFO():
		if rep.Result.Applied != "SCHED_FIFO 1" || th.Policy != unix.SCHED_FIFO || th.Priority != 1 {
			t.Errorf("%s: thread %d policy %d priority %d, applied %q (%s)", rep.Result.Mode, th.TID, th.Policy, th.Priority, rep.Result.Applied, rep.Refused)
		}
	case rep.Result.Applied == "nice -10":
		if th.Nice != -10 || rep.Refused == "" {
			t.Errorf("%s fallback: thread %d nice %d, refused %q", rep.Result.Mode, th.TID, th.Nice, rep.Refused)
		}
	default: // neither allowed: nothing changed, and it says why
		if rep.Result.Applied != "unchanged" || rep.Refused == "" || th.Policy != schedOther {
			t.Errorf("%s refused: thread %d policy %d, applied %q, refused %q", rep.Result.Mode, th.TID, th.Policy, rep.Result.Applied, rep.Refused)
		}
	}
}

// checkPacer checks the thread that ran Thread(mode): SCHED_FIFO 1 when
// the process may have it, else unchanged with the refusal returned.
func checkPacer(t *testing.T, rep childReport, th threadSched) {
	t.Helper()
	want := uint32(1)
	if rep.Result.Mode == Realtime && rep.Result.Applied == "SCHED_FIFO 1" {
		want = 2 // above the rest of the real-time process
	}
	if canFIFO() {
		if th.Policy != unix.SCHED_FIFO || th.Priority != want || rep.ThreadErr != "" {
			t.Errorf("%s pacer thread %d: policy %d priority %d, err %q", rep.Result.Mode, th.TID, th.Policy, th.Priority, rep.ThreadErr)
		}
		return
	}
	if th.Policy == unix.SCHED_FIFO || rep.ThreadErr == "" {
		t.Errorf("%s pacer thread %d without permission: policy %d, err %q", rep.Result.Mode, th.TID, th.Policy, rep.ThreadErr)
	}
}

func selfNice(t *testing.T) int {
	t.Helper()
	a, err := unix.SchedGetAttr(0, 0)
	if err != nil {
		t.Fatal(err)
	}
	return int(a.Nice)
}
