package zk

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/zabkit/zabkit/checker"
	"github.com/zabkit/zabkit/zab/wire"
)

// Workload is the clients' op mix over a bounded key space. Every op stays inside one
// top-level subtree (/t0 ... /tN-1, each with keys k0 ... kM-1 and sequential children
// q-NNNNNNNNNN), so porcupine's partitions stay small; every written value is unique
// ("c<client>-<n>"). Lock and election recipes run under /locks and /election.
type Workload struct {
	Subtrees, Keys     int
	ThinkMin, ThinkMax time.Duration
	// WatchPercent is the share of reads that set a watch.
	WatchPercent int
	// Weights of the task kinds (zero turns one off).
	Create, Delete, SetData, Read, Multi, SyncRead, Lock, Election, CloseSession, AddWatch int
	// Reaped is the weight of container and TTL node lives (under /c, each its own path:
	// the leader's reaping deletes them, which no client op models for porcupine).
	Reaped int
	// Admin is the weight of the remaining ops, one drawn per task: setACL (of the open
	// ACL), getACL, addAuth, removeWatches, checkWatches, getEphemerals,
	// getAllChildrenNumber, multiRead and whoAmI.
	Admin int
	// Hot is the weight of tasks on the hot znode HotPath: a read that sets a watch, or a
	// setData. With it on, every client re-reads HotPath with a watch as soon as its watch
	// fires (a configuration watcher), so each change fires the watches of most clients at
	// once: a watch storm on one znode.
	Hot int
	// HoldTicksMax bounds how long a lock or a leadership is held: 1 to HoldTicksMax ticks
	// (zero: 5).
	HoldTicksMax int
}

// HotPath is the hot znode of Workload.Hot (inside /t0, so porcupine keeps it in the
// subtree's partition).
const HotPath = "/t0/hot"

// holdTicksMax is the bound of a hold.
func (w Workload) holdTicksMax() int {
	if w.HoldTicksMax > 0 {
		return w.HoldTicksMax
	}
	return 5
}

// DefaultWorkload is a mix of every op.
func DefaultWorkload() Workload {
	return Workload{Subtrees: 4, Keys: 3, ThinkMin: time.Millisecond, ThinkMax: 15 * time.Millisecond, WatchPercent: 40,
		Create: 6, Delete: 3, SetData: 6, Read: 8, Multi: 3, SyncRead: 3, Lock: 2, Election: 1, CloseSession: 1, AddWatch: 1, Reaped: 2, Admin: 2}
}

// SwarmWorkload draws a mix: every kind stays possible, the proportions change.
func SwarmWorkload(r *rand.Rand) Workload {
	w := DefaultWorkload()
	w.Subtrees = 2 + r.IntN(5)
	w.Keys = 2 + r.IntN(3)
	w.ThinkMax = time.Duration(2+r.IntN(30)) * time.Millisecond
	w.WatchPercent = r.IntN(80)
	for _, p := range []*int{&w.Create, &w.Delete, &w.SetData, &w.Read, &w.Multi, &w.SyncRead, &w.Lock, &w.Election} {
		*p = 1 + r.IntN(8)
	}
	w.CloseSession = r.IntN(2)
	w.AddWatch = r.IntN(2)
	w.Reaped = r.IntN(4)
	return w
}

func (w Workload) weights() []int {
	return []int{w.Create, w.Delete, w.SetData, w.Read, w.Multi, w.SyncRead, w.Lock, w.Election, w.CloseSession, w.AddWatch, w.Reaped, w.Admin, w.Hot}
}

func (w Workload) validate() error {
	total := 0
	for _, x := range w.weights() {
		if x < 0 {
			return errors.New("zk: negative workload weight")
		}
		total += x
	}
	if total == 0 || w.Subtrees < 1 || w.Keys < 1 || w.ThinkMin <= 0 || w.ThinkMax < w.ThinkMin || w.HoldTicksMax < 0 {
		return fmt.Errorf("zk: workload %v", w)
	}
	return nil
}

