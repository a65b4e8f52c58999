package transform

import (
	"bytes"
	"encoding/json"
	"fmt"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/ferryhq/ferry/sdk/schema"
	sdk "github.com/ferryhq/ferry/sdk/transform"
	"github.com/ferryhq/ferry/transforms/legacy-id-subject/subject"
	"github.com/ferryhq/ferry/transforms/map-values/mapping"
)

// benchMapConfig is the map-values config of the benchmark: status and
// priority through tables, as a migration maps a help desk's values.
const benchMapConfig = `{"tickets": {
	"status": {"new": "open", "hold": "pending", "solved": "closed"},
	"priority": {"urgent": "high", "low": "normal"}}}`

var (
	mapValuesWasm = sync.OnceValues(func() ([]byte, error) { return goBuildWasm("../../transforms/map-values") })
	// benchTickets are the benchmark's 1M tickets, in batches of each size.
	benchTickets = sync.OnceValue(func() map[int][]arrow.RecordBatch {
		out := map[int][]arrow.RecordBatch{}
		for _, size := range benchBatchSizes {
			out[size] = ticketBatches(benchRows, size, []string{"id", "subject", "status", "priority"})
		}
		return out
	})
)

const benchRows = 1_000_000

var benchBatchSizes = []int{1024, 4096, 16384}

// ticketBatches builds n ticket rows with schema.Builder, in batches of size
// rows, and keeps the columns given, as the pipeline reads them.
func ticketBatches(n, size int, columns []string) []arrow.RecordBatch {
	statuses := []string{"new", "open", "hold", "solved", "closed"}
	priorities := []string{"low", "normal", "high", "urgent", ""}
	b, err := schema.NewBuilder(memory.NewGoAllocator(), schema.Tickets)
	if err != nil {
		panic(err)
	}
	defer b.Release()
	var out []arrow.RecordBatch
	flush := func() {
		full := b.NewRecordBatch()
		defer full.Release()
		var fields []arrow.Field
		var cols []arrow.Array
		for _, name := range columns {
			i := full.Schema().FieldIndices(name)[0]
			fields = append(fields, full.Schema().Field(i))
			cols = append(cols, full.Column(i))
		}
		out = append(out, array.NewRecordBatch(arrow.NewSchema(fields, nil), cols, full.NumRows()))
	}
	created := time.Date(2023, 5, 1, 9, 0, 0, 0, time.UTC)
	for i := range n {
		id := strconv.Itoa(100000 + i)
		err := b.Append(&schema.Ticket{
			ID: id, Subject: "Printer on fire on floor " + strconv.Itoa(i%40), Status: statuses[i%len(statuses)],
			Priority: priorities[i%len(priorities)], Type: "incident", RequesterID: strconv.Itoa(i % 5000),
			Tags: []string{"printer", "fire"}, CreatedAt: created.Add(time.Duration(i) * time.Minute),
		})
		if err != nil {
			panic(err)
		}
		if b.Rows() == size {
			flush()
		}
	}
	if b.Rows() > 0 {
		flush()
	}
	return out
}

// nativeModule is a module that runs setup natively, through the SDK's
// Instance and the same columnar encoding, with an instance per concurrent
// batch: what the chain costs without wasm.
func nativeModule(tb testing.TB, name string, setup sdk.Setup, config string) *Module {
	tb.Helper()
	pool := make(chan *sdk.Instance, runtime.GOMAXPROCS(0))
	var access map[string]Access
	for range cap(pool) {
		inst, err := sdk.NewInstanceOf(setup, json.RawMessage(config), nil)
		if err != nil {
			tb.Fatal(err)
		}
		if access == nil {
			access = map[string]Access{}
			for _, s := range schema.StreamNames() {
				if access[s], err = parseAccess(s, inst.Columns(s)); err != nil {
					tb.Fatal(err)
				}
			}
		}
		pool <- inst
	}
	return &Module{name: name, sha: "native-" + name, access: access, native: func(format uint32, batch []byte) []byte {
		inst := <-pool
		defer func() { pool <- inst }()
		return bytes.Clone(inst.Transform(format, batch))
	}}
}

// runChain runs every batch through the chain on GOMAXPROCS goroutines, as
// the pipeline does, and checks a few results.
func runChain(tb testing.TB, chain *Chain, batches []arrow.RecordBatch) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= len(batches) {
					return
				}
				res, err := chain.ApplyArrow(tb.Context(), schema.Tickets, batches[i])
				if err != nil {
					tb.Error(err)
					return
				}
				if res.Outcomes[0] != Keep || len(res.Changed[0]) == 0 {
					tb.Errorf("batch %d row 0: %v changed by %v", i, res.Outcomes[0], res.Changed[0])
				}
				res.Release()
			}
		})
	}
	wg.Wait()
}

// BenchmarkChainArrow runs legacy-id-subject and a map-values transform
// chained over 1M ticket rows in Arrow batches, both cores busy through
// the pools, in wasm (with and without wazero's deadline checks) and
// natively (the same Go functions through the SDK's Instance, without
// wasm), at several batch sizes. Each iteration is the 1M rows.
func BenchmarkChainArrow(b *testing.B) {
	batches := benchTickets()
	run := func(b *testing.B, chain *Chain, size int) {
		runChain(b, chain, batches[size]) // warm the pools
		b.ResetTimer()
		for b.Loop() {
			runChain(b, chain, batches[size])
		}
		b.ReportMetric(float64(b.N*benchRows)/b.Elapsed().Seconds(), "records/s")
	}
	wasmChain := func(b *testing.B, opts Options) *Chain {
		r := newRuntime(b, opts)
		return NewChain(
			load(b, r, mustWasm(b, exampleWasm), "legacy-id-subject", `{"prefix":"ZD"}`),
			load(b, r, mustWasm(b, mapValuesWasm), "map-values", benchMapConfig))
	}
	for _, size := range benchBatchSizes {
		b.Run(fmt.Sprintf("wasm/batch=%d", size), func(b *testing.B) { run(b, wasmChain(b, Options{}), size) })
	}
	b.Run("wasm-without-deadline-checks/batch=4096", func(b *testing.B) {
		run(b, wasmChain(b, Options{unstoppable: true}), 4096)
	})
	for _, size := range benchBatchSizes {
		b.Run(fmt.Sprintf("native/batch=%d", size), func(b *testing.B) {
			run(b, NewChain(
				nativeModule(b, "legacy-id-subject", subject.Setup, `{"prefix":"ZD"}`),
				nativeModule(b, "map-values", mapping.Setup, benchMapConfig)), size)
		})
	}
}
