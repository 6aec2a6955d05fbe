package zk

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/zabkit/zabkit/checker"
	"github.com/zabkit/zabkit/zab/wire"
)

// recipe is one run of the lock or leader-election recipe of ZooKeeper's recipes page:
// create an ephemeral-sequential znode under the recipe's directory, list the children,
// hold the lock (lead) when ours is the lowest, else watch the next lower one with exists
// and list again when it goes. The znode's name starts with a prefix unique to this
// attempt (Curator's "protected" mode), so after a connection loss during the create the
// client finds out whether it was made. Holding ends by deleting the znode, or when the
// session ends (its ephemerals go with it).
type recipe struct {
	wl       *workload
	name     string // "lock /locks/l0": the checker's recipe name
	dir      string
	prefix   string
	session  int64
	node     string // our znode's full path, once known
	attempts int    // creates sent (bounded)
	waitPath string // the predecessor we wait on
	wait     int    // bumps per wait, so a stale fallback timer does nothing
	held     bool
	over     bool
}

// recipeCreatesMax bounds the creates of one attempt (each lost connection may retry).
const recipeCreatesMax = 4

func (wl *workload) startRecipe(kind, dir string) {
	wl.n++
	r := &recipe{wl: wl, name: kind + " " + dir, dir: dir, prefix: fmt.Sprintf("%s-c%d-%d-", kind, wl.cl.idx, wl.n),
		session: wl.cl.session}
	wl.recipe = r
	r.create()
}

func (r *recipe) do(req checker.Request, then func(result)) {
	r.wl.cl.do(req, func(res result) {
		if r.over {
			return
		}
		if r.wl.cl.session != r.session || res.err == wire.ErrSessionExpired {
			r.finish() // the session and its ephemerals are gone
			return
		}
		then(res)
	})
}

func (r *recipe) finish() {
	if r.over {
		return
	}
	r.over = true
	r.wl.done()
}

func (r *recipe) sessionEnded() { r.finish() }

func (r *recipe) create() {
	if r.attempts >= recipeCreatesMax || r.wl.stopped {
		r.finish()
		return
	}
	r.attempts++
	r.do(checker.Request{Type: wire.OpCreate, Path: r.dir + "/" + r.prefix, Data: r.wl.value(), Mode: wire.ModeEphemeralSequential},
		func(res result) {
			switch res.err {
			case wire.ErrOK:
				r.node = res.reply.Path
				r.list()
			case wire.ErrConnectionLoss:
				r.list() // made or not: the listing tells
			default:
				r.finish()
			}
		})
}

// list reads the children and decides: hold, wait for the predecessor, or give up.
func (r *recipe) list() {
	r.do(checker.Request{Type: wire.OpGetChildren, Path: r.dir}, func(res result) {
		switch res.err {
		case wire.ErrOK:
		case wire.ErrConnectionLoss:
			r.list()
			return
		default:
			r.finish()
			return
		}
		kids := slices.Clone(res.reply.Children)
		slices.SortFunc(kids, func(a, b string) int { return strings.Compare(sequenceOf(a), sequenceOf(b)) })
		mine := -1
		for i, k := range kids {
			if (r.node != "" && r.dir+"/"+k == r.node) || (r.node == "" && strings.HasPrefix(k, r.prefix)) {
				mine = i
				r.node = r.dir + "/" + k
				break
			}
		}
		switch {
		case mine < 0 && r.node == "":
			r.create() // the lost create never happened
		case mine < 0:
			r.finish() // our znode is gone: the session ended under us
		case r.wl.stopped:
			r.release()
		case mine == 0:
			r.acquired(res.zxid)
		default:
			r.watch(r.dir + "/" + kids[mine-1])
		}
	})
}

// sequenceOf is the sequential suffix of a child name (its last ten digits).
func sequenceOf(name string) string {
	if len(name) < 10 {
		return name
	}
	return name[len(name)-10:]
}

// watch sets an exists watch on the predecessor and waits for its event; a fallback timer
// lists again if none comes (never needed by a correct server while the session lives).
func (r *recipe) watch(pred string) {
	r.do(checker.Request{Type: wire.OpExists, Path: pred, Watch: true}, func(res result) {
		switch res.err {
		case wire.ErrOK:
			r.waitPath = pred
			r.wait++
			r.wl.waiter = r
			w := r.wait
			r.wl.cl.after(4*time.Duration(r.wl.cl.c.opts.SessionTimeoutMs)*time.Millisecond, func() {
				if !r.over && r.wait == w && r.wl.waiter == r {
					r.wl.waiter = nil
					r.list()
				}
			})
		default:
			r.list()
		}
	})
}

func (r *recipe) woken() {
	if !r.over {
		r.wait++
		r.list()
	}
}

// acquired records the hold (fenced by the listing's zxid) and keeps it for a few ticks.
func (r *recipe) acquired(zxid int64) {
	cl := r.wl.cl
	r.held = true
	cl.c.rec.h.Recipes = append(cl.c.rec.h.Recipes, checker.RecipeEvent{Recipe: r.name, Kind: checker.RecipeAcquired,
		Client: cl.idx, Session: r.session, Node: r.node, Zxid: zxid, Time: int64(cl.now())})
	cl.c.stats.RecipeHolds++
	hold := time.Duration(1+cl.rng.IntN(r.wl.w.holdTicksMax())) * time.Duration(cl.c.opts.TickMillis) * time.Millisecond
	cl.after(hold, func() {
		if !r.over {
			r.release()
		}
	})
}

// release deletes our znode; a lost connection retries it on the next one.
func (r *recipe) release() {
	r.do(checker.Request{Type: wire.OpDelete, Path: r.node, Version: -1}, func(res result) {
		switch res.err {
		case wire.ErrOK:
			if !r.held {
				r.finish()
				return
			}
			cl := r.wl.cl
			cl.c.rec.h.Recipes = append(cl.c.rec.h.Recipes, checker.RecipeEvent{Recipe: r.name, Kind: checker.RecipeReleased,
				Client: cl.idx, Session: r.session, Node: r.node, Zxid: res.zxid, Time: int64(cl.now())})
			r.finish()
		case wire.ErrConnectionLoss:
			r.release()
		default:
			r.finish()
		}
	})
}
