// Package clock is the one place where hosts get time. The simulator advances a Virtual
// clock by hand; the daemon uses Real. Each simulated node reads the shared virtual time
// through a Drift, so nodes can disagree about time the way real machines do.
//
// Nothing under zab/ imports this package: the core only sees the integer `now` its host
// passes in.
package clock

import "time"

// Clock tells the time and runs functions later.
type Clock interface {
	// Now is the time elapsed since the clock's start.
	Now() time.Duration
	// AfterFunc calls f once, when the clock reaches Now()+d.
	AfterFunc(d time.Duration, f func()) Timer
}

// Timer is a pending AfterFunc call.
type Timer interface {
	// Stop prevents the call if it has not happened yet; it reports whether it did so.
	Stop() bool
}