func (w Workload) String() string {
	return fmt.Sprintf("subtrees=%d keys=%d think=%v..%v watch=%d%% create=%d delete=%d setData=%d read=%d multi=%d syncRead=%d lock=%d election=%d close=%d addWatch=%d reaped=%d admin=%d hot=%d holdTicksMax=%d",
		w.Subtrees, w.Keys, w.ThinkMin, w.ThinkMax, w.WatchPercent, w.Create, w.Delete, w.SetData, w.Read, w.Multi, w.SyncRead, w.Lock, w.Election, w.CloseSession, w.AddWatch, w.Reaped, w.Admin,
		w.Hot, w.holdTicksMax())
}

// Recipe locations.
var (
	lockDirs     = []string{"/locks/l0", "/locks/l1"}
	electionDirs = []string{"/election/e0"}
)

// workload is one client's task runner: one task at a time (a synchronous application),
// a think time between tasks.
type workload struct {
	cl      *client
	w       Workload
	busy    bool
	stopped bool
	setup   bool // the parents were created once
	n       int  // unique value counter
	// versions is the last version seen per path; seqs the sequential children seen per
	// subtree (for deletes of them).
	versions map[string]int32
	seqs     map[string][]string
	// reapable are containers and TTL nodes this client made, for later reads.
	reapable []string
	// waiter is the recipe waiting for a watch event, if any.
	waiter *recipe
	recipe *recipe
	// rearming: a re-read of HotPath after its watch fired is outstanding (Workload.Hot).
	rearming bool
}

func newWorkload(cl *client) *workload {
	return &workload{cl: cl, w: cl.c.opts.Workload, versions: map[string]int32{}, seqs: map[string][]string{}}
}

func (wl *workload) rng() *rand.Rand { return wl.cl.rng }

// connected is called after each handshake.
func (wl *workload) connected() { wl.schedule() }

func (wl *workload) schedule() {
	if wl.busy || wl.stopped {
		return
	}
	w := wl.w
	d := w.ThinkMin + time.Duration(wl.rng().Int64N(int64(w.ThinkMax-w.ThinkMin)+1))
	wl.cl.after(d, wl.next)
}

// done ends the running task.
func (wl *workload) done() {
	wl.busy = false
	wl.recipe, wl.waiter = nil, nil
	wl.schedule()
}

// sessionEnded tells a running recipe its ephemerals are gone.
func (wl *workload) sessionEnded() {
	if r := wl.recipe; r != nil {
		r.sessionEnded()
	}
}

// event hands a watch event to the recipe waiting for it.
func (wl *workload) event(ev wire.WatcherEvent) {
	if r := wl.waiter; r != nil && ev.Path == r.waitPath {
		wl.waiter = nil
		r.woken()
	}
	if wl.w.Hot > 0 && ev.Path == HotPath && !wl.rearming && !wl.stopped {
		// Outside the task in progress: the watcher's own thread, pipelined behind it.
		wl.rearming = true
		wl.cl.do(checker.Request{Type: wire.OpGetData, Path: HotPath, Watch: true}, func(result) { wl.rearming = false })
	}
}

// next starts a task if the client is idle and connected.
func (wl *workload) next() {
	cl := wl.cl
	if wl.busy || wl.stopped || cl.conn == nil || !cl.conn.open {
		return
	}
	wl.busy = true
	if !wl.setup {
		wl.setup = true
		wl.createParents()
		return
	}
	weights := wl.w.weights()
	total := 0
	for _, x := range weights {
		total += x
	}
	pick := wl.rng().IntN(total)
	kind := 0
	for pick >= weights[kind] {
		pick -= weights[kind]
		kind++
	}
	switch kind {
	case 0:
		wl.create()
	case 1:
		wl.delete()
	case 2:
		wl.setData()
	case 3:
		wl.read()
	case 4:
		wl.multi()
	case 5:
		wl.syncRead()
	case 6:
		wl.startRecipe("lock", lockDirs[wl.rng().IntN(len(lockDirs))])
	case 7:
		wl.startRecipe("election", electionDirs[wl.rng().IntN(len(electionDirs))])
	case 8:
		wl.cl.do(checker.Request{Type: wire.OpCloseSession}, func(result) { wl.done() })
		if wl.rng().IntN(2) == 0 {
			// An asynchronous application may pipeline a request behind its close: the
			// server must refuse it (ZOOKEEPER-1208: an ephemeral created after the close).
			root := wl.pickSubtree()
			wl.cl.do(checker.Request{Type: wire.OpCreate, Path: wl.pickKey(root), Data: wl.value(), Mode: wire.ModeEphemeral}, func(result) {})
		}
	case 9:
		wl.addWatch()
	case 10:
		wl.reaped()
	case 11:
		wl.admin()
	case 12:
		wl.hot()
	}
}

