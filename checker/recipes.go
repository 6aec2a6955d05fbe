package checker

import (
	"fmt"
	"slices"
	"sort"
)

// The lock and leader-election recipes (ZooKeeper's recipes page) make each contender an
// ephemeral-sequential znode; the lowest one holds the lock / leads. What ZooKeeper
// guarantees is exclusion in the order of the committed history, not in the clients'
// clocks: a holder whose session expired may still believe it holds the lock until it
// hears so, which is why real users fence with the znode's zxid. So a hold is measured in
// zxids: from the reply that showed the client its znode was the lowest, to the txn that
// deleted that znode (released, or its session ended). Two holds of one recipe must not
// overlap.

type recipeHold struct {
	ev            RecipeEvent
	from, through int64 // [from, through): through is the znode's deletion zxid
}

// checkRecipes checks exclusion per recipe and that each release follows a hold.
func checkRecipes(h *History, rp *replayed, r *Report) {
	holds := map[string][]recipeHold{}
	held := map[string]RecipeEvent{} // recipe + node -> acquisition
	for _, ev := range h.Recipes {
		key := ev.Recipe + "\x00" + ev.Node
		switch ev.Kind {
		case RecipeAcquired:
			if !rp.complete && ev.Zxid > rp.lastZxid {
				continue
			}
			life, ok := rp.lifeAt(ev.Node, ev.Zxid)
			if !ok {
				r.add(Violation{Check: CheckRecipe,
					Detail: fmt.Sprintf("%v: its znode does not exist at that zxid", ev)})
				continue
			}
			if life.owner != ev.Session {
				r.add(Violation{Check: CheckRecipe,
					Detail: fmt.Sprintf("%v: its znode is owned by session %#x", ev, life.owner)})
			}
			if _, dup := held[key]; dup {
				continue // the same hold reported twice
			}
			held[key] = ev
			holds[ev.Recipe] = append(holds[ev.Recipe], recipeHold{ev: ev, from: ev.Zxid, through: life.deleted})
		case RecipeReleased:
			acq, ok := held[key]
			if !ok || acq.Session != ev.Session {
				r.add(Violation{Check: CheckRecipe,
					Detail: fmt.Sprintf("%v: no earlier acquisition by this session", ev)})
				continue
			}
			delete(held, key)
		}
	}
	names := make([]string, 0, len(holds))
	for name := range holds {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		hs := holds[name]
		sort.SliceStable(hs, func(i, j int) bool { return hs[i].from < hs[j].from })
		last := hs[0] // of the holds so far, the one whose znode lived longest
		for _, cur := range hs[1:] {
			if cur.from < last.through {
				r.add(Violation{Check: CheckRecipe,
					Detail: fmt.Sprintf("%s: two holders at once: %v (its znode deleted at %s) and %v",
						name, last.ev, zxidOrNever(last.through), cur.ev)})
			}
			if cur.through > last.through {
				last = cur
			}
		}
	}
}

func zxidOrNever(z int64) string {
	if z == opReturnUnknown {
		return "never"
	}
	return formatZxid(z)
}
