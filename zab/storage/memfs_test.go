package storage

import (
	"errors"
	"fmt"
	"sort"
)

// memFS is the smallest FS that keeps the durability rules, for this package's tests (the
// full fault model lives in sim/vdisk, whose torture test runs this package against it):
// a file's bytes survive crash() only up to its last Sync, names only as of the last
// SyncDir, and crash can keep a prefix of a file's unsynced appended bytes (a torn write).
type memFS struct {
	files       map[string]*memFile
	syncedFiles map[string]*memFile
	generation  int
	failSync    error // returned by every File.Sync while set
	failWrite   error // returned by every File.Write while set
}

type memFile struct {
	data   []byte
	synced []byte
}

func newMemFS() *memFS {
	return &memFS{files: map[string]*memFile{}, syncedFiles: map[string]*memFile{}}
}

type memHandle struct {
	fs         *memFS
	f          *memFile
	name       string
	generation int
}

var errStaleHandle = errors.New("memfs: handle from before a crash")

func (h *memHandle) ok() error {
	if h.generation != h.fs.generation {
		return errStaleHandle
	}
	return nil
}

func (h *memHandle) Write(p []byte) (int, error) {
	if err := h.ok(); err != nil {
		return 0, err
	}
	if h.fs.failWrite != nil {
		return 0, h.fs.failWrite
	}
	h.f.data = append(h.f.data, p...)
	return len(p), nil
}

func (h *memHandle) Sync() error {
	if err := h.ok(); err != nil {
		return err
	}
	if h.fs.failSync != nil {
		return h.fs.failSync
	}
	h.f.synced = append([]byte(nil), h.f.data...)
	return nil
}

func (h *memHandle) Truncate(n int64) error {
	if err := h.ok(); err != nil {
		return err
	}
	if int(n) <= len(h.f.data) {
		h.f.data = h.f.data[:n:n]
	} else {
		h.f.data = append(h.f.data, make([]byte, int(n)-len(h.f.data))...)
	}
	return nil
}

func (h *memHandle) Close() error { return nil }

func (m *memFS) Create(name string) (File, error) {
	f := &memFile{}
	m.files[name] = f
	return &memHandle{fs: m, f: f, name: name, generation: m.generation}, nil
}

func (m *memFS) OpenAppend(name string) (File, error) {
	f, ok := m.files[name]
	if !ok {
		return nil, fmt.Errorf("memfs: %s: %w", name, ErrNotExist)
	}
	return &memHandle{fs: m, f: f, name: name, generation: m.generation}, nil
}

func (m *memFS) ReadFile(name string) ([]byte, error) {
	f, ok := m.files[name]
	if !ok {
		return nil, fmt.Errorf("memfs: %s: %w", name, ErrNotExist)
	}
	return append([]byte(nil), f.data...), nil
}

func (m *memFS) List() ([]string, error) {
	var names []string
	for name := range m.files {
		names = append(names, name)
	}
	sort.Strings(names)
	return names, nil
}

func (m *memFS) Rename(oldName, newName string) error {
	f, ok := m.files[oldName]
	if !ok {
		return fmt.Errorf("memfs: %s: %w", oldName, ErrNotExist)
	}
	delete(m.files, oldName)
	m.files[newName] = f
	return nil
}

func (m *memFS) Remove(name string) error {
	if _, ok := m.files[name]; !ok {
		return fmt.Errorf("memfs: %s: %w", name, ErrNotExist)
	}
	delete(m.files, name)
	return nil
}

func (m *memFS) SyncDir() error {
	m.syncedFiles = map[string]*memFile{}
	for name, f := range m.files {
		m.syncedFiles[name] = f
	}
	return nil
}

// crash reverts to the synced state. keepUnsynced(name, n) says how many of a file's n
// unsynced appended bytes survive (only asked when the file's content extends its synced
// bytes); nil keeps none.
func (m *memFS) crash(keepUnsynced func(name string, n int) int) {
	m.generation++
	m.files = map[string]*memFile{}
	var names []string
	for name := range m.syncedFiles {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		f := m.syncedFiles[name]
		content := append([]byte(nil), f.synced...)
		extends := len(f.data) > len(f.synced) && string(f.data[:len(f.synced)]) == string(f.synced)
		if keepUnsynced != nil && extends {
			content = append(content, f.data[len(f.synced):len(f.synced)+keepUnsynced(name, len(f.data)-len(f.synced))]...)
		}
		f.data, f.synced = content, append([]byte(nil), content...)
		m.files[name] = f
	}
}

// flip flips one bit of a file's current and synced content.
func (m *memFS) flip(name string, offset int, bit uint) {
	f := m.files[name]
	f.data[offset] ^= 1 << bit
	if offset < len(f.synced) {
		f.synced[offset] ^= 1 << bit
	}
}