// createParents creates every parent the workload needs, one after the other; errors (the
// parent exists, the connection dropped) are ignored: a later op on a missing parent just
// fails with NoNode, and the next client's setup creates it.
func (wl *workload) createParents() {
	var paths []string
	for i := range wl.w.Subtrees {
		paths = append(paths, subtree(i))
	}
	paths = append(paths, "/locks")
	paths = append(paths, lockDirs...)
	paths = append(paths, "/election")
	paths = append(paths, electionDirs...)
	paths = append(paths, reapedDir)
	var step func(i int)
	step = func(i int) {
		if i == len(paths) {
			wl.done()
			return
		}
		wl.cl.do(checker.Request{Type: wire.OpCreate, Path: paths[i], Data: wl.value(), Mode: wire.ModePersistent},
			func(result) { step(i + 1) })
	}
	step(0)
}

func subtree(i int) string { return fmt.Sprintf("/t%d", i) }

// value is a unique value for a write.
func (wl *workload) value() []byte {
	wl.n++
	return fmt.Appendf(nil, "%c%d-%d", wl.cl.c.opts.valueTag(), wl.cl.idx, wl.n)
}

func (wl *workload) pickSubtree() string { return subtree(wl.rng().IntN(wl.w.Subtrees)) }

func (wl *workload) pickKey(root string) string {
	return fmt.Sprintf("%s/k%d", root, wl.rng().IntN(wl.w.Keys))
}

// pickPath is mostly a key, sometimes the subtree root itself or a sequential child.
func (wl *workload) pickPath() string {
	root := wl.pickSubtree()
	r := wl.rng().IntN(10)
	switch {
	case r == 0:
		return root
	case r == 1 && len(wl.seqs[root]) > 0:
		kids := wl.seqs[root]
		return root + "/" + kids[wl.rng().IntN(len(kids))]
	}
	return wl.pickKey(root)
}

// version is the expected version of a conditional write: the last seen one, a wrong
// guess, or -1 (any).
func (wl *workload) version(path string) int32 {
	v, known := wl.versions[path]
	switch r := wl.rng().IntN(10); {
	case r < 4 && known:
		return v
	case r == 4:
		return int32(wl.rng().IntN(4))
	}
	return -1
}

func (wl *workload) watch() bool { return wl.rng().IntN(100) < wl.w.WatchPercent }

var createModes = []wire.CreateMode{wire.ModePersistent, wire.ModeEphemeral, wire.ModePersistentSequential, wire.ModeEphemeralSequential}

func (wl *workload) create() {
	mode := createModes[wl.rng().IntN(len(createModes))]
	root := wl.pickSubtree()
	path := wl.pickKey(root)
	if mode == wire.ModePersistentSequential || mode == wire.ModeEphemeralSequential {
		path = root + "/q-"
	}
	op := []wire.OpCode{wire.OpCreate, wire.OpCreate2}[wl.rng().IntN(2)]
	wl.cl.do(checker.Request{Type: op, Path: path, Data: wl.value(), Mode: mode}, func(res result) {
		if res.err == wire.ErrOK {
			wl.versions[res.reply.Path] = 0
			if name, ok := strings.CutPrefix(res.reply.Path, root+"/"); ok && strings.HasPrefix(name, "q-") {
				wl.learnSeq(root, name)
			}
		}
		wl.done()
	})
}

// learnSeq remembers a sequential child (a bounded list: the oldest are forgotten).
func (wl *workload) learnSeq(root, name string) {
	kids := wl.seqs[root]
	for _, k := range kids {
		if k == name {
			return
		}
	}
	if len(kids) >= 8 {
		kids = kids[1:]
	}
	wl.seqs[root] = append(kids, name)
}

func (wl *workload) forget(path string) {
	delete(wl.versions, path)
	i := strings.LastIndexByte(path, '/')
	root, name := path[:i], path[i+1:]
	kids := wl.seqs[root]
	for j, k := range kids {
		if k == name {
			wl.seqs[root] = append(kids[:j:j], kids[j+1:]...)
			return
		}
	}
}

