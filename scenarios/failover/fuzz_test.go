package failover

import (
	"testing"
)

// FuzzSchedule is failover fuzzing under Go's coverage-guided fuzzer: the input bytes
// decode (FromBytes) into a short schedule on 3 or 5 voters, run with every check.
//
//	go test ./scenarios/failover -run '^$' -fuzz FuzzSchedule -fuzztime 10s
func FuzzSchedule(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{0, 0, 10, byte(Crash), 2, 0, 120, byte(Restart), 2, 0})                           // the leader (s3) crashes and comes back
	f.Add([]byte{1, 1, 5, byte(Partition), 4, 3, 60, byte(PowerCut), 4, 0, 200, byte(Heal), 0, 0}) // 5 voters split, a torn tail
	f.Add([]byte{2, 0, 0, byte(Cut), 2, 1, 8, byte(Cut), 2, 0})                                    // the leader's one-way cuts
	f.Add([]byte{3, 0, 30, byte(Corrupt), 0, 0, 90, byte(Isolate), 2, 0, 150, byte(Restart), 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		s := FromBytes(data)
		r, err := s.Run()
		if err != nil {
			t.Fatalf("FromBytes(%x) gave a schedule Options refuses: %v\n%s", data, err, s)
		}
		if r.Failed() {
			t.Fatalf("%v\nschedule (save it to a file and replay: go run ./cmd/zabsim replay -schedule FILE -v):\n%s", r.Failure, s)
		}
	})
}

// FuzzParse: any text either is refused with an error or parses to a schedule whose text
// form parses back to it.
func FuzzParse(f *testing.F) {
	f.Add(everyStep)
	f.Add("seed 3\ncluster swarm\nfaults-until 2s\nat 1.5s cut s5->s1\n")
	f.Add("seed 1\ncluster quiet voters=3 observers=0\nfaults-until 1s\nat 10ms partition {s1} {s2,s3}\n")
	f.Fuzz(func(t *testing.T, text string) {
		s, err := Parse(text)
		if err != nil {
			return
		}
		again, err := Parse(s.String())
		if err != nil {
			t.Fatalf("Parse accepted\n%q\nbut refuses its own rendering\n%s\n%v", text, s, err)
		}
		if again.String() != s.String() {
			t.Fatalf("the text form does not round-trip:\n%s\nvs\n%s", s, again)
		}
	})
}
