package stage

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/ferryhq/ferry/sdk/schema"
)

// BenchmarkStage stages a help desk of FERRY_BENCH_TICKETS tickets (default
// 1,000,000) with five comments each through the Arrow ingest, as extracts
// do (100,000-row batches, a checkpoint each), then runs a typical filter
// query over ticket_overview. It reports rows staged per second (batch and
// commit time, not generation), the query's time and the workspace's size.
func BenchmarkStage(b *testing.B) {
	tickets := 1_000_000
	if v, err := strconv.Atoi(os.Getenv("FERRY_BENCH_TICKETS")); err == nil && v > 0 {
		tickets = v
	}
	const perTicket, batchRows = 5, 100_000
	for b.Loop() {
		dir := b.TempDir()
		w, err := Open(b.Context(), dir)
		if err != nil {
			b.Fatal(err)
		}
		in, err := w.NewIngest(b.Context(), 1)
		if err != nil {
			b.Fatal(err)
		}
		var staging time.Duration
		stage := func(stream string, rec arrow.RecordBatch, cursor string) {
			start := time.Now()
			if err := in.Batch(b.Context(), stream, rec); err != nil {
				b.Fatal(err)
			}
			if err := in.Checkpoint(b.Context(), stream, []byte(cursor)); err != nil {
				b.Fatal(err)
			}
			staging += time.Since(start)
			rec.Release()
		}
		users := 20_000
		stage(schema.Users, benchUsers(users), "users")
		for s := 0; s < tickets; s += batchRows {
			stage(schema.Tickets, benchTickets(s, min(batchRows, tickets-s), users, tickets), fmt.Sprint(s))
		}
		comments := tickets * perTicket
		for s := 0; s < comments; s += batchRows {
			stage(schema.Comments, benchComments(s, min(batchRows, comments-s), perTicket, users, tickets), fmt.Sprint(s))
		}
		in.Close()
		start := time.Now()
		w.Close() // folds the write-ahead log into the file
		staging += time.Since(start)
		rows := users + tickets + comments

		w, err = Open(b.Context(), dir)
		if err != nil {
			b.Fatal(err)
		}
		filter := "created_at >= DATE '2023-01-01' AND NOT list_contains(tags, 'spam') AND comment_count > 2 AND requester_email LIKE '%@example.com'"
		start = time.Now()
		var kept int
		if err := w.DB().QueryRowContext(b.Context(), "SELECT count(*) FROM ("+filterQuery(filter)+")").Scan(&kept); err != nil {
			b.Fatal(err)
		}
		query := time.Since(start)
		w.Close()
		fi, err := os.Stat(filepath.Join(dir, FileName))
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(rows)/staging.Seconds(), "rows/s")
		b.ReportMetric(query.Seconds(), "filter-s")
		b.ReportMetric(float64(fi.Size())/(1<<20), "MiB")
		fmt.Fprintf(os.Stderr, "staged %d rows (%d tickets, %d comments, %d users) in %s: %.0f rows/s; filter query (%d kept) %s; workspace %.0f MiB\n",
			rows, tickets, comments, users, staging.Round(time.Millisecond), float64(rows)/staging.Seconds(), kept, query.Round(time.Millisecond), float64(fi.Size())/(1<<20))
	}
}

var benchStart = time.Date(2021, 1, 1, 0, 0, 0, 0, time.UTC)

func benchUsers(n int) arrow.RecordBatch {
	bl, _ := schema.NewBuilder(memory.NewGoAllocator(), schema.Users)
	defer bl.Release()
	for i := range n {
		bl.Append(&schema.User{ID: fmt.Sprint("u", i), Role: schema.RoleEndUser, Name: fmt.Sprint("User ", i),
			Email: fmt.Sprintf("user%d@example.com", i), CreatedAt: benchStart, Raw: json.RawMessage(fmt.Sprintf(`{"id":%d}`, i))})
	}
	return bl.NewRecordBatch()
}

// benchSpan spreads the tickets over three years.
const benchSpan = 3 * 365 * 24 * time.Hour

func benchTickets(start, n, users, tickets int) arrow.RecordBatch {
	step := benchSpan / time.Duration(tickets)
	bl, _ := schema.NewBuilder(memory.NewGoAllocator(), schema.Tickets)
	defer bl.Release()
	statuses := []string{"new", "open", "pending", "solved", "closed"}
	for i := start; i < start+n; i++ {
		tags := []string{"billing", "printer"}
		if i%10 == 0 {
			tags = append(tags, "spam")
		}
		bl.Append(&schema.Ticket{ID: fmt.Sprint(i), Subject: fmt.Sprintf("The printer on floor %d does not print", i%40),
			Status: statuses[i%5], Priority: "normal", RequesterID: fmt.Sprint("u", i%users), AssigneeID: "agent-1",
			Tags: tags, CustomFields: json.RawMessage(`{"360001":"hardware","360002":true}`),
			CreatedAt: benchStart.Add(time.Duration(i) * step), UpdatedAt: benchStart.Add(time.Duration(i)*step + time.Hour),
			Raw: json.RawMessage(fmt.Sprintf(`{"id":%d,"via":{"channel":"email"},"subject":"The printer on floor %d does not print","status":"%s"}`, i, i%40, statuses[i%5]))})
	}
	return bl.NewRecordBatch()
}

func benchComments(start, n, perTicket, users, tickets int) arrow.RecordBatch {
	step := benchSpan / time.Duration(tickets)
	bl, _ := schema.NewBuilder(memory.NewGoAllocator(), schema.Comments)
	defer bl.Release()
	for i := start; i < start+n; i++ {
		ticket := i / perTicket
		text := fmt.Sprintf("Hello, this is message %d about ticket %d. We restarted the printer, cleared the queue and reinstalled the driver; it still does not print.", i, ticket)
		bl.Append(&schema.Comment{ID: fmt.Sprint(i), TicketID: fmt.Sprint(ticket), AuthorID: fmt.Sprint("u", ticket%users), Public: i%4 != 3,
			BodyHTML: "<p>" + text + "</p>", BodyText: text, CreatedAt: benchStart.Add(time.Duration(ticket)*step + time.Duration(i%perTicket)*time.Second),
			Raw: json.RawMessage(fmt.Sprintf(`{"id":%d,"public":true,"body":%q}`, i, text))})
	}
	return bl.NewRecordBatch()
}
