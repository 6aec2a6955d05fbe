// Command zabd is the zabkit server: ZooKeeper's client protocol on a verified ZAB core.
//
//	zabd [zoo.cfg]        run one server from a ZooKeeper configuration file; with no file,
//	                      a standalone server on 127.0.0.1:2181 keeping its data in ./data
//	zabd dev [-n 3]       run an n-server ensemble on local ports in this one process, for
//	                      trying things out, and print its connect string
//	zabd bench [-servers S] [-sessions N] [-duration D] [-ops create,set,get,mixed]
//	                      drive a running ensemble (zabd or Apache ZooKeeper) and print
//	                      ops/s and p50/p99 latency per workload
//
// SIGTERM or SIGINT shuts down gracefully: no new clients, in-flight requests answered,
// the log synced, exit 0. A SIGKILL at any moment loses no acknowledged write: a write is
// acknowledged only once a quorum has it on disk.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"sync"
	"syscall"

	"github.com/zabkit/zabkit/daemon"
	"github.com/zabkit/zabkit/daemon/config"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run is zabd with its arguments; it returns the exit code.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "dev" {
		return runDev(args[1:], stdout, stderr)
	}
	if len(args) > 0 && args[0] == "bench" {
		return runBench(args[1:], stdout, stderr)
	}
	fs := flag.NewFlagSet("zabd", flag.ContinueOnError)
	fs.SetOutput(stderr)
	level := fs.String("log-level", "info", "log level: debug, info, warn or error")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: zabd [-log-level L] [zoo.cfg]\n       zabd dev [-n N] [-dir DIR]\n       zabd bench [-servers S] [-sessions N] [-duration D] [-ops LIST]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	log, err := newLogger(stderr, *level)
	if err != nil {
		fmt.Fprintln(stderr, "zabd:", err)
		return 2
	}
	var cfg config.Config
	switch fs.NArg() {
	case 0:
		cfg = config.Default()
		log.Info("no configuration file: standalone server", "client", cfg.ClientAddr, "dataDir", cfg.DataDir)
	case 1:
		var warnings []config.Warning
		cfg, warnings, err = config.Load(fs.Arg(0))
		for _, w := range warnings {
			log.Warn("zoo.cfg: " + w.String())
		}
		if err != nil {
			fmt.Fprintln(stderr, "zabd: refusing to start:", err)
			return 2
		}
	default:
		fs.Usage()
		return 2
	}
	s, err := daemon.Start(daemon.Options{Config: cfg, Logger: log})
	if err != nil {
		fmt.Fprintln(stderr, "zabd: refusing to start:", err)
		return 1
	}
	return waitAndStop(log, func() error { return s.Close() }, s.Done(), s.Err)
}

// waitAndStop waits for SIGTERM/SIGINT (then stops gracefully, exit 0) or for the server
// to stop on its own (a storage failure: exit 1, to be restarted from disk).
func waitAndStop(log *slog.Logger, stop func() error, done <-chan struct{}, failure func() error) int {
	ctx, cancel := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer cancel()
	select {
	case <-ctx.Done():
		log.Info("signal received, shutting down")
		if err := stop(); err != nil {
			log.Error("shutdown", "err", err)
			return 1
		}
		return 0
	case <-done:
		log.Error("server stopped", "err", failure())
		return 1
	}
}

func runDev(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("zabd dev", flag.ContinueOnError)
	fs.SetOutput(stderr)
	n := fs.Int("n", 3, "servers in the ensemble")
	dir := fs.String("dir", "", "data directory (default: a new temporary directory)")
	level := fs.String("log-level", "info", "log level: debug, info, warn or error")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	log, err := newLogger(stderr, *level)
	if err != nil {
		fmt.Fprintln(stderr, "zabd:", err)
		return 2
	}
	if *dir == "" {
		if *dir, err = os.MkdirTemp("", "zabd-dev-"); err != nil {
			fmt.Fprintln(stderr, "zabd:", err)
			return 1
		}
	}
	abs, _ := filepath.Abs(*dir)
	e, err := daemon.StartEnsemble(daemon.EnsembleOptions{Dir: abs, Servers: *n, Logger: log})
	if err != nil {
		fmt.Fprintln(stderr, "zabd: ensemble did not start:", err)
		return 1
	}
	fmt.Fprintf(stdout, "zabd dev: %d servers, data in %s\nconnect string: %s\n", *n, abs, e.ConnectString())
	// The first member to stop on its own (a storage failure) ends the ensemble.
	done := make(chan struct{})
	var once sync.Once
	for _, s := range e.Servers {
		go func() {
			select {
			case <-s.Done():
				once.Do(func() { close(done) })
			case <-done:
			}
		}()
	}
	return waitAndStop(log, e.Close, done, func() error { return errors.New("a member stopped") })
}

func newLogger(w io.Writer, level string) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("log level %q: %w", level, err)
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: l})), nil
}
