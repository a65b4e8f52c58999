package load

import (
	"fmt"
	"net/http/httptest"
	"syscall"
	"testing"
	"time"

	"github.com/ferryhq/ferry/host/intercom"
	"github.com/ferryhq/ferry/host/intercom/sandbox"
	"github.com/ferryhq/ferry/sdk/schema"
)

// BenchmarkLoad loads a generated help desk (500 tickets of 6 comments,
// 200 users) into a sandbox without rate limit or latency, and reports
// ferry's CPU time per Intercom call (the process's, so the sandbox's
// too: an upper bound) and the calls per second.
func BenchmarkLoad(b *testing.B) {
	const tickets, perTicket, users = 500, 6, 200
	var recs []schema.Record
	for u := range users {
		recs = append(recs, &schema.User{ID: fmt.Sprint("u", u), Role: schema.RoleEndUser, Name: fmt.Sprint("User ", u), Email: fmt.Sprintf("u%d@example.com", u)})
	}
	recs = append(recs, &schema.User{ID: "a1", Role: schema.RoleAgent, Name: "Ada", Email: "ada@ferry-sandbox.example"})
	for t := range tickets {
		id := fmt.Sprint("t", t)
		req := fmt.Sprint("u", t%users)
		recs = append(recs, &schema.Ticket{ID: id, Subject: "Printer on fire " + id, Status: []string{"open", "solved", "pending"}[t%3], RequesterID: req,
			AssigneeID: "a1", Tags: []string{"printer"}, CreatedAt: at(t)})
		for c := range perTicket {
			author := req
			if c%2 == 1 {
				author = "a1"
			}
			recs = append(recs, &schema.Comment{ID: fmt.Sprintf("%s-c%d", id, c), TicketID: id, AuthorID: author, Public: true,
				BodyHTML: fmt.Sprintf("<p>comment %d</p>", c), BodyText: fmt.Sprintf("comment %d", c), CreatedAt: at(t).Add(time.Duration(c) * time.Second)})
		}
	}
	for b.Loop() {
		b.StopTimer()
		ws := stageAll(b, recs)
		sb := sandbox.New(sandbox.Options{Token: token})
		srv := httptest.NewServer(sb)
		ic, _ := intercom.New(intercom.Options{BaseURL: srv.URL, Token: token})
		var before syscall.Rusage
		syscall.Getrusage(syscall.RUSAGE_SELF, &before)
		start := time.Now()
		b.StartTimer()
		if _, err := New(ws, ic, Options{RunID: 2, TagMigrated: "migrated"}).Run(b.Context()); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		wall := time.Since(start)
		var after syscall.Rusage
		syscall.Getrusage(syscall.RUSAGE_SELF, &after)
		cpu := time.Duration(after.Utime.Nano()+after.Stime.Nano()-before.Utime.Nano()-before.Stime.Nano()) * time.Nanosecond
		calls := ic.Stats().Calls
		b.ReportMetric(float64(cpu.Microseconds())/float64(calls), "cpu-us/call")
		b.ReportMetric(float64(calls)/wall.Seconds(), "calls/s")
		srv.Close()
		b.StartTimer()
	}
}
