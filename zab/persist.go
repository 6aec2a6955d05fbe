package zab

// persistQueue tracks the writes handed to the host and how far they are durable. Because
// persists become durable in ID order, the disk holds exactly the in-memory log as it was
// when the last durable persist was issued; durableLogEnd is that log's last zxid.
type persistQueue struct {
	issued        uint64
	durable       uint64
	pending       []pendingPersist
	durableLogEnd Zxid
	// acceptedEpoch and currentEpoch are the epochs as of the last issued write (the
	// recovered ones before any): the store refuses an epoch write that lowers either or
	// puts currentEpoch above acceptedEpoch, so the core never issues one.
	acceptedEpoch, currentEpoch Epoch
}

type pendingPersist struct {
	id     uint64
	logEnd Zxid
}

// issue hands w to the host and returns its ID.
func (p *Peer) issue(w Persist) uint64 {
	q := &p.persist
	if w.SetAcceptedEpoch {
		p.assertState(w.AcceptedEpoch >= q.acceptedEpoch, "acceptedEpoch write %d below the written %d", w.AcceptedEpoch, q.acceptedEpoch)
		q.acceptedEpoch = w.AcceptedEpoch
	}
	if w.SetCurrentEpoch {
		p.assertState(w.CurrentEpoch >= q.currentEpoch && w.CurrentEpoch <= q.acceptedEpoch,
			"currentEpoch write %d with written currentEpoch %d, acceptedEpoch %d", w.CurrentEpoch, q.currentEpoch, q.acceptedEpoch)
		q.currentEpoch = w.CurrentEpoch
	}
	p.persist.issued++
	w.ID = p.persist.issued
	for i := range w.After {
		w.After[i].From = p.cfg.ID
	}
	p.persist.pending = append(p.persist.pending, pendingPersist{id: w.ID, logEnd: p.log.last()})
	p.emit(w)
	return w.ID
}

// persisted handles the host's report that every persist up to id is durable.
func (p *Peer) persisted(id uint64) {
	p.assertState(id <= p.persist.issued, "Persisted{%d} but only %d persists were issued", id, p.persist.issued)
	if id <= p.persist.durable {
		return
	}
	p.persist.durable = id
	n := 0
	for n < len(p.persist.pending) && p.persist.pending[n].id <= id {
		p.persist.durableLogEnd = p.persist.pending[n].logEnd
		n++
	}
	p.persist.pending = p.persist.pending[n:]
	if p.snapPersistID != 0 && id >= p.snapPersistID {
		p.snapPersistID = 0 // the snapshot is durable: the next one may be taken
	}
	switch {
	case p.ld != nil:
		p.leaderPersisted()
	case p.ln != nil:
		p.learnerPersisted()
	}
}
