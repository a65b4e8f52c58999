// Command sorter is a transform for host/pipeline's tests: it keeps tickets
// with an even id (adding a tag), drops those with an odd id, fails ticket
// 13, and changes the id of ticket 20, which ferry must refuse.
package main

import (
	"strconv"

	"github.com/ferryhq/ferry/sdk/transform"
)

func init() {
	transform.Register(func(ctx *transform.Context, r *transform.Record) transform.Result {
		n, err := strconv.Atoi(r.ID())
		switch {
		case err != nil:
			return transform.Fail("id is not a number")
		case n == 13:
			return transform.Fail("thirteen is unlucky")
		case n == 20:
			r.SetString("id", "twenty")
			return transform.Keep(r)
		case n%2 == 1:
			return transform.Drop("odd ticket")
		}
		r.SetStrings("tags", append(r.Strings("tags"), "sorted"))
		return transform.Keep(r)
	})
}

func main() {}
