package commands

import (
	"context"
	"fmt"
	"log/slog"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/switchboard-voip/switchboard/cause"
	"github.com/switchboard-voip/switchboard/events"
	"github.com/switchboard-voip/switchboard/vars"
)

// The scheduler family: sched_api, unsched_api, sched_hangup,
// sched_transfer, sched_del and `show tasks`, over the running switch's
// Scheduler.

func init() {
	for _, c := range []Command{
		{Name: "sched_api", Usage: schedAPIUsage, Description: "Schedule an api command", Run: schedAPI},
		{Name: "unsched_api", Usage: "<task_id>", Description: "Unschedule an api command", Run: unschedAPI},
		{Name: "sched_del", Usage: "<task_id>|<group_id>", Description: "Delete a scheduled task", Run: schedDel},
		{Name: "sched_hangup", Usage: schedHangupUsage, Description: "Schedule a running call to hangup", Run: schedHangup},
		{Name: "sched_transfer", Usage: schedTransferUsage, Description: "Schedule a transfer for a running call", Run: schedTransfer},
	} {
		Register(c)
	}
	RegisterShow("tasks", showTasks)
}

const (
	schedAPIUsage      = "[+@]<time> <group_name> <command_string>[&]"
	schedHangupUsage   = "[+]<time> <uuid> [<cause>]"
	schedTransferUsage = "[+]<time> <uuid> <extension> [<dialplan>] [<context>]"
)

// Scheduler runs tasks at given times: FreeSWITCH's core scheduler, with
// its one-second resolution, task ids counting from 1 and groups (a
// scheduled hangup's or transfer's group is the call's uuid, so sched_del
// <uuid> cancels them). Create one per running switch with NewScheduler
// and run it with Run. It is safe for concurrent use.
type Scheduler struct {
	cfg SchedulerConfig

	mu     sync.Mutex
	tasks  []*task // in the order they were added
	lastID uint32
	wake   chan struct{}
	wg     sync.WaitGroup // tasks running on their own goroutines
}

// SchedulerConfig configures a Scheduler.
type SchedulerConfig struct {
	// Now returns the current time; nil means time.Now. Tests inject a
	// clock and call RunDue instead of Run.
	Now func() time.Time
	// Logger receives the scheduler's logs; nil means slog.Default().
	Logger *slog.Logger
	// Events, when not nil, receives ADD_SCHEDULE, RE_SCHEDULE and
	// DEL_SCHEDULE events, as FreeSWITCH's scheduler fires them.
	Events *events.Bus
}

// Task describes a scheduled task.
type Task struct {
	ID      uint32
	Desc    string    // what scheduled it, e.g. "sched_api_function"
	Group   string    // the task's group
	Runtime time.Time // when it runs next (whole seconds)
	Repeat  time.Duration
}

type task struct {
	Task
	own     bool // run on its own goroutine
	run     func(ctx context.Context)
	running bool
	deleted bool // deleted while running: do not run again
}

// NewScheduler returns a scheduler with no tasks.
func NewScheduler(cfg SchedulerConfig) *Scheduler {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Scheduler{cfg: cfg, wake: make(chan struct{}, 1)}
}

// Add schedules run at the second at (a time already past runs on the
// next RunDue), in group ("none" when empty), described by desc. With
// repeat > 0 it runs again repeat after each run (sched_api's @<secs>);
// with own it runs on a goroutine of its own instead of the scheduler's.
// It returns the task's id.
func (s *Scheduler) Add(at time.Time, desc, group string, repeat time.Duration, own bool, run func(ctx context.Context)) uint32 {
	if group == "" {
		group = "none"
	}
	if desc == "" {
		desc = "none"
	}
	s.mu.Lock()
	s.lastID++
	if s.lastID == 0 { // wrapped: ids are never 0
		s.lastID++
	}
	t := &task{Task: Task{ID: s.lastID, Desc: desc, Group: group, Runtime: time.Unix(at.Unix(), 0), Repeat: repeat}, own: own, run: run}
	s.tasks = append(s.tasks, t)
	s.mu.Unlock()
	s.cfg.Logger.Debug(fmt.Sprintf("Added task %d %s (%s) to run at %d", t.ID, t.Desc, t.Group, t.Runtime.Unix()))
	s.fire("ADD_SCHEDULE", t.Task)
	select {
	case s.wake <- struct{}{}:
	default:
	}
	return t.ID
}