func (wl *workload) delete() {
	path := wl.pickPath()
	wl.cl.do(checker.Request{Type: wire.OpDelete, Path: path, Version: wl.version(path)}, func(res result) {
		if res.err == wire.ErrOK || res.err == wire.ErrNoNode {
			wl.forget(path)
		}
		wl.done()
	})
}

func (wl *workload) setData() {
	path := wl.pickPath()
	wl.cl.do(checker.Request{Type: wire.OpSetData, Path: path, Data: wl.value(), Version: wl.version(path)}, func(res result) {
		wl.learn(path, res)
		wl.done()
	})
}

// learn remembers the version a reply showed.
func (wl *workload) learn(path string, res result) {
	switch {
	case res.err == wire.ErrOK && res.reply.Stat != nil:
		wl.versions[path] = res.reply.Stat.Version
	case res.err == wire.ErrNoNode:
		wl.forget(path)
	}
}

var readOps = []wire.OpCode{wire.OpExists, wire.OpGetData, wire.OpGetChildren, wire.OpGetChildren2}

func (wl *workload) read() {
	op := readOps[wl.rng().IntN(len(readOps))]
	path := wl.pickPath()
	if op == wire.OpGetChildren || op == wire.OpGetChildren2 {
		path = wl.pickSubtree()
	}
	if len(wl.reapable) > 0 && wl.rng().IntN(8) == 0 {
		path = wl.reapable[wl.rng().IntN(len(wl.reapable))] // read only: porcupine never sees it
	}
	wl.cl.do(checker.Request{Type: op, Path: path, Watch: wl.watch()}, func(res result) {
		wl.learn(path, res)
		if res.err == wire.ErrOK && res.reply.Children != nil {
			for _, k := range res.reply.Children {
				if strings.HasPrefix(k, "q-") {
					wl.learnSeq(path, k)
				}
			}
		}
		wl.done()
	})
}

// multi is two or three ops on the keys of one subtree.
func (wl *workload) multi() {
	root := wl.pickSubtree()
	n := 2 + wl.rng().IntN(2)
	ops := make([]checker.Request, n)
	for i := range ops {
		key := wl.pickKey(root)
		switch wl.rng().IntN(4) {
		case 0:
			mode := []wire.CreateMode{wire.ModePersistent, wire.ModeEphemeral}[wl.rng().IntN(2)]
			ops[i] = checker.Request{Type: wire.OpCreate, Path: key, Data: wl.value(), Mode: mode}
		case 1:
			ops[i] = checker.Request{Type: wire.OpDelete, Path: key, Version: wl.version(key)}
		case 2:
			ops[i] = checker.Request{Type: wire.OpSetData, Path: key, Data: wl.value(), Version: wl.version(key)}
		case 3:
			v, known := wl.versions[key]
			if !known {
				v = int32(wl.rng().IntN(3))
			}
			ops[i] = checker.Request{Type: wire.OpCheck, Path: key, Version: v}
		}
	}
	wl.cl.do(checker.Request{Type: wire.OpMulti, Ops: ops}, func(res result) {
		if res.err == wire.ErrOK && len(res.reply.Results) == len(ops) {
			for i, sub := range res.reply.Results {
				if sub.Stat != nil {
					wl.versions[ops[i].Path] = sub.Stat.Version
				}
				if ops[i].Type == wire.OpDelete && sub.Err == wire.ErrOK {
					wl.forget(ops[i].Path)
				}
			}
		}
		wl.done()
	})
}

// syncRead pipelines a sync and a read of a key in its subtree: the read is linearizable.
func (wl *workload) syncRead() {
	root := wl.pickSubtree()
	path := wl.pickKey(root)
	op := []wire.OpCode{wire.OpGetData, wire.OpExists}[wl.rng().IntN(2)]
	wl.cl.do(checker.Request{Type: wire.OpSync, Path: root}, func(result) {})
	wl.cl.do(checker.Request{Type: op, Path: path, Watch: wl.watch()}, func(res result) {
		wl.learn(path, res)
		wl.done()
	})
}

// persistentWatchesMax bounds the persistent watches of a session (each fires on every
// change: more would flood the history).
const persistentWatchesMax = 2

