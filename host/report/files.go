package report

import (
	"bufio"
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// outFiles are a report's files while they are written: temporary files in
// the output folder, renamed into place one after the other once all are
// complete, so that no file is ever half written (a report that fails while
// reading or writing leaves the previous one as it was) and no one else can
// read them at any moment: they hold customers' data (mode 0600).
type outFiles struct {
	dir   string
	files []*outFile
}

type outFile struct {
	name string // its name in the folder
	f    *os.File
	bw   *bufio.Writer
}

func (f *outFile) Write(p []byte) (int, error) { return f.bw.Write(p) }

// newOutFiles makes the output folder (0700) when it does not exist.
func newOutFiles(dir string) (*outFiles, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("make the report folder: %w", err)
	}
	return &outFiles{dir: dir}, nil
}

// create starts the file name.
func (o *outFiles) create(name string) (*outFile, error) {
	// CreateTemp makes the file 0600, whatever the umask.
	f, err := os.CreateTemp(o.dir, "."+name+".*")
	if err != nil {
		return nil, fmt.Errorf("write %s: %w", name, err)
	}
	of := &outFile{name: name, f: f, bw: bufio.NewWriterSize(f, 64<<10)}
	o.files = append(o.files, of)
	return of, nil
}

// commit completes every file and moves them into place, in the order they
// were created.
func (o *outFiles) commit() error {
	for _, of := range o.files {
		if err := of.bw.Flush(); err != nil {
			return fmt.Errorf("write %s: %w", of.name, err)
		}
		if err := of.f.Sync(); err != nil {
			return fmt.Errorf("write %s: %w", of.name, err)
		}
		if err := of.f.Close(); err != nil {
			return fmt.Errorf("write %s: %w", of.name, err)
		}
	}
	for _, of := range o.files {
		if err := os.Rename(of.f.Name(), filepath.Join(o.dir, of.name)); err != nil {
			return fmt.Errorf("write %s: %w", of.name, err)
		}
	}
	o.files = nil
	return nil
}

// abort removes the files not yet moved into place.
func (o *outFiles) abort() {
	for _, of := range o.files {
		of.f.Close()
		// Best effort: the failure that led here is the error to report.
		os.Remove(of.f.Name())
	}
	o.files = nil
}

// csvFile is one of the ledger's CSV files.
type csvFile struct {
	of   *outFile
	cw   *csv.Writer
	rows int64
}

func newCSVFile(of *outFile, header []string) (*csvFile, error) {
	c := &csvFile{of: of, cw: csv.NewWriter(of)}
	if err := c.cw.Write(header); err != nil {
		return nil, fmt.Errorf("write %s: %w", of.name, err)
	}
	return c, nil
}

func (c *csvFile) write(rec []string) error {
	for i, v := range rec {
		rec[i] = cellSafe(v)
	}
	if err := c.cw.Write(rec); err != nil {
		return fmt.Errorf("write %s: %w", c.of.name, err)
	}
	c.rows++
	return nil
}

func (c *csvFile) flush() error {
	c.cw.Flush()
	if err := c.cw.Error(); err != nil {
		return fmt.Errorf("write %s: %w", c.of.name, err)
	}
	return nil
}

// cellSafe keeps a spreadsheet from running a cell as a formula: the
// records' ids and reasons come from the source, a transform or Intercom,
// and a cell that begins with = + - @ (or a tab or carriage return) would
// run when the file is opened in Excel or Sheets. Such a cell gets a
// leading apostrophe, which spreadsheets hide, unless it is a number
// (-12 stays -12).
func cellSafe(v string) string {
	if v == "" || !strings.ContainsRune("=+-@\t\r", rune(v[0])) {
		return v
	}
	if _, err := strconv.ParseFloat(v, 64); err == nil {
		return v
	}
	return "'" + v
}