// DeleteID deletes the task with id and reports whether there was one. A
// task that is running finishes but does not run again.
func (s *Scheduler) DeleteID(id uint32) bool {
	return s.delete(func(t *task) bool { return t.ID == id }) > 0
}

// DeleteGroup deletes every task of group and returns how many there
// were.
func (s *Scheduler) DeleteGroup(group string) int {
	if group == "" {
		return 0
	}
	return s.delete(func(t *task) bool { return t.Group == group })
}

func (s *Scheduler) delete(match func(*task) bool) int {
	s.mu.Lock()
	var gone []Task
	n := 0
	kept := s.tasks[:0]
	for _, t := range s.tasks {
		switch {
		case t.deleted || !match(t):
			kept = append(kept, t)
		case t.running:
			t.deleted = true
			kept = append(kept, t)
			n++
		default:
			gone = append(gone, t.Task)
			n++
		}
	}
	clear(s.tasks[len(kept):])
	s.tasks = kept
	s.mu.Unlock()
	for _, t := range gone {
		s.fire("DEL_SCHEDULE", t)
	}
	return n
}

// Tasks returns the scheduled tasks, by id.
func (s *Scheduler) Tasks() []Task {
	s.mu.Lock()
	out := make([]Task, 0, len(s.tasks))
	for _, t := range s.tasks {
		if !t.deleted {
			out = append(out, t.Task)
		}
	}
	s.mu.Unlock()
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// RunDue runs every task whose time has come (by the configured clock)
// and that is not already running, and returns how many it started.
// Tasks run one after another on the calling goroutine, except those
// added with own, which run on goroutines of their own. A task that
// repeats is scheduled again, the others are removed.
func (s *Scheduler) RunDue(ctx context.Context) int {
	now := s.cfg.Now().Unix()
	s.mu.Lock()
	var due []*task
	for _, t := range s.tasks {
		if !t.running && !t.deleted && t.Runtime.Unix() <= now {
			t.running = true
			due = append(due, t)
		}
	}
	s.mu.Unlock()
	for _, t := range due {
		if late := now - t.Runtime.Unix(); late > 1 {
			s.cfg.Logger.Warn(fmt.Sprintf("Task was executed late by %d seconds %d %s (%s)", late, t.ID, t.Desc, t.Group))
		}
		if t.own {
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				s.execute(ctx, t)
			}()
			continue
		}
		s.execute(ctx, t)
	}
	return len(due)
}

// execute runs t and then reschedules or removes it.
func (s *Scheduler) execute(ctx context.Context, t *task) {
	func() {
		defer func() {
			if r := recover(); r != nil {
				s.cfg.Logger.Error("scheduled task panicked", "task", t.ID, "desc", t.Desc, "panic", fmt.Sprint(r))
			}
		}()
		t.run(ctx)
	}()
	s.mu.Lock()
	t.running = false
	again := t.Repeat > 0 && !t.deleted
	if again {
		t.Runtime = time.Unix(s.cfg.Now().Unix()+int64(t.Repeat/time.Second), 0)
	} else {
		for i, x := range s.tasks {
			if x == t {
				s.tasks = append(s.tasks[:i], s.tasks[i+1:]...)
				break
			}
		}
	}
	info := t.Task
	s.mu.Unlock()
	if again {
		s.fire("RE_SCHEDULE", info)
	} else {
		s.fire("DEL_SCHEDULE", info)
	}
}

// next returns when the earliest task that is not running is due.
func (s *Scheduler) next() (time.Time, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var at time.Time
	found := false
	for _, t := range s.tasks {
		if !t.running && !t.deleted && (!found || t.Runtime.Before(at)) {
			at, found = t.Runtime, true
		}
	}
	return at, found
}

