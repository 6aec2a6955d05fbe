package checker

import (
	"fmt"
	"slices"
	"sort"

	"github.com/zabkit/zabkit/zab/wire"
)

// CheckWriteZxidOrder checks what linearizable writes mean for zxids, directly: a write
// acknowledged before another was called has the smaller zxid, and the read after a sync
// is at least at the zxid of every write acknowledged before the sync was called.
func CheckWriteZxidOrder(h *History, r *Report) {
	var writes []*Op
	for i := range h.Ops {
		o := &h.Ops[i]
		if isWrite(o.Type) && !o.outcomeUnknown() && o.Err == wire.ErrOK {
			writes = append(writes, o)
		}
	}
	byReturn := slices.Clone(writes)
	sort.SliceStable(byReturn, func(i, j int) bool { return byReturn[i].Return < byReturn[j].Return })
	// latest[i]: the write of largest zxid among byReturn[:i+1].
	latest := make([]*Op, len(byReturn))
	for i, o := range byReturn {
		latest[i] = o
		if i > 0 && latest[i-1].Zxid > o.Zxid {
			latest[i] = latest[i-1]
		}
	}
	before := func(t int64) *Op { // the largest-zxid write acknowledged before time t
		i := sort.Search(len(byReturn), func(i int) bool { return byReturn[i].Return >= t })
		if i == 0 {
			return nil
		}
		return latest[i-1]
	}
	for _, o := range writes {
		if w := before(o.Call); w != nil && w.Zxid >= o.Zxid {
			r.add(Violation{Check: CheckWriteOrder,
				Detail: fmt.Sprintf("write called after another was acknowledged got zxid %s, not above %s",
					formatZxid(o.Zxid), formatZxid(w.Zxid)),
				Ops: []Op{*w, *o}})
		}
	}
	for _, in := range linOperations(h) {
		kind := in.Input.(linInput).kind
		if kind != linGetData && kind != linExists {
			continue
		}
		o := in.Metadata.(*Op)
		if w := before(in.Call); w != nil && w.Zxid > o.Zxid {
			r.add(Violation{Check: CheckSyncRead,
				Detail: fmt.Sprintf("read after sync is at zxid %s, before the write at %s acknowledged before the sync",
					formatZxid(o.Zxid), formatZxid(w.Zxid)),
				Ops: []Op{*w, *o}})
		}
	}
}
