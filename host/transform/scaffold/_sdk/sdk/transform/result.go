package transform

// Outcome is what a transform decided for one input record.
type Outcome uint8

// The outcomes of a [Result]. The zero Outcome is no outcome: a zero Result
// fails its record, so a code path that forgets to return a result is seen.
const (
	OutcomeKeep  Outcome = iota + 1 // the record, possibly changed, goes on
	OutcomeDrop                     // the record is skipped, with a reason
	OutcomeSplit                    // the record becomes several records
	OutcomeError                    // the record is failed, with a reason
)

// String returns the outcome's name in the ABI: keep, drop, split or error.
func (o Outcome) String() string {
	switch o {
	case OutcomeKeep:
		return "keep"
	case OutcomeDrop:
		return "drop"
	case OutcomeSplit:
		return "split"
	case OutcomeError:
		return "error"
	default:
		return "none"
	}
}

// Result is a transform's answer for one input record; make one with [Keep],
// [Drop], [Split] or [Fail].
type Result struct {
	outcome Outcome
	record  *Record   // a Keep's, apart so that a Keep allocates nothing
	records []*Record // a Split's
	reason  string
}

// Keep passes the record on, with whatever the transform changed in it.
func Keep(r *Record) Result {
	return Result{outcome: OutcomeKeep, record: r}
}

// Drop leaves the record out of the migration: ferry counts it as skipped,
// with the reason, and does not load it.
func Drop(reason string) Result {
	return Result{outcome: OutcomeDrop, reason: reason}
}

// Split replaces the record with several records of the same stream, each
// loaded on its own; derive them from the input with [Record.Clone]. A split
// into no records fails the record: use [Drop] to leave it out. The records
// go on through the transforms that follow in the chain.
//
// When the transform declared its columns, a piece is the input record with
// the piece's values of the columns the transform writes: to give pieces
// ids of their own, declare id as written. To add a record of another
// stream, see [Context.Emit].
func Split(rs ...*Record) Result {
	return Result{outcome: OutcomeSplit, records: rs}
}

// Fail marks the record failed, with the reason: ferry reports it and goes on
// with the other records.
func Fail(reason string) Result {
	return Result{outcome: OutcomeError, reason: reason}
}

// Outcome returns what the result decided.
func (r Result) Outcome() Outcome { return r.outcome }

// Records returns the records a Keep or Split passes on.
func (r Result) Records() []*Record {
	if r.outcome == OutcomeKeep {
		return []*Record{r.record}
	}
	return r.records
}

// invalid says what is wrong with a result the transform returned for a
// record, with the records it emitted, or "" when nothing is. A misuse of a
// record (a column not declared) is what is wrong with it.
func (r Result) invalid(emits []emitted) string {
	switch r.outcome {
	case OutcomeKeep:
		if r.record == nil {
			return "Keep of a nil record"
		}
		if r.record.misuse != "" {
			return r.record.misuse
		}
	case OutcomeSplit:
		if len(r.records) == 0 {
			return "Split into no records (use Drop to leave a record out)"
		}
		for _, rec := range r.records {
			if rec == nil {
				return "Split with a nil record"
			}
			if rec.misuse != "" {
				return rec.misuse
			}
		}
	case OutcomeDrop, OutcomeError:
	default:
		return "the transform returned no result (a zero transform.Result)"
	}
	if r.outcome == OutcomeError {
		return ""
	}
	for _, e := range emits {
		switch {
		case e.record == nil:
			return "Emit of a nil record"
		case e.stream == "":
			return "Emit to no stream"
		case e.record.misuse != "":
			return e.record.misuse
		}
	}
	return ""
}

// Reason returns a Drop's or Fail's reason.
func (r Result) Reason() string { return r.reason }
