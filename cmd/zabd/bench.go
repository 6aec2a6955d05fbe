package main

import (
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/zabkit/zabkit/daemon/loadgen"
)

// runBench is `zabd bench`: drive a running ensemble (zabd or Apache ZooKeeper) with
// concurrent sessions and print ops/s and latency percentiles per workload.
func runBench(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("zabd bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	servers := fs.String("servers", "127.0.0.1:2181", "connect string: host:port,host:port,...")
	sessions := fs.Int("sessions", 16, "concurrent sessions, one request outstanding each")
	duration := fs.Duration("duration", 5*time.Second, "length of each workload")
	ops := fs.String("ops", strings.Join(loadgen.Ops, ","), "workloads to run, in order")
	valueBytes := fs.Int("value-bytes", 100, "znode data size")
	label := fs.String("label", "", "prefix for each result line (e.g. the server's name)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	for _, op := range strings.Split(*ops, ",") {
		r, err := loadgen.Run(loadgen.Options{Servers: strings.Split(*servers, ","), Sessions: *sessions,
			Duration: *duration, Op: op, ValueBytes: *valueBytes})
		if err != nil {
			fmt.Fprintln(stderr, "zabd bench:", err)
			return 1
		}
		fmt.Fprintf(stdout, "%s%s\n", *label, r)
	}
	return 0
}