// Run runs tasks as they come due until ctx is done, then waits for the
// tasks running on their own goroutines (their ctx is done too).
func (s *Scheduler) Run(ctx context.Context) {
	defer s.wg.Wait()
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		s.RunDue(ctx)
		wait := time.Hour
		if at, ok := s.next(); ok {
			wait = max(at.Sub(s.cfg.Now()), 0)
			if wait == 0 {
				// Due but running on its own goroutine: look again soon.
				wait = 100 * time.Millisecond
			}
		}
		timer.Reset(wait)
		select {
		case <-ctx.Done():
			return
		case <-s.wake:
		case <-timer.C:
		}
	}
}

// fire sends a scheduler event, if the scheduler has a bus.
func (s *Scheduler) fire(name string, t Task) {
	bus := s.cfg.Events
	if !bus.Wants(name, "") {
		return
	}
	e := events.New(name)
	e.Add("Task-ID", strconv.FormatUint(uint64(t.ID), 10))
	e.Add("Task-Desc", t.Desc)
	e.Add("Task-Group", t.Group)
	e.Add("Task-Runtime", strconv.FormatInt(t.Runtime.Unix(), 10))
	bus.Fire(e)
}

// schedulerOf returns env's scheduler, if it has one.
func schedulerOf(env Env) (*Scheduler, bool) {
	sc, ok := env.(Scheduling)
	if !ok || sc.Scheduler() == nil {
		return nil, false
	}
	return sc.Scheduler(), true
}

// catol reads a number like C's atol (see catoi).
func catol(s string) int64 { return int64(catoi(s)) }

// schedAPI is `sched_api [+@]<time> <group> <command> [<args>][&]`: it
// runs the API command later and answers "+OK Added: <task id>". The time
// is +<secs> from now, @<secs> from now and then every <secs> again, or a
// Unix time. A trailing '&' runs the command on a goroutine of its own,
// so a slow command does not hold the other tasks up. The command's
// output goes to the debug log.
func schedAPI(_ context.Context, env Env, args string) (string, error) {
	bad := "-ERR Invalid syntax. USAGE: " + schedAPIUsage + "\n"
	when, rest, ok := strings.Cut(args, " ")
	if !ok {
		return bad, nil
	}
	group, command, ok := strings.Cut(rest, " ")
	if !ok {
		return bad, nil
	}
	sch, ok := schedulerOf(env)
	if !ok {
		return needs("sched_api"), nil
	}
	now := now(env).Unix()
	var at, repeat int64
	switch {
	case strings.HasPrefix(when, "+"):
		at = now + catol(when[1:])
	case strings.HasPrefix(when, "@"):
		repeat = catol(when[1:])
		at = now + repeat
	default:
		at = catol(when)
	}
	own := strings.HasSuffix(command, "&")
	command = strings.TrimSuffix(command, "&")
	log := sch.cfg.Logger
	id := sch.Add(time.Unix(at, 0), "sched_api_function", group, time.Duration(repeat)*time.Second, own, func(ctx context.Context) {
		cmd, arg, _ := strings.Cut(command, " ")
		out := Execute(ctx, env, cmd, arg)
		log.Debug(fmt.Sprintf("Command %s(%s):\n%s", cmd, arg, out))
	})
	return fmt.Sprintf("+OK Added: %d\n", id), nil
}

// unschedAPI is `unsched_api <task id>`: "+OK" when the task was deleted,
// "-ERR No such id" when there is none, nothing for an id of 0.
func unschedAPI(_ context.Context, env Env, args string) (string, error) {
	if args == "" {
		return "-ERR Invalid syntax. USAGE: <task_id>\n", nil
	}
	sch, ok := schedulerOf(env)
	if !ok {
		return needs("unsched_api"), nil
	}
	id := uint32(catol(args))
	if id == 0 {
		return "", nil
	}
	if sch.DeleteID(id) {
		return "+OK\n", nil
	}
	return "-ERR No such id\n", nil
}

// schedDel is `sched_del <task id>|<group>`: it deletes the task with that
// id (an argument of digits only) or every task of the group, and answers
// "+OK Deleted: <count>".
func schedDel(_ context.Context, env Env, args string) (string, error) {
	if args == "" {
		return "-ERR Invalid syntax\n", nil
	}
	sch, ok := schedulerOf(env)
	if !ok {
		return needs("sched_del"), nil
	}
	n := 0
	if strings.Trim(args, "0123456789") == "" {
		if id, err := strconv.ParseUint(args, 10, 32); err == nil && id > 0 && sch.DeleteID(uint32(id)) {
			n = 1
		}
	} else {
		n = sch.DeleteGroup(args)
	}
	return fmt.Sprintf("+OK Deleted: %d\n", n), nil
}