// addWatch adds a persistent watch on a key or a recursive one on a subtree.
func (wl *workload) addWatch() {
	t := wl.cl.watches
	if len(t.persistent)+len(t.recursive) >= persistentWatchesMax {
		wl.read()
		return
	}
	req := checker.Request{Type: wire.OpAddWatch, Path: wl.pickKey(wl.pickSubtree()), WatchMode: wire.AddWatchPersistent}
	if wl.rng().IntN(2) == 0 {
		req.Path, req.WatchMode = wl.pickSubtree(), wire.AddWatchPersistentRecursive
	}
	wl.cl.do(req, func(result) { wl.done() })
}

// reapedDir holds the containers and TTL nodes.
const reapedDir = "/c"

// reapedMax bounds the container and TTL paths a client remembers for reads.
const reapedMax = 8

// reaped makes a container with a child (deleted again half the time, so the leader reaps
// the empty container) or a TTL node (reaped once its TTL passed), then reads it, maybe with
// a watch that the reaping fires. Each gets a unique path, written by no other op.
func (wl *workload) reaped() {
	wl.n++
	name := fmt.Sprintf("%s/c%d-%d", reapedDir, wl.cl.idx, wl.n)
	remember := func(path string) {
		if len(wl.reapable) >= reapedMax {
			wl.reapable = wl.reapable[1:]
		}
		wl.reapable = append(wl.reapable, path)
	}
	if wl.rng().IntN(2) == 0 {
		mode := []wire.CreateMode{wire.ModePersistentWithTTL, wire.ModePersistentSequentialWithTTL}[wl.rng().IntN(2)]
		wl.cl.do(checker.Request{Type: wire.OpCreateTTL, Path: name + "-ttl", Data: wl.value(), Mode: mode}, func(res result) {
			if res.err != wire.ErrOK {
				wl.done()
				return
			}
			remember(res.reply.Path)
			wl.cl.do(checker.Request{Type: wire.OpExists, Path: res.reply.Path, Watch: wl.watch()}, func(result) { wl.done() })
		})
		return
	}
	wl.cl.do(checker.Request{Type: wire.OpCreateContainer, Path: name, Data: wl.value(), Mode: wire.ModeContainer}, func(res result) {
		if res.err != wire.ErrOK {
			wl.done()
			return
		}
		remember(name)
		child := name + "/x"
		mode := []wire.CreateMode{wire.ModePersistent, wire.ModeEphemeral}[wl.rng().IntN(2)]
		wl.cl.do(checker.Request{Type: wire.OpCreate, Path: child, Data: wl.value(), Mode: mode}, func(res result) {
			wl.cl.do(checker.Request{Type: wire.OpExists, Path: name, Watch: wl.watch()}, func(result) {
				if res.err != wire.ErrOK || wl.rng().IntN(2) == 0 {
					wl.done()
					return
				}
				wl.cl.do(checker.Request{Type: wire.OpDelete, Path: child, Version: -1}, func(result) { wl.done() })
			})
		})
	})
}

// admin runs one of the ops the other tasks leave out. The checker replays setACL's txn and
// checks its reply; it checks getACL (the ACL and stat), getEphemerals,
// getAllChildrenNumber and multiRead (each sub-read's data, stat or children) against the
// tree as of their reply zxid, and checkWatches and whoAmI for session order only;
// removeWatches updates its watch model. addAuth (digest, never needed: every ACL is open)
// is recorded with its reserved xid and zxid 0, which the session order checks skip.
func (wl *workload) admin() {
	switch wl.rng().IntN(9) {
	case 0:
		path := wl.pickPath()
		version := int32(-1)
		if wl.rng().IntN(4) == 0 {
			version = int32(wl.rng().IntN(3)) // the aversion: a wrong guess gives BadVersion
		}
		wl.cl.do(checker.Request{Type: wire.OpSetACL, Path: path, Version: version}, func(res result) {
			wl.learn(path, res)
			wl.done()
		})
	case 1:
		path := wl.pickPath()
		wl.cl.do(checker.Request{Type: wire.OpGetACL, Path: path}, func(res result) {
			wl.learn(path, res)
			wl.done()
		})
	case 2:
		wl.addAuth()
	case 3:
		wl.removeWatch()
	case 4:
		path, typ := wl.watchedPath()
		wl.cl.do(checker.Request{Type: wire.OpCheckWatches, Path: path, WatchType: typ}, func(result) { wl.done() })
	case 5:
		prefix := wl.pickSubtree()
		if wl.rng().IntN(4) == 0 {
			prefix = "/"
		}
		wl.cl.do(checker.Request{Type: wire.OpGetEphemerals, Path: prefix}, func(result) { wl.done() })
	case 6:
		wl.cl.do(checker.Request{Type: wire.OpGetAllChildrenNumber, Path: wl.pickSubtree()}, func(result) { wl.done() })
	case 7:
		root := wl.pickSubtree()
		ops := make([]checker.Request, 2+wl.rng().IntN(2))
		for i := range ops {
			ops[i] = checker.Request{Type: wire.OpGetData, Path: wl.pickKey(root)}
			if wl.rng().IntN(3) == 0 {
				ops[i] = checker.Request{Type: wire.OpGetChildren, Path: root}
			}
		}
		wl.cl.do(checker.Request{Type: wire.OpMultiRead, Ops: ops}, func(result) { wl.done() })
	case 8:
		wl.cl.do(checker.Request{Type: wire.OpWhoAmI}, func(result) { wl.done() })
	}
}

