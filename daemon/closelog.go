package daemon

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"time"
)

// closeLevel is the level a connection close is logged at. The node closes connections for
// ordinary reasons (the client closed its session, or resumed it elsewhere), which stay at
// DEBUG; a client that broke the protocol or hit a limit is WARN, so an operator sees which
// client misbehaves; everything else (timeouts, expiry, a server that stops serving) is INFO.
// ZooKeeper likewise logs a malformed packet's close as a warning (NIOServerCnxn: "Closing
// connection", "Len error").
func closeLevel(reason string) slog.Level {
	switch {
	case reason == "session closed by the client", reason == "session resumed on another connection":
		return slog.LevelDebug
	case reason == "frame too large", reason == "malformed ConnectRequest", reason == "undecodable request",
		strings.HasPrefix(reason, "too many"), strings.HasPrefix(reason, "auth failed"),
		strings.HasPrefix(reason, "leader refused request"):
		return slog.LevelWarn
	}
	return slog.LevelInfo
}

// logLimiter bounds how many close lines reach the log (a flood of bad clients must not
// flood it): a token bucket of closeLogBurst lines refilled at closeLogPerSecond, with the
// number of lines dropped reported on the next line that passes.
type logLimiter struct {
	mu         sync.Mutex
	tokens     float64
	last       time.Time
	suppressed int
}

const (
	closeLogBurst     = 20
	closeLogPerSecond = 10
)

// allow takes a token at now; it returns whether to log and how many lines were dropped
// since the last one logged.
func (l *logLimiter) allow(now time.Time) (ok bool, dropped int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.last.IsZero() {
		l.tokens = closeLogBurst
	} else {
		l.tokens = min(closeLogBurst, l.tokens+now.Sub(l.last).Seconds()*closeLogPerSecond)
	}
	l.last = now
	if l.tokens < 1 {
		l.suppressed++
		return false, 0
	}
	l.tokens--
	dropped, l.suppressed = l.suppressed, 0
	return true, dropped
}

// logClose logs a connection close at its reason's level, rate-limited.
func (s *Server) logClose(msg, reason string, args ...any) {
	level := closeLevel(reason)
	if !s.log.Enabled(context.Background(), level) {
		return
	}
	ok, dropped := s.closeLog.allow(time.Now())
	if !ok {
		return
	}
	args = append(args, "reason", reason)
	if dropped > 0 {
		args = append(args, "closesNotLogged", dropped)
	}
	s.log.Log(context.Background(), level, msg, args...)
}