// schedTime reads the time word of sched_hangup and sched_transfer:
// +<secs> from now, or a Unix time.
func schedTime(env Env, when string) time.Time {
	if strings.HasPrefix(when, "+") {
		return now(env).Add(time.Duration(catol(when[1:])) * time.Second)
	}
	return time.Unix(catol(when), 0)
}

// schedHangup is `sched_hangup [+]<time> <uuid> [<cause>]`: it hangs the
// call up at that time with the cause (ALLOTTED_TIMEOUT by default). The
// task's group is the uuid. As in FreeSWITCH (and the sched_hangup
// application), the seconds are read from the time word without its
// first character, and when they are 0 the call is hung up at once: "+0"
// does, and so does an absolute time like "5".
func schedHangup(_ context.Context, env Env, args string) (string, error) {
	argv := vars.Separate(args, ' ', 4)
	if len(argv) == 0 || argv[0] == "" {
		return "-USAGE: " + schedHangupUsage + "\n", nil
	}
	c, ok := coreOf(env)
	sch, hasSched := schedulerOf(env)
	if !ok || !hasSched {
		return needs("sched_hangup"), nil
	}
	id := arg(argv, 1)
	why := cause.CAllottedTimeout
	if len(argv) > 2 {
		why = cause.Parse(argv[2])
	}
	s := locate(c, id)
	if s == nil {
		return noChannel, nil
	}
	if catol(argv[0][1:]) == 0 {
		s.Hangup(why)
		return "+OK\n", nil
	}
	mgr := c.Sessions()
	sch.Add(schedTime(env, argv[0]), "switch_ivr_schedule_hangup", id, 0, false, func(context.Context) {
		if s := mgr.Get(id); s != nil {
			s.Hangup(why)
		}
	})
	return "+OK\n", nil
}

// schedTransfer is `sched_transfer [+]<time> <uuid> <extension>
// [<dialplan>] [<context>]`: it transfers the call at that time, as
// uuid_transfer does. The task's group is the uuid.
func schedTransfer(_ context.Context, env Env, args string) (string, error) {
	argv := vars.Separate(args, ' ', 6)
	if len(argv) < 2 || len(argv) > 5 || argv[0] == "" {
		return "-USAGE: " + schedTransferUsage + "\n", nil
	}
	c, ok := coreOf(env)
	sch, hasSched := schedulerOf(env)
	if !ok || !hasSched {
		return needs("sched_transfer"), nil
	}
	id := argv[1]
	if locate(c, id) == nil {
		return noChannel, nil
	}
	dest, dp, ctxName := arg(argv, 2), arg(argv, 3), arg(argv, 4)
	mgr, log := c.Sessions(), sch.cfg.Logger
	sch.Add(schedTime(env, argv[0]), "switch_ivr_schedule_transfer", id, 0, false, func(context.Context) {
		if s := mgr.Get(id); s != nil {
			if err := s.Transfer(dest, dp, ctxName); err != nil {
				log.Warn("scheduled transfer failed", "uuid", id, "err", err)
			}
		}
	})
	return "+OK\n", nil
}

// showTasks is `show tasks`: the scheduled tasks, with the columns of
// FreeSWITCH's tasks table.
func showTasks(_ context.Context, env Env, _ []string) (*Table, error) {
	sch, ok := schedulerOf(env)
	if !ok {
		return nil, errNoCore
	}
	host, _ := hostname(context.Background(), env, "")
	t := &Table{Columns: []string{"task_id", "task_desc", "task_group", "task_runtime", "task_sql_manager", "hostname"}}
	for _, x := range sch.Tasks() {
		t.Rows = append(t.Rows, []string{strconv.FormatUint(uint64(x.ID), 10), x.Desc, x.Group, strconv.FormatInt(x.Runtime.Unix(), 10), "0", host})
	}
	return t, nil
}