// addAuth adds a digest identity to the connection (the Java client would send it again
// after a reconnect; nothing here needs it, every ACL is open).
func (wl *workload) addAuth() {
	cl := wl.cl
	auth := &wire.AuthPacket{Scheme: "digest", Auth: fmt.Appendf(nil, "%s:secret", cl.name)}
	k := &call{req: checker.Request{Type: wire.OpAuth}, body: auth, done: func(res result) {
		if res.err == wire.ErrOK {
			cl.c.stats.Auths++
		}
		wl.done()
	}}
	if cl.conn != nil && cl.conn.open {
		cl.transmit(cl.conn, k)
		return
	}
	wl.done()
}

// watcherTypes are removeWatches' and checkWatches' watcher types.
var watcherTypes = []wire.WatcherType{wire.WatcherData, wire.WatcherChildren, wire.WatcherAny}

// watchedPath is a path with a watch of the session and a type to name it by (a standard
// watch's own type; any of the three for a persistent watch, whose data and child halves
// are removed apart), or a random key when there is none (checkWatches then answers
// NoWatcher).
func (wl *workload) watchedPath() (string, wire.WatcherType) {
	t := wl.cl.watches
	var paths []string
	var types []wire.WatcherType
	for _, p := range sortedSet(t.data) {
		paths, types = append(paths, p), append(types, wire.WatcherData)
	}
	for _, p := range sortedSet(t.exist) {
		paths, types = append(paths, p), append(types, wire.WatcherData)
	}
	for _, p := range sortedSet(t.child) {
		paths, types = append(paths, p), append(types, wire.WatcherChildren)
	}
	for _, p := range append(sortedSet(t.persistent), sortedSet(t.recursive)...) {
		paths, types = append(paths, p), append(types, watcherTypes[wl.rng().IntN(len(watcherTypes))])
	}
	if len(paths) == 0 || wl.rng().IntN(5) == 0 {
		return wl.pickPath(), watcherTypes[wl.rng().IntN(len(watcherTypes))]
	}
	i := wl.rng().IntN(len(paths))
	if wl.rng().IntN(4) == 0 {
		return paths[i], wire.WatcherAny
	}
	return paths[i], types[i]
}

// removeWatch removes a watch of the session, persistent ones included (their halves as
// ZooKeeper 3.8.0 removes them: see client.arm).
func (wl *workload) removeWatch() {
	path, typ := wl.watchedPath()
	wl.cl.do(checker.Request{Type: wire.OpRemoveWatches, Path: path, WatchType: typ}, func(result) { wl.done() })
}

// hot reads HotPath with a watch (creating it first when it is missing) or sets its data.
func (wl *workload) hot() {
	if wl.rng().IntN(3) == 0 {
		wl.cl.do(checker.Request{Type: wire.OpSetData, Path: HotPath, Data: wl.value(), Version: -1}, func(res result) {
			if res.err == wire.ErrNoNode {
				wl.cl.do(checker.Request{Type: wire.OpCreate, Path: HotPath, Data: wl.value(), Mode: wire.ModePersistent},
					func(result) { wl.done() })
				return
			}
			wl.done()
		})
		return
	}
	wl.cl.do(checker.Request{Type: wire.OpGetData, Path: HotPath, Watch: true}, func(result) { wl.done() })
}
