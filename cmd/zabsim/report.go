package main

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// writeReport writes a failing seed's report directory: settings.txt, trace.txt (the
// whole trace), failure.txt (the check's report and the replay command) and timeline.html.
// A sweep runs seeds without recording their traces, so the seed runs again with recording
// on; the trace hashes must agree (the same seed gives the same run).
func (sw *sweep) writeReport(r outcome) (string, error) {
	rec := r
	if rec.trace == nil {
		rec = sw.runSeed(r.seed, true)
		if rec.traceHash != r.traceHash {
			return "", fmt.Errorf("the recording rerun of seed %d diverged (trace hash %016x, first run %016x): nondeterminism",
				r.seed, rec.traceHash, r.traceHash)
		}
	}
	name := sw.stack.name
	if sw.stack.kind != "" {
		name += "-" + sw.stack.kind // zk-snapsync-seed-7
	}
	dir := filepath.Join(sw.reports, fmt.Sprintf("%s-seed-%d", name, r.seed))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	var trace strings.Builder
	for _, e := range rec.trace {
		trace.WriteString(e.String())
		trace.WriteByte('\n')
	}
	replay := sw.replayCommand(r.seed)
	failure := fmt.Sprintf("seed %d: %s failure at %v\nreplay: %s\n\n%s\n", r.seed, r.failKind, r.failAt, replay, r.detail)
	for _, f := range rec.files {
		failure += "also: " + f + "\n"
	}
	files := map[string]string{
		"settings.txt": fmt.Sprintf("seed %d\nstack %s\n%s", r.seed, sw.stack, r.settings),
		"trace.txt":    trace.String(),
		"failure.txt":  failure,
	}
	for _, name := range sortedKeys(files) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(files[name]), 0o644); err != nil {
			return "", err
		}
	}
	return dir, writeTimelineFile(filepath.Join(dir, "timeline.html"), sw.timelineOf(rec))
}

func (sw *sweep) replayCommand(seed uint64) string {
	return fmt.Sprintf("go run ./cmd/zabsim replay -seed %d%s", seed, sw.replayFlags())
}

func (sw *sweep) timelineOf(r outcome) timeline {
	return timeline{
		title:    fmt.Sprintf("zabsim: %s seed %d", sw.stack, r.seed),
		seed:     r.seed,
		settings: r.settings,
		events:   r.trace,
		failure:  r.detail,
		failKind: r.failKind,
		failAt:   r.failAt,
		replay:   sw.replayCommand(r.seed),
		marks:    r.marks,
	}
}

func writeTimelineFile(path string, t timeline) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := t.write(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
