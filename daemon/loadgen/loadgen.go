// Package loadgen drives a running ZooKeeper-protocol ensemble (zabd or Apache ZooKeeper)
// with concurrent go-zookeeper sessions and measures throughput and latency. The load is
// bounded: each session has exactly one request outstanding, so the figures are those of a
// closed system with Sessions clients, not of an open-loop flood.
package loadgen

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/go-zookeeper/zk"
)

// Ops are the workloads Run knows.
var Ops = []string{"create", "set", "get", "mixed"}

// Options describe one run.
type Options struct {
	Servers  []string // host:port of the members; sessions are spread over them in turn
	Sessions int
	Duration time.Duration
	// Op: create (new znodes), set (setData on the session's own znode), get (getData of
	// it), mixed (4 gets to 1 set, ZooKeeper's usual read-heavy mix).
	Op         string
	ValueBytes int
}

// Result is one run's figures.
type Result struct {
	Op        string
	Sessions  int
	Ops       int
	Errors    int
	Elapsed   time.Duration
	OpsPerSec float64
	P50, P99  time.Duration
	Max       time.Duration
}

func (r Result) String() string {
	return fmt.Sprintf("%-6s sessions=%-3d ops=%-7d errors=%-3d %9.0f ops/s  p50=%-9v p99=%-9v max=%v",
		r.Op, r.Sessions, r.Ops, r.Errors, r.OpsPerSec, r.P50.Round(time.Microsecond), r.P99.Round(time.Microsecond), r.Max.Round(time.Microsecond))
}

// samplesMax bounds the latencies one session keeps.
const samplesMax = 1 << 20

type quiet struct{}

func (quiet) Printf(string, ...any) {}

// Run connects the sessions, prepares their znodes, runs the workload for the duration and
// removes what it created.
func Run(o Options) (Result, error) {
	if !slices.Contains(Ops, o.Op) {
		return Result{}, fmt.Errorf("loadgen: unknown op %q (want one of %s)", o.Op, strings.Join(Ops, ", "))
	}
	if o.Sessions < 1 || len(o.Servers) == 0 || o.Duration <= 0 {
		return Result{}, errors.New("loadgen: need servers, at least one session and a duration")
	}
	conns := make([]*zk.Conn, o.Sessions)
	defer func() {
		for _, c := range conns {
			if c != nil {
				c.Close()
			}
		}
	}()
	for i := range conns {
		c, err := connect(o.Servers[i%len(o.Servers)])
		if err != nil {
			return Result{}, err
		}
		conns[i] = c
	}
	root := fmt.Sprintf("/loadgen-%x", rand.Uint64())
	acl := zk.WorldACL(zk.PermAll)
	if _, err := conns[0].Create(root, nil, 0, acl); err != nil {
		return Result{}, fmt.Errorf("loadgen: create %s: %w", root, err)
	}
	value := make([]byte, o.ValueBytes)
	for i, c := range conns {
		if _, err := c.Create(fmt.Sprintf("%s/s%d", root, i), value, 0, acl); err != nil {
			return Result{}, fmt.Errorf("loadgen: prepare: %w", err)
		}
		if _, err := c.Sync(root); err != nil {
			return Result{}, fmt.Errorf("loadgen: sync: %w", err)
		}
	}

	lats := make([][]time.Duration, o.Sessions)
	errs := make([]int, o.Sessions)
	var wg sync.WaitGroup
	start := time.Now()
	end := start.Add(o.Duration)
	for i, c := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			key := fmt.Sprintf("%s/s%d", root, i)
			for n := 0; time.Now().Before(end) && len(lats[i]) < samplesMax; n++ {
				t0 := time.Now()
				var err error
				switch op := o.Op; {
				case op == "create":
					_, err = c.Create(fmt.Sprintf("%s/c%d-%d", key, i, n), value, 0, acl)
				case op == "set" || (op == "mixed" && n%5 == 0):
					_, err = c.Set(key, value, -1)
				default:
					_, _, err = c.Get(key)
				}
				if err != nil {
					errs[i]++
					continue
				}
				lats[i] = append(lats[i], time.Since(t0))
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	var all []time.Duration
	r := Result{Op: o.Op, Sessions: o.Sessions, Elapsed: elapsed}
	for i := range lats {
		all = append(all, lats[i]...)
		r.Errors += errs[i]
	}
	slices.Sort(all)
	r.Ops = len(all)
	r.OpsPerSec = float64(r.Ops) / elapsed.Seconds()
	if len(all) > 0 {
		r.P50 = all[len(all)/2]
		r.P99 = all[min(len(all)-1, len(all)*99/100)]
		r.Max = all[len(all)-1]
	}
	// Remove the run's znodes, each session its own in parallel, then the root.
	for i, c := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			key := fmt.Sprintf("%s/s%d", root, i)
			kids, _, _ := c.Children(key)
			for _, k := range kids {
				c.Delete(key+"/"+k, -1)
			}
			c.Delete(key, -1)
		}()
	}
	wg.Wait()
	conns[0].Delete(root, -1)
	return r, nil
}

func connect(addr string) (*zk.Conn, error) {
	c, ev, err := zk.Connect([]string{addr}, 10*time.Second, zk.WithLogger(quiet{}))
	if err != nil {
		return nil, err
	}
	timeout := time.After(30 * time.Second)
	for {
		select {
		case e := <-ev:
			if e.State == zk.StateHasSession {
				return c, nil
			}
		case <-timeout:
			c.Close()
			return nil, fmt.Errorf("loadgen: no session with %s within 30 s", addr)
		}
	}
}
