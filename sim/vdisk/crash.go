package vdisk

import "sort"

// Crash is a power loss followed by a reboot: every handle dies, the directory reverts to
// its last SyncDir (plus, under KeepUnsyncedProbability, a random prefix of the directory
// operations since), and every file reverts to its last Sync (plus a tear or a kept prefix
// of the unsynced operations, see Faults). What survives is durable from then on. The
// bytes lost are counted in Stats.BytesLost and reported in the EventCrash.
func (d *Disk) Crash() {
	d.generation++
	d.stats.Crashes++

	newDir := make(map[string]*inode, len(d.syncedDir))
	for name, ino := range d.syncedDir {
		newDir[name] = ino
	}
	if len(d.dirOps) > 0 && d.chance(d.faults.KeepUnsyncedProbability) {
		for _, op := range d.dirOps[:d.rng.IntN(len(d.dirOps)+1)] {
			switch op.kind {
			case dirCreate:
				newDir[op.name] = op.ino
			case dirRename:
				if ino, ok := newDir[op.name]; ok {
					delete(newDir, op.name)
					newDir[op.to] = ino
				}
			case dirRemove:
				delete(newDir, op.name)
			}
		}
	}

	// Visit every file that existed before or exists after, in inode order, so the rng
	// draws happen in the same order on every run.
	names := map[*inode]string{}
	for _, dir := range []map[string]*inode{d.dir, newDir} {
		for _, name := range sortedNames(dir) {
			names[dir[name]] = name
		}
	}
	inodes := make([]*inode, 0, len(names))
	for ino := range names {
		inodes = append(inodes, ino)
	}
	sort.Slice(inodes, func(i, j int) bool { return inodes[i].id < inodes[j].id })

	alive := map[*inode]bool{}
	for _, ino := range newDir {
		alive[ino] = true
	}
	var lost int64
	for _, ino := range inodes {
		if alive[ino] {
			lost += d.crashFile(ino, names[ino])
		} else {
			// The name never became durable (or its removal did): the file is gone with
			// everything the node saw in it.
			lost += int64(len(ino.data))
		}
	}
	d.dir = newDir
	d.syncedDir = make(map[string]*inode, len(newDir))
	for name, ino := range newDir {
		d.syncedDir[name] = ino
	}
	d.dirOps = nil
	d.stats.BytesLost += lost
	d.emit(Event{Kind: EventCrash, Bytes: lost})
}

// crashFile reverts one file to its durable content plus whatever of its unsynced
// operations survive, and returns the unsynced bytes written that did not survive.
func (d *Disk) crashFile(ino *inode, name string) int64 {
	content := append([]byte(nil), ino.durableContent()...)
	var pendingBytes int64
	lastWrite := -1
	for i, op := range ino.pending {
		if !op.truncate && len(op.data) > 0 {
			pendingBytes += int64(len(op.data))
			lastWrite = i
		}
	}
	var kept int64
	apply := func(op fileOp, dataBytes int) {
		if op.truncate {
			content = resize(content, op.size)
			return
		}
		content = append(content, op.data[:dataBytes]...)
		kept += int64(dataBytes)
	}
	switch {
	case len(ino.pending) == 0:
	case lastWrite >= 0 && d.chance(d.faults.TearProbability):
		for _, op := range ino.pending[:lastWrite] {
			apply(op, len(op.data))
		}
		torn := ino.pending[lastWrite]
		apply(torn, d.rng.IntN(len(torn.data)))
		d.stats.Tears++
		d.emit(Event{Kind: EventTear, File: name, Bytes: kept})
	case d.chance(d.faults.KeepUnsyncedProbability):
		whole := d.rng.IntN(len(ino.pending) + 1)
		for _, op := range ino.pending[:whole] {
			apply(op, len(op.data))
		}
		if whole < len(ino.pending) {
			if op := ino.pending[whole]; op.truncate {
				// A truncation is all or nothing.
			} else {
				apply(op, d.rng.IntN(len(op.data)+1))
			}
		}
		d.emit(Event{Kind: EventKeepUnsynced, File: name, Bytes: kept})
	}
	ino.data, ino.durable, ino.separated, ino.durableLen, ino.pending = content, nil, false, len(content), nil
	return pendingBytes - kept
}

func sortedNames(dir map[string]*inode) []string {
	names := make([]string, 0, len(dir))
	for name := range dir {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

// BlockBytes is the unit CorruptRandomBlock damages: one disk sector.
const BlockBytes = 512

// Corruption describes one flipped bit.
type Corruption struct {
	File        string
	OffsetBytes int64
	Bit         uint8
}

// CorruptRandomBlock flips one bit in a random block of the synced content of a random file
// (one with synced content). ok is false when no file has synced content.
func (d *Disk) CorruptRandomBlock() (Corruption, bool) {
	var candidates []string
	for _, name := range sortedNames(d.dir) {
		if len(d.dir[name].durableContent()) > 0 {
			candidates = append(candidates, name)
		}
	}
	if len(candidates) == 0 {
		return Corruption{}, false
	}
	return d.CorruptFileBlock(candidates[d.rng.IntN(len(candidates))])
}

// CorruptFileBlock flips one bit in a random block of the named file's synced content, the
// way a failing disk or a misdirected write damages data that was already durable. The
// running node sees the flip at its next read unless the file was truncated since its last
// Sync, in which case the flip shows after a crash. ok is false when the file does not exist
// or has no synced content.
func (d *Disk) CorruptFileBlock(name string) (Corruption, bool) {
	ino, exists := d.dir[name]
	if !exists {
		return Corruption{}, false
	}
	content := ino.durableContent()
	if len(content) == 0 {
		return Corruption{}, false
	}
	blocks := (len(content) + BlockBytes - 1) / BlockBytes
	start := d.rng.IntN(blocks) * BlockBytes
	offset := start + d.rng.IntN(min(BlockBytes, len(content)-start))
	bit := uint8(d.rng.IntN(8))
	content[offset] ^= 1 << bit
	d.stats.Corruptions++
	d.emit(Event{Kind: EventCorrupt, File: name, Offset: int64(offset)})
	return Corruption{File: name, OffsetBytes: int64(offset), Bit: bit}, true
}
