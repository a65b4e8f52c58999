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
	records []*Record
	reason  string
}

// Keep passes the record on, with whatever the transform changed in it.
func Keep(r *Record) Result {
	return Result{outcome: OutcomeKeep, records: []*Record{r}}
}

// Drop leaves the record out of the migration: ferry counts it as skipped,
// with the reason, and does not load it.
func Drop(reason string) Result {
	return Result{outcome: OutcomeDrop, reason: reason}
}

// Split replaces the record with several records of the same stream, each
// loaded on its own; derive them from the input with [Record.Clone]. A split
// into no records fails the record: use [Drop] to leave it out.
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
func (r Result) Records() []*Record { return r.records }

// Reason returns a Drop's or Fail's reason.
func (r Result) Reason() string { return r.reason }
