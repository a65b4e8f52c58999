// Command splitter is a transform for host/pipeline's tests, with declared
// columns: it splits ticket 2 into itself and a new ticket 2-b, each with a
// subject of its own, adds a private note to ticket 4, and keeps ticket 3
// with a new id, which ferry must refuse.
package main

import (
	"github.com/ferryhq/ferry/sdk/transform"
)

func init() {
	transform.RegisterSetup(func(ctx *transform.Context) (transform.Handler, error) {
		ctx.Declare("tickets", []string{"subject"}, []string{"id", "subject"})
		return func(ctx *transform.Context, r *transform.Record) transform.Result {
			switch r.ID() {
			case "2":
				a, b := r.Clone(), r.Clone()
				a.SetString("subject", "part 1")
				b.SetString("id", "2-b")
				b.SetString("subject", "part 2")
				return transform.Split(a, b)
			case "3":
				r.SetString("id", "three")
				return transform.Keep(r)
			case "4":
				note := transform.NewRecord()
				note.SetString("id", "note-4")
				note.SetString("ticket_id", "4")
				note.SetString("body_text", "a note")
				note.SetBool("public", false)
				ctx.Emit("comments", note)
			}
			return transform.Keep(r)
		}, nil
	})
}

func main() {}
