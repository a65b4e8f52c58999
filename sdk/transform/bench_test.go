package transform

import (
	"strconv"
	"strings"
	"testing"
)

// benchBatch is a JSON v1 batch of n ticket records.
func benchBatch(n int) []byte {
	var b strings.Builder
	b.WriteString(`{"stream":"tickets","records":[`)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`{"id":"` + strconv.Itoa(i) + `","subject":"Printer on fire","status":"open",` +
			`"tags":["printer","fire"],"created_at":"2024-03-01T10:20:30Z","custom_fields":{"360":"x"},"raw":{"id":1,"via":{"channel":"email"}}}`)
	}
	b.WriteString(`]}`)
	return []byte(b.String())
}

// BenchmarkTransform measures the SDK's share of a batch, natively: decoding,
// one string read and write per record, encoding.
func BenchmarkTransform(b *testing.B) {
	in, err := newInstance(func(*Context) (Handler, error) {
		return func(_ *Context, r *Record) Result {
			r.SetString("subject", "[ZD-"+r.ID()+"] "+r.String("subject"))
			return Keep(r)
		}, nil
	}, nil, nil)
	if err != nil {
		b.Fatal(err)
	}
	batch := benchBatch(1000)
	b.SetBytes(int64(len(batch)))
	for b.Loop() {
		in.Transform(FormatJSON, batch)
	}
	b.ReportMetric(float64(b.N*1000)/b.Elapsed().Seconds(), "records/s")
}
