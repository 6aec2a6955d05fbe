// Package conformance is the differential conformance harness of issue 8: it runs the same
// generated client sequences against two ZooKeeper servers, Apache ZooKeeper 3.8 as the
// reference and a target (zabd, or a second Apache instance to prove the harness), and
// requires every reply, watch event and connection outcome to agree.
//
// The pieces:
//   - apache.go starts standalone Apache ZooKeeper servers and 3-server ensembles from the
//     Debian packages, with the shared Settings (settings.go renders the zoo.cfg);
//   - conn.go is a raw client over zab/wire's client-side codec: it sends exactly the frames
//     a step describes (every op code, wrong op codes, oversized frames, Java- and go-zk-style
//     handshakes and auth xids) and reports every frame the server sends back in order;
//   - step.go and gen.go describe and generate sequences (rapid), run.go executes one on one
//     target, canon.go puts the transcript in canonical form (zxids and ctime/mtime by rank,
//     session ids abstracted) and diff.go compares two and prints the first divergence;
//   - moved.go and kill.go are the ensemble scenarios (SessionMoved; a generated sequence
//     followed by the leader's death);
//   - fourletter.go fetches four-letter words and reduces them to comparable reports and
//     exact state counts.
//
// This package is a test harness using real processes and sockets on 127.0.0.1; the
// determinism rules of zab/... do not apply to it. See README.md for how to point it at zabd.
package conformance
