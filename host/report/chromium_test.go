package report

import (
	"bytes"
	"context"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// requireChromiumEnv, when set (CI sets it), makes a missing Chromium fail
// the browser test rather than skip it.
const requireChromiumEnv = "FERRY_REQUIRE_CHROMIUM"

// screenshotEnv names a file to keep the browser test's screenshot in, to
// look at it.
const screenshotEnv = "FERRY_REPORT_SCREENSHOT"

// findChromium returns the Chromium to run, or skips the test.
func findChromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	msg := "no chromium on PATH: the report page is not checked in a browser (apt-get install chromium)"
	if os.Getenv(requireChromiumEnv) != "" {
		t.Fatalf("%s, and %s is set", msg, requireChromiumEnv)
	}
	t.Skip(msg)
	return ""
}

// runChromium runs headless Chromium on a page with a profile of its own
// and nothing that reaches the network, and returns what it printed.
func runChromium(ctx context.Context, t *testing.T, bin string, args ...string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	base := []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
		"--hide-scrollbars", "--force-device-scale-factor=1", "--user-data-dir=" + t.TempDir()}
	cmd := exec.CommandContext(ctx, bin, append(base, args...)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return stdout.Bytes()
}

// TestReportInChromium opens report.html in headless Chromium, from the
// file as a person would, and checks what the browser shows: the numbers
// of the table, each entity's bar in its proportions, a failure's reason,
// a mismatch, and the hostile reason as text (its script never ran).
func TestReportInChromium(t *testing.T) {
	bin := findChromium(t)
	f := newFixture(t, true)
	sum := writeReport(t, f)
	url := "file://" + filepath.Join(sum.Out, ReportHTML)

	dom := string(runChromium(t.Context(), t, bin, "--dump-dom", url))
	if !strings.Contains(dom, `id="summary"`) {
		t.Fatalf("chromium shows no report:\n%s", dom)
	}
	// The hostile reason's script did not run: the title is the page's.
	if m := regexp.MustCompile(`<title>([^<]*)</title>`).FindStringSubmatch(dom); m == nil || !strings.HasPrefix(m[1], "Migration report") {
		t.Errorf("the page's title is %q: a script ran", m)
	}
	for _, tt := range []struct{ tag, id, want string }{
		{"table", "summary", "tickets 15 9 4 2"},
		{"table", "summary", "Total 64 44 12 8"},
		{"table", "failure-reasons", `create contact: 400 Bad Request: parameter_invalid: "…" is not a valid email`},
		{"table", "failure-reasons", hostileReason},
		{"table", "mismatches", "tickets t5 ic-t5 parts 2 1 Intercom holds 1 part of 2"},
		{"table", "run-changes", "tickets 1 1 0 0"},
	} {
		if text := pageText(element(t, dom, tt.tag, tt.id)); !strings.Contains(text, tt.want) {
			t.Errorf("the browser does not show %q in #%s:\n%s", tt.want, tt.id, text)
		}
	}
	// Each segment of the tickets' bar is its share of what is available.
	widths := map[string]float64{}
	for _, m := range regexp.MustCompile(`<rect class="seg (\w+)" data-entity="tickets"[^>]*\bwidth="([0-9.]+)"`).FindAllStringSubmatch(dom, -1) {
		w, err := strconv.ParseFloat(m[2], 64)
		if err != nil {
			t.Fatal(err)
		}
		widths[m[1]] = w
	}
	for outcome, n := range map[string]float64{segMigrated: 9, segFailed: 4, segSkipped: 2} {
		if want := chartBarW * n / 15; widths[outcome] < want-0.05 || widths[outcome] > want+0.05 {
			t.Errorf("the tickets' %s bar is %v wide, want %v (%v of 15)", outcome, widths[outcome], want, n)
		}
	}

	// What a person sees: the page drawn, with the chart's colours in it.
	shot := filepath.Join(t.TempDir(), "report.png")
	runChromium(t.Context(), t, bin, "--screenshot="+shot, "--window-size=1280,3400", url)
	if keep := os.Getenv(screenshotEnv); keep != "" {
		b, err := os.ReadFile(shot)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(keep, b, 0o600); err != nil {
			t.Fatal(err)
		}
		t.Logf("the screenshot is in %s", keep)
	}
	img := decodePNG(t, shot)
	for name, c := range map[string][3]int{"migrated": {0x1f, 0x8a, 0x5b}, "failed": {0xd6, 0x45, 0x45}} {
		if n := countColor(img, c); n < 500 {
			t.Errorf("the screenshot has %d pixels of the %s colour: the chart is not drawn", n, name)
		}
	}
}

func decodePNG(t *testing.T, path string) image.Image {
	t.Helper()
	fh, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	img, err := png.Decode(fh)
	if err != nil {
		t.Fatalf("the screenshot: %v", err)
	}
	return img
}

// countColor counts the pixels within a few levels of c (a browser may
// manage colours slightly).
func countColor(img image.Image, c [3]int) int {
	near := func(a uint32, b int) bool { d := int(a>>8) - b; return d >= -6 && d <= 6 }
	n := 0
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			if near(r, c[0]) && near(g, c[1]) && near(bl, c[2]) {
				n++
			}
		}
	}
	return n
}
