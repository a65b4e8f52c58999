package report

import (
	_ "embed"
	"fmt"
	"html/template"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/ferryhq/ferry/host/stage"
)

//go:embed report.html.tmpl
var pageTemplate string

// page is report.html's template, parsed once per report: a template is
// cheap to parse, and no package state is kept.
func page() (*template.Template, error) {
	return template.New(ReportHTML).Funcs(template.FuncMap{
		"num":   thousands,
		"pct":   percent,
		"when":  when,
		"shell": shellWord,
		"barWidth": func(n, most int64) int {
			if most <= 0 {
				return 0
			}
			return max(2, int(80*n/most))
		},
	}).Parse(pageTemplate)
}

// The outcome chart's geometry, in SVG user units (the page scales it).
const (
	chartLabelW = 130 // entity names
	chartBarW   = 680
	chartNoteW  = 150 // the share migrated
	chartRowH   = 34
	chartBarH   = 20
	chartMinSeg = 2 // a segment of a few records stays visible
)

// Segment classes of the chart, also its legend's, in the bars' order.
const (
	segMigrated = "migrated"
	segFailed   = "failed"
	segSkipped  = "skipped"
	segPending  = "pending" // available, with no outcome yet
)

// pageData is what the template shows.
type pageData struct {
	*Summary
	Pending     int64 // available records with no outcome yet, over all entities
	Chart       chart
	Files       []fileLink
	MoreMatches int64 // mismatches not listed
	MaxFailures int64 // the largest failure group, the scale of the inline bars
	MaxSkips    int64
}

type fileLink struct {
	Name, About string
	Rows        int64
	HasRows     bool
}

type chart struct {
	Width, Height int
	LabelW, BarX  int
	BarW, NoteX   int
	Rows          []chartRow
	Desc          string // the chart in words, for screen readers
}

type chartRow struct {
	Entity    string
	Y, TextY  int
	BarY      int
	BarH      int
	Available int64
	Segments  []segment
	Note      string
}

type segment struct {
	Class string
	X, W  float64
	N     int64
	Title string
}

func writeHTML(files *outFiles, sum *Summary) error {
	t, err := page()
	if err != nil {
		return fmt.Errorf("write %s: %w", ReportHTML, err)
	}
	d := pageData{Summary: sum, Chart: outcomeChart(sum.Entities)}
	d.Pending = sum.Totals.Available - sum.Totals.Migrated - sum.Totals.Failed - sum.Totals.Skipped
	d.Files = []fileLink{
		{Name: MigratedCSV, About: "every migrated record and the Intercom object it became", Rows: sum.Rows[MigratedCSV], HasRows: true},
		{Name: FailedCSV, About: "every failed record, with why", Rows: sum.Rows[FailedCSV], HasRows: true},
		{Name: SkippedCSV, About: "every skipped record, with why", Rows: sum.Rows[SkippedCSV], HasRows: true},
		{Name: SummaryJSON, About: "this page's numbers, for scripts"},
	}
	if v := sum.Verify; v != nil {
		d.MoreMatches = v.Mismatches - int64(len(v.MismatchRows))
	}
	for _, g := range sum.Failures.Groups {
		d.MaxFailures = max(d.MaxFailures, g.Records)
	}
	for _, g := range sum.Skips.Groups {
		d.MaxSkips = max(d.MaxSkips, g.Records)
	}
	of, err := files.create(ReportHTML)
	if err != nil {
		return err
	}
	if err := t.Execute(of, d); err != nil {
		return fmt.Errorf("write %s: %w", ReportHTML, err)
	}
	return nil
}

// outcomeChart lays out one stacked bar per entity: migrated, failed,
// skipped and not yet loaded, as shares of what is available, so that
// entities of very different sizes read alike.
func outcomeChart(entities []stage.EntityCounts) chart {
	c := chart{LabelW: chartLabelW, BarX: chartLabelW, BarW: chartBarW, NoteX: chartLabelW + chartBarW + 12}
	c.Width = chartLabelW + chartBarW + chartNoteW
	var desc []string
	for i, e := range entities {
		pending := max(e.Available-e.Migrated-e.Failed-e.Skipped, 0)
		r := chartRow{Entity: e.Entity, Y: i * chartRowH, BarH: chartBarH, Available: e.Available}
		r.BarY = r.Y + (chartRowH-chartBarH)/2
		r.TextY = r.Y + chartRowH/2 + 5
		counts := []struct {
			class string
			n     int64
		}{{segMigrated, e.Migrated}, {segFailed, e.Failed}, {segSkipped, e.Skipped}, {segPending, pending}}
		total := e.Migrated + e.Failed + e.Skipped + pending
		if total > 0 {
			widths := make([]float64, len(counts))
			widest := 0
			for j, k := range counts {
				widths[j] = float64(chartBarW) * float64(k.n) / float64(total)
				if widths[j] > widths[widest] {
					widest = j
				}
			}
			// A sliver too thin to see is widened; the widest pays.
			for j, k := range counts {
				if k.n > 0 && widths[j] < chartMinSeg {
					widths[widest] -= chartMinSeg - widths[j]
					widths[j] = chartMinSeg
				}
			}
			x := float64(chartLabelW)
			for j, k := range counts {
				if k.n == 0 {
					continue
				}
				r.Segments = append(r.Segments, segment{Class: k.class, X: round2(x), W: round2(widths[j]), N: k.n,
					Title: fmt.Sprintf("%s: %s %s of %s (%s)", e.Entity, thousands(k.n), segmentName(k.class), thousands(total), percent(k.n, total))})
				x += widths[j]
			}
			r.Note = percent(e.Migrated, total) + " migrated"
		} else {
			r.Note = "none available"
		}
		c.Rows = append(c.Rows, r)
		desc = append(desc, fmt.Sprintf("%s: %d available, %d migrated, %d failed, %d skipped", e.Entity, e.Available, e.Migrated, e.Failed, e.Skipped))
	}
	c.Height = max(len(entities), 1) * chartRowH
	c.Desc = strings.Join(desc, "; ") + "."
	return c
}

// segmentName is how the chart names a segment's records.
func segmentName(class string) string {
	if class == segPending {
		return "not yet loaded"
	}
	return class
}

func round2(f float64) float64 { return math.Round(f*100) / 100 }

// thousands writes n with thousands separators: 1,234,567.
func thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// percent is n as a share of total, to a tenth of a percent, never rounded
// up to 100% or down to 0% when it is not quite that.
func percent(n, total int64) string {
	if total == 0 {
		return "–"
	}
	p := 100 * float64(n) / float64(total)
	switch {
	case n > 0 && p < 0.1:
		return "<0.1%"
	case n < total && p > 99.9:
		return ">99.9%"
	}
	return strconv.FormatFloat(p, 'f', 1, 64) + "%"
}

// shellWord quotes s for a POSIX shell when it needs it, so that a
// command the page suggests can be pasted as it is.
func shellWord(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_./@%+=:,-") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// when writes a time for people, in UTC.
func when(t time.Time) string {
	if t.IsZero() {
		return "–"
	}
	return t.UTC().Format("2006-01-02 15:04:05 UTC")
}
