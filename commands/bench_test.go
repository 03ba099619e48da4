package commands

import (
	"math/rand/v2"
	"strconv"
	"testing"

	"durastore/engine"
)

// The command path without the network: dispatch, transaction, handler
// and reply encoding, as the server runs a client's read batch.

func benchEnv(b *testing.B) (*Env, *Session) {
	st, err := engine.Open(engine.Config{AppendOnly: false})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	e := &Env{Store: st, Table: Default}
	return e, NewSession(1, "127.0.0.1:1", "127.0.0.1:2")
}

func benchCommands(n int, name string, withValue bool) [][][]byte {
	val := make([]byte, 32)
	cmds := make([][][]byte, n)
	for i := range cmds {
		args := [][]byte{[]byte(name), []byte("key:" + strconv.Itoa(i))}
		if withValue {
			args = append(args, val)
		}
		cmds[i] = args
	}
	return cmds
}

func benchRun(b *testing.B, name string, withValue bool, pipeline int) {
	e, s := benchEnv(b)
	keys := 100000
	all := benchCommands(keys, name, withValue)
	e.Run(s, &Writer{RESP: 2}, benchCommands(keys, "set", true))
	w := &Writer{RESP: 2}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i += pipeline {
		j := i % (keys - pipeline)
		w.B = w.B[:0]
		e.Run(s, w, all[j:j+pipeline])
	}
}

func BenchmarkCommandGet(b *testing.B)       { benchRun(b, "get", false, 1) }
func BenchmarkCommandSet(b *testing.B)       { benchRun(b, "set", true, 1) }
func BenchmarkCommandIncr(b *testing.B)      { benchRun(b, "incr", false, 1) }
func BenchmarkCommandGetPipe16(b *testing.B) { benchRun(b, "get", false, 16) }
func BenchmarkCommandSetPipe16(b *testing.B) { benchRun(b, "set", true, 16) }

// BenchmarkCommandMSetPipe16 runs what redis-benchmark -t mset -P 16 -r
// 100000 sends: batches of 16 MSETs of 10 random keys each out of 100,000,
// 160 keys a batch, most of them cache misses.
func BenchmarkCommandMSetPipe16(b *testing.B) {
	e, s := benchEnv(b)
	const keys = 100000
	e.Run(s, &Writer{RESP: 2}, benchCommands(keys, "set", true))
	rng := rand.New(rand.NewPCG(1, 2))
	val := make([]byte, 32)
	batches := make([][][][]byte, 1024)
	for i := range batches {
		batch := make([][][]byte, 16)
		for j := range batch {
			args := [][]byte{[]byte("MSET")}
			for range 10 {
				args = append(args, []byte("key:"+strconv.Itoa(rng.IntN(keys))), val)
			}
			batch[j] = args
		}
		batches[i] = batch
	}
	w := &Writer{RESP: 2}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i += 16 {
		w.B = w.B[:0]
		e.Run(s, w, batches[(i/16)%len(batches)])
	}
}

// BenchmarkLookup finds the commands redis-benchmark sends, as clients
// send them (upper case), through Lookup and through the name map.
func BenchmarkLookup(b *testing.B) {
	names := [][]byte{[]byte("SET"), []byte("GET"), []byte("INCR"), []byte("MSET"), []byte("EXISTS"), []byte("PING")}
	for _, fn := range []struct {
		name string
		f    func([]byte) *Command
	}{{"quick", Default.Lookup}, {"map", Default.lookupMap}} {
		b.Run(fn.name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				if fn.f(names[i%len(names)]) == nil {
					b.Fatal("not found")
				}
			}
		})
	}
}
