package clock

import "time"

// Real is the host's monotonic clock, for the daemon.
type Real struct {
	start time.Time
}

// NewReal returns a clock that starts at zero now.
func NewReal() *Real { return &Real{start: time.Now()} }

// Now is the monotonic time since NewReal.
func (r *Real) Now() time.Duration { return time.Since(r.start) }

// AfterFunc runs f on its own goroutine after d, as time.AfterFunc does.
func (r *Real) AfterFunc(d time.Duration, f func()) Timer { return time.AfterFunc(d, f) }
