package commands

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-voip/switchboard/cause"
	"github.com/switchboard-voip/switchboard/events"
	"github.com/switchboard-voip/switchboard/session"
)

// clock is a settable clock for scheduler tests.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func TestScheduler(t *testing.T) {
	clk := &clock{t: testNow}
	bus := events.NewBus(events.BusConfig{CoreUUID: "core"})
	sub := bus.Subscribe(100)
	if err := sub.Add("ADD_SCHEDULE", "DEL_SCHEDULE", "RE_SCHEDULE"); err != nil {
		t.Fatal(err)
	}
	s := NewScheduler(SchedulerConfig{Now: clk.Now, Logger: slog.New(slog.DiscardHandler), Events: bus})
	var ran []string
	note := func(name string) func(context.Context) { return func(context.Context) { ran = append(ran, name) } }
	ctx := context.Background()

	a := s.Add(clk.Now().Add(2*time.Second), "test", "g1", 0, false, note("a"))
	b := s.Add(clk.Now().Add(1*time.Second), "test", "g2", 0, false, note("b"))
	r := s.Add(clk.Now().Add(1*time.Second), "test", "", 3*time.Second, false, note("r"))
	d := s.Add(clk.Now().Add(1*time.Second), "test", "g1", 0, false, note("d"))
	if a != 1 || b != 2 || r != 3 || d != 4 {
		t.Fatalf("ids %d %d %d %d, want 1 to 4", a, b, r, d)
	}
	if tasks := s.Tasks(); len(tasks) != 4 || tasks[2].Group != "none" || tasks[2].Repeat != 3*time.Second {
		t.Errorf("Tasks() = %+v", tasks)
	}
	if n := s.RunDue(ctx); n != 0 {
		t.Errorf("RunDue before time ran %d", n)
	}
	if !s.DeleteID(d) || s.DeleteID(d) || s.DeleteID(99) {
		t.Error("DeleteID")
	}
	clk.Add(1500 * time.Millisecond) // second 1 of the tasks (whole seconds)
	if n := s.RunDue(ctx); n != 2 || strings.Join(ran, ",") != "b,r" {
		t.Errorf("RunDue at +1.5s ran %d: %q", n, ran)
	}
	clk.Add(time.Second)
	s.RunDue(ctx)
	if strings.Join(ran, ",") != "b,r,a" {
		t.Errorf("ran %q", ran)
	}
	clk.Add(3 * time.Second) // r repeats 3 s after it last ran
	s.RunDue(ctx)
	if strings.Join(ran, ",") != "b,r,a,r" {
		t.Errorf("ran %q", ran)
	}
	if n := s.DeleteGroup("none"); n != 1 || len(s.Tasks()) != 0 {
		t.Errorf("DeleteGroup = %d, tasks %+v", n, s.Tasks())
	}
	var got []string
	for len(sub.C()) > 0 {
		e := <-sub.C()
		got = append(got, e.Name()+":"+e.Get("Task-ID"))
	}
	want := "ADD_SCHEDULE:1 ADD_SCHEDULE:2 ADD_SCHEDULE:3 ADD_SCHEDULE:4 DEL_SCHEDULE:4 DEL_SCHEDULE:2 RE_SCHEDULE:3 DEL_SCHEDULE:1 RE_SCHEDULE:3 DEL_SCHEDULE:3"
	if strings.Join(got, " ") != want {
		t.Errorf("events\n%s\nwant\n%s", strings.Join(got, " "), want)
	}
}

func TestSchedulerOwnGoroutineAndRunningDelete(t *testing.T) {
	clk := &clock{t: testNow}
	s := NewScheduler(SchedulerConfig{Now: clk.Now, Logger: slog.New(slog.DiscardHandler)})
	started, release, finished := make(chan struct{}), make(chan struct{}), make(chan struct{})
	id := s.Add(clk.Now(), "test", "slow", time.Second, true, func(context.Context) {
		close(started)
		<-release
		close(finished)
	})
	if n := s.RunDue(context.Background()); n != 1 {
		t.Fatalf("RunDue = %d", n)
	}
	<-started // RunDue returned while the task runs on its own goroutine
	if n := s.RunDue(context.Background()); n != 0 {
		t.Errorf("a running task started again")
	}
	if !s.DeleteID(id) {
		t.Error("deleting a running task")
	}
	close(release)
	<-finished
	s.wg.Wait()
	if tasks := s.Tasks(); len(tasks) != 0 {
		t.Errorf("a task deleted while running is still scheduled: %+v", tasks)
	}
}

func TestSchedulerRun(t *testing.T) {
	s := NewScheduler(SchedulerConfig{Logger: slog.New(slog.DiscardHandler)})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		s.Run(ctx)
		close(done)
	}()
	ran := make(chan struct{})
	s.Add(time.Now().Add(-time.Second), "test", "", 0, false, func(context.Context) { close(ran) })
	select {
	case <-ran:
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not run a due task")
	}
	cancel()
	<-done
}

func TestSchedCommands(t *testing.T) {
	env := newLive(t)
	clk := &clock{t: testNow}
	env.Clock = clk.Now
	env.sched = NewScheduler(SchedulerConfig{Now: clk.Now, Logger: slog.New(slog.DiscardHandler)})
	s, _ := startCall(t, env, "park", "1000", session.CSPark)
	id := s.UUID()
	bad := "-ERR Invalid syntax. USAGE: " + schedAPIUsage + "\n"
	steps := []struct{ cmd, args, want string }{
		{"sched_api", "", bad},
		{"sched_api", "+1 group", bad},
		{"sched_api", "+1 later global_setvar later=yes", "+OK Added: 1\n"},
		{"sched_api", "@2 every expand hash insert/n/${strepoch()}/x", "+OK Added: 2\n"},
		{"sched_api", "1709535605 abs global_setvar abs=yes&", "+OK Added: 3\n"},
		{"sched_api", "+100 gone global_setvar gone=yes", "+OK Added: 4\n"},
		{"sched_del", "", "-ERR Invalid syntax\n"},
		{"sched_del", "gone", "+OK Deleted: 1\n"},
		{"sched_del", "4", "+OK Deleted: 0\n"},
		{"unsched_api", "99", "-ERR No such id\n"},
		{"unsched_api", "0", ""},
		{"sched_hangup", "", "-USAGE: " + schedHangupUsage + "\n"},
		{"sched_hangup", "+5 nosuch", noChannel},
		{"sched_hangup", "+10 " + id + " USER_BUSY", "+OK\n"},
		{"sched_transfer", "+1", "-USAGE: " + schedTransferUsage + "\n"},
		{"sched_transfer", "+1 nosuch moved", noChannel},
		{"sched_transfer", "+3 " + id + " moved XML default", "+OK\n"},
	}
	for _, st := range steps {
		if got := run(env, st.cmd, st.args); got != st.want {
			t.Errorf("%s %s = %q, want %q", st.cmd, st.args, got, st.want)
		}
	}
	table := run(env, "show", "tasks")
	for _, row := range []string{
		"task_id,task_desc,task_group,task_runtime,task_sql_manager,hostname\n",
		"\n1,sched_api_function,later,1709535601,0,sb-test\n",
		"\n2,sched_api_function,every,1709535602,0,sb-test\n",
		"\n5,switch_ivr_schedule_hangup," + id + ",1709535610,0,sb-test\n",
		"\n6,switch_ivr_schedule_transfer," + id + ",1709535603,0,sb-test\n",
		"\n5 total.\n",
	} {
		if !strings.Contains(table, row) {
			t.Errorf("show tasks has no %q:\n%s", row, table)
		}
	}

	ctx := context.Background()
	global := func(name string) string { v, _ := env.Globals().Get(name); return v }
	clk.Add(time.Second)
	env.sched.RunDue(ctx)
	if global("later") != "yes" {
		t.Error("the +1 task did not run at +1")
	}
	clk.Add(time.Second)
	env.sched.RunDue(ctx) // @2 runs, and again every 2 s
	clk.Add(time.Second)
	env.sched.RunDue(ctx) // the transfer
	waitFor(t, "the scheduled transfer", func() bool { v, _ := s.Vars().Get("moved"); return v == "yes" })
	clk.Add(time.Second)
	env.sched.RunDue(ctx)
	for _, sec := range []string{"1709535602", "1709535604"} {
		if got := run(env, "hash", "select/n/"+sec); got != "x" {
			t.Errorf("the repeating task did not run at %s", sec)
		}
	}
	clk.Add(time.Second)
	env.sched.RunDue(ctx)
	env.sched.wg.Wait()
	if global("abs") != "yes" {
		t.Error("the task at an absolute time did not run")
	}
	if s.Ready() != true {
		t.Fatal("the call hung up before its time")
	}
	if got := run(env, "sched_del", id); got != "+OK Deleted: 1\n" {
		t.Errorf("sched_del <uuid> = %q", got)
	}
	clk.Add(time.Minute)
	env.sched.RunDue(ctx)
	if !s.Ready() {
		t.Error("a deleted hangup ran")
	}
	if got := run(env, "sched_hangup", "+0 "+id+" 17"); got != "+OK\n" {
		t.Errorf("sched_hangup +0 = %q", got)
	}
	waitEnded(t, s)
	if s.HangupCause() != cause.CUserBusy {
		t.Errorf("sched_hangup +0 cause %v", s.HangupCause())
	}
}
