package columnar

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"unsafe"
)

// The tests in this file keep docs/transform-abi.md, the ABI's
// specification, true to this package: the layouts its tables give, the
// constants it states, and the bytes of its worked example.

const abiDocPath = "../../../docs/transform-abi.md"

// abiDoc is the specification, cut into sections by heading and fenced
// blocks by info string.
type abiDoc struct {
	sections map[string]string   // heading text, without #: the text up to the next heading
	blocks   map[string][]string // info string: the blocks that have it
}

func readABIDoc(t *testing.T) *abiDoc {
	t.Helper()
	data, err := os.ReadFile(abiDocPath)
	if err != nil {
		t.Fatal(err)
	}
	d := &abiDoc{sections: map[string]string{}, blocks: map[string][]string{}}
	heading, info := "", ""
	var block *strings.Builder
	for _, line := range strings.Split(string(data), "\n") {
		switch {
		case block != nil && strings.TrimSpace(line) == "```":
			d.blocks[info] = append(d.blocks[info], block.String())
			block = nil
		case block != nil:
			block.WriteString(line + "\n")
		case strings.HasPrefix(line, "```"):
			info, block = strings.TrimSpace(strings.TrimPrefix(line, "```")), &strings.Builder{}
		case strings.HasPrefix(line, "#"):
			heading = strings.TrimSpace(strings.TrimLeft(line, "#"))
		default:
			d.sections[heading] += line + "\n"
		}
	}
	if block != nil {
		t.Fatalf("%s: the block ```%s is not closed", abiDocPath, info)
	}
	return d
}

// section returns the text under a heading.
func (d *abiDoc) section(t *testing.T, heading string) string {
	t.Helper()
	s, ok := d.sections[heading]
	if !ok {
		t.Fatalf("%s has no section %q", abiDocPath, heading)
	}
	return s
}

// table returns the rows of the first table under a heading, its header
// and separator left out, each cell trimmed.
func (d *abiDoc) table(t *testing.T, heading string) (header []string, rows [][]string) {
	t.Helper()
	cells := func(line string) []string {
		c := strings.Split(strings.Trim(strings.TrimSpace(line), "|"), "|")
		for i := range c {
			c[i] = strings.TrimSpace(c[i])
		}
		return c
	}
	var lines []string
	for _, line := range strings.Split(d.section(t, heading), "\n") {
		if strings.HasPrefix(line, "|") {
			lines = append(lines, line)
		} else if len(lines) > 0 {
			break
		}
	}
	if len(lines) < 3 {
		t.Fatalf("%s: section %q has no table", abiDocPath, heading)
	}
	for _, line := range lines[2:] {
		rows = append(rows, cells(line))
	}
	return cells(lines[0]), rows
}

// block returns the one fenced block with the info string.
func (d *abiDoc) block(t *testing.T, info string) string {
	t.Helper()
	if n := len(d.blocks[info]); n != 1 {
		t.Fatalf("%s has %d blocks ```%s, want 1", abiDocPath, n, info)
	}
	return d.blocks[info][0]
}

// hexBlock reads the bytes of an example block: lines of an offset, in
// decimal, then bytes in hex; # starts a comment. Each line's offset must be
// where its bytes are.
func hexBlock(t *testing.T, block string) []byte {
	t.Helper()
	var out []byte
	for _, line := range strings.Split(block, "\n") {
		line, _, _ = strings.Cut(line, "#")
		fields := strings.Fields(line)
		if len(fields) == 0 {
			continue
		}
		off, err := strconv.Atoi(fields[0])
		if err != nil || off != len(out) {
			t.Fatalf("%s: example line %q starts at %s, after %d bytes", abiDocPath, line, fields[0], len(out))
		}
		for _, f := range fields[1:] {
			b, err := strconv.ParseUint(f, 16, 8)
			if err != nil || len(f) != 2 {
				t.Fatalf("%s: example line %q: %q is not a byte in hex", abiDocPath, line, f)
			}
			out = append(out, byte(b))
		}
	}
	return out
}

// checkLayout checks a layout table of the document (offset, size, field,
// what) against what the code writes: buf holds a header or a descriptor
// at at, and want gives, by field name, the value the code put in each u32
// field; magic is the magic the header starts with, or "".
func checkLayout(t *testing.T, d *abiDoc, heading string, size int, buf []byte, at int, magic string, want map[string]uint32) {
	t.Helper()
	_, rows := d.table(t, heading)
	next := 0
	seen := map[string]bool{}
	for _, r := range rows {
		if len(r) < 3 {
			t.Errorf("%s: %s: row %q has no field", abiDocPath, heading, r)
			continue
		}
		off, err1 := strconv.Atoi(r[0])
		n, err2 := strconv.Atoi(r[1])
		name := r[2]
		if err1 != nil || err2 != nil {
			t.Errorf("%s: %s: field %s has offset %q and size %q", abiDocPath, heading, name, r[0], r[1])
			continue
		}
		if off != next {
			t.Errorf("%s: %s: field %s is at %d, and the field before ends at %d", abiDocPath, heading, name, off, next)
		}
		next = off + n
		if n != 4 {
			t.Errorf("%s: %s: field %s is %d bytes; every field is 4", abiDocPath, heading, name, n)
			continue
		}
		if name == "magic" {
			if magic == "" {
				t.Errorf("%s: %s has a magic; the code writes none", abiDocPath, heading)
			} else if got := string(buf[at+off : at+off+4]); got != magic {
				t.Errorf("%s: %s: magic at %d; the code writes %q there", abiDocPath, heading, off, got)
			}
			if what := strings.Join(r[3:], "|"); !strings.Contains(what, "`"+magic+"`") || !strings.Contains(what, fmt.Sprintf("`% x`", magic)) {
				t.Errorf("%s: %s: the magic is %q, want `%s` (bytes `% x`)", abiDocPath, heading, what, magic, magic)
			}
			seen[name] = true
			continue
		}
		w, ok := want[name]
		if !ok {
			t.Errorf("%s: %s: field %q is none the code writes (%v)", abiDocPath, heading, name, keys(want))
			continue
		}
		seen[name] = true
		if got := binary.LittleEndian.Uint32(buf[at+off:]); got != w {
			t.Errorf("%s: %s: field %s is at %d, where the code writes %d, not its %d", abiDocPath, heading, name, off, got, w)
		}
	}
	if next != size {
		t.Errorf("%s: %s: fields end at %d; the code's are %d bytes", abiDocPath, heading, next, size)
	}
	if magic != "" && !seen["magic"] {
		t.Errorf("%s: %s: no magic", abiDocPath, heading)
	}
	for name := range want {
		if !seen[name] {
			t.Errorf("%s: %s: field %s is not documented", abiDocPath, heading, name)
		}
	}
}

func keys(m map[string]uint32) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// docColumn returns a column of strings, null where a value is nil.
func docColumn(name string, t Type, vals ...*string) Column {
	b := NewBuilder(t)
	for _, v := range vals {
		if v == nil {
			b.AppendNull()
		} else {
			b.AppendString(*v)
		}
	}
	return b.Column(name)
}

func ptr(s string) *string { return &s }

// layoutBatch is a batch in which every header and descriptor field has a
// value, for checking the tables of the batch's layout.
func layoutBatch(t *testing.T) (*BatchPlan, []byte) {
	t.Helper()
	subject := docColumn("subject", String, ptr("a"), nil, ptr("ccc"))
	subject.Written = true
	tags := NewBuilder(StringList)
	tags.AppendList([]string{"x", "yy"})
	tags.AppendNull()
	tags.AppendList(nil)
	active := NewBuilder(Bool)
	for _, v := range []bool{true, false, true} {
		active.AppendBool(v)
	}
	size := NewBuilder(Int64)
	for _, v := range []int64{1, -2, 3} {
		size.AppendInt(v)
	}
	cols := []Column{docColumn("id", String, ptr("1"), ptr("2"), ptr("3")), subject, tags.Column("tags"), active.Column("active"), size.Column("size")}
	p, err := PlanBatch("tickets", cols, nil)
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, p.Size())
	p.Put(buf)
	return p, buf
}

func TestDocBatchLayout(t *testing.T) {
	d := readABIDoc(t)
	p, buf := layoutBatch(t)
	checkLayout(t, d, "Batch header", batchHeaderSize, buf, 0, BatchMagic, map[string]uint32{
		"rows":          uint32(p.rows),
		"columns":       uint32(len(p.cols)),
		"stream":        uint32(p.streamAt.off),
		"stream length": uint32(p.streamAt.len),
		"reserved":      0,
	})
	for i := range p.cols {
		c, s := &p.cols[i], &p.secs[i]
		flags := uint32(0)
		if c.Written {
			flags = 1
		}
		checkLayout(t, d, "Batch column descriptor", batchColumnSize, buf, batchHeaderSize+batchColumnSize*i, "", map[string]uint32{
			"name":            uint32(s.name.off),
			"name length":     uint32(s.name.len),
			"type":            uint32(c.Type),
			"flags":           flags,
			"validity":        uint32(s.valid.off),
			"validity length": uint32(s.valid.len),
			"buffer 1":        uint32(s.b1.off),
			"buffer 1 length": uint32(s.b1.len),
			"buffer 2":        uint32(s.b2.off),
			"buffer 2 length": uint32(s.b2.len),
			"buffer 3":        uint32(s.b3.off),
			"buffer 3 length": uint32(s.b3.len),
		})
	}
	mustSay(t, d, "Batch header", fmt.Sprintf("The header is %d bytes", batchHeaderSize))
	mustSay(t, d, "Batch column descriptor", fmt.Sprintf("%d bytes each", batchColumnSize))
	mustSay(t, d, "Batch column descriptor", fmt.Sprintf("%d + %d·*c*", batchHeaderSize, batchColumnSize))
	mustSay(t, d, "Sections and alignment", fmt.Sprintf("%d + %d × columns", batchHeaderSize, batchColumnSize))
	mustSay(t, d, "Sections and alignment", fmt.Sprintf("starts at a multiple of %d bytes", align))
	mustSay(t, d, "Sections and alignment", fmt.Sprintf("up to the next multiple of %d", align))
	mustSay(t, d, "Sections and alignment", fmt.Sprintf("aligned to %d bytes", align))
}

// mustSay checks that a section states something.
func mustSay(t *testing.T, d *abiDoc, heading, text string) {
	t.Helper()
	if !strings.Contains(d.section(t, heading), text) {
		t.Errorf("%s: section %q does not say %q", abiDocPath, heading, text)
	}
}

// offsetIn returns where b, a view of src, starts in it.
func offsetIn(t *testing.T, src []byte, b unsafe.Pointer) uint32 {
	t.Helper()
	off := uintptr(b) - uintptr(unsafe.Pointer(unsafe.SliceData(src)))
	if off > uintptr(len(src)) {
		t.Fatalf("a section is not a view of the reply")
	}
	return uint32(off)
}

func TestDocReplyLayout(t *testing.T) {
	d := readABIDoc(t)
	_, batch := layoutBatch(t)
	b, err := ReadBatch(batch)
	if err != nil {
		t.Fatal(err)
	}
	// subject (1) and tags (2) written, with set, validity and each buffer.
	b.Columns[2].Written = true
	var w ReplyWriter
	w.Reset([]int{1, 2}, []Type{String, StringList})
	w.Row(KeepChanged, "")
	w.Row(Drop, "spam")
	w.Row(Split, "")
	w.AddPiece(2, []byte(`{"id":"3-2"}`))
	w.AddRecord(0, "comments", []byte(`{"id":"c1"}`))
	w.Column(0).AppendString("new")
	w.Column(0).AppendUnset()
	w.Column(0).AppendUnset()
	w.Column(1).AppendList([]string{"p", "q"})
	w.Column(1).AppendNull()
	w.Column(1).AppendUnset()
	src := w.Bytes()
	r, err := ReadReply(src, b.Columns, b.Rows)
	if err != nil {
		t.Fatal(err)
	}
	off := func(b []byte) uint32 { return offsetIn(t, src, unsafe.Pointer(unsafe.SliceData(b))) }
	off32 := func(o []int32) uint32 { return offsetIn(t, src, unsafe.Pointer(unsafe.SliceData(o))) }
	checkLayout(t, d, "Reply header", replyHeaderSize, src, 0, ReplyMagic, map[string]uint32{
		"rows":           uint32(r.Rows),
		"columns":        uint32(len(r.Columns)),
		"outcomes":       offsetIn(t, src, unsafe.Pointer(unsafe.SliceData(r.Outcomes))),
		"reason offsets": off32(r.reasonOff),
		"reasons":        off(r.reasonData),
		"reasons length": uint32(len(r.reasonData)),
		"extras":         off(r.Extras),
		"extras length":  uint32(len(r.Extras)),
		"reserved":       0,
	})
	for k := range r.Columns {
		c := &r.Columns[k]
		want := map[string]uint32{
			"column":          uint32(c.Index),
			"set":             off(c.Set),
			"set length":      uint32(len(c.Set)),
			"validity":        off(c.Valid),
			"validity length": uint32(len(c.Valid)),
			"buffer 1":        off32(c.Offsets),
			"buffer 1 length": uint32(4 * len(c.Offsets)),
			"buffer 2":        off(c.Data),
			"buffer 2 length": uint32(len(c.Data)),
			"buffer 3":        0,
			"buffer 3 length": 0,
			"reserved":        0,
		}
		if c.Type == StringList {
			want["buffer 2"], want["buffer 2 length"] = off32(c.Elems), uint32(4*len(c.Elems))
			want["buffer 3"], want["buffer 3 length"] = off(c.Data), uint32(len(c.Data))
		}
		if len(c.Set) == 0 || len(c.Valid) == 0 {
			t.Fatalf("reply column %d lacks a set or a validity bitmap; the check needs both", k)
		}
		checkLayout(t, d, "Reply column descriptor", replyColumnSize, src, replyHeaderSize+replyColumnSize*k, "", want)
	}
	mustSay(t, d, "Reply header", fmt.Sprintf("The header is %d bytes", replyHeaderSize))
	mustSay(t, d, "Reply column descriptor", fmt.Sprintf("%d bytes each", replyColumnSize))
	mustSay(t, d, "Reply column descriptor", fmt.Sprintf("%d + %d·*k*", replyHeaderSize, replyColumnSize))
	mustSay(t, d, "The columnar reply", fmt.Sprintf("start at a multiple of %d bytes", align))
	mustSay(t, d, "A malformed reply", fmt.Sprintf("shorter than %d bytes or does not start with `%s`", replyHeaderSize, ReplyMagic))
}

func TestDocCodes(t *testing.T) {
	d := readABIDoc(t)
	_, rows := d.table(t, "Column types")
	types := map[Type]bool{}
	for _, r := range rows {
		code, err := strconv.Atoi(r[0])
		name := strings.Trim(r[1], "`")
		if err != nil || !Type(code).Valid() || Type(code).String() != name {
			t.Errorf("%s: type %s has code %s; the code's %s is %d", abiDocPath, name, r[0], name, typeCode(name))
		}
		types[Type(code)] = true
	}
	for ty := Type(0); ty < 256; ty++ {
		if ty.Valid() && !types[ty] {
			t.Errorf("%s: type %s (%d) is not documented", abiDocPath, ty, uint32(ty))
		}
	}
	_, rows = d.table(t, "Outcomes")
	outcomes := map[Outcome]bool{}
	for _, r := range rows {
		code, err := strconv.Atoi(r[0])
		name := strings.Trim(r[1], "`")
		if err != nil || code < 0 || code > 255 || !Outcome(code).Valid() || Outcome(code).String() != name {
			t.Errorf("%s: outcome %s is the byte %s; the code's is %d", abiDocPath, name, r[0], outcomeCode(name))
		}
		outcomes[Outcome(code)] = true
	}
	for o := range Outcome(255) {
		if o.Valid() && !outcomes[o] {
			t.Errorf("%s: outcome %s (%d) is not documented", abiDocPath, o, uint8(o))
		}
	}
	mustSay(t, d, "A malformed reply", fmt.Sprintf("outcome other than %d to %d", Keep, Split))
}

func typeCode(name string) int {
	for ty := Type(1); ty < 256; ty++ {
		if ty.Valid() && ty.String() == name {
			return int(ty)
		}
	}
	return -1
}

func outcomeCode(name string) int {
	for o := range Outcome(255) {
		if o.Valid() && o.String() == name {
			return int(o)
		}
	}
	return -1
}

// The example's reply: row 0 kept with a new subject, row 1 dropped.
const (
	docNewSubject = "[P1] Printer on fire"
	docReason     = "spam"
)

func TestDocExample(t *testing.T) {
	d := readABIDoc(t)
	text := d.section(t, "Example")
	// The input: the table's rows, the columns its header names, written
	// as the module's answer says.
	answer := regexp.MustCompile("answered `(\\{[^`]*\\})`").FindStringSubmatch(text)
	if answer == nil {
		t.Fatalf("%s: the example does not give the module's answer", abiDocPath)
	}
	var acc struct{ Read, Write []string }
	if err := json.Unmarshal([]byte(answer[1]), &acc); err != nil {
		t.Fatalf("%s: the example's answer: %v", abiDocPath, err)
	}
	header, rows := d.table(t, "Example")
	var cols []Column
	for k, name := range header[1:] {
		name = strings.Trim(name, "`")
		if name != acc.Read[k] {
			t.Fatalf("%s: the example's table has column %s where the answer reads %s", abiDocPath, name, acc.Read[k])
		}
		var vals []*string
		for _, r := range rows {
			vals = append(vals, ptr(strings.Trim(r[k+1], "`")))
		}
		c := docColumn(name, String, vals...)
		for _, wname := range acc.Write {
			c.Written = c.Written || wname == name
		}
		cols = append(cols, c)
	}
	if !strings.Contains(text, "A `tickets` batch") {
		t.Fatalf("%s: the example is not of tickets", abiDocPath)
	}
	p, err := PlanBatch("tickets", cols, nil)
	if err != nil {
		t.Fatal(err)
	}
	batch := make([]byte, p.Size())
	p.Put(batch)
	if got := hexBlock(t, d.block(t, "text columnar-batch-example")); !bytes.Equal(got, batch) {
		t.Errorf("%s: the example batch is not what PlanBatch and Put write: %s; they write:\n%s", abiDocPath, firstDiff(got, batch), dump(batch))
	}
	mustSay(t, d, "Example", fmt.Sprintf("It is %d bytes", len(batch)))

	b, err := ReadBatch(batch)
	if err != nil {
		t.Fatal(err)
	}
	written := []int{}
	for i := range b.Columns {
		if b.Columns[i].Written {
			written = append(written, i)
		}
	}
	if len(written) != 1 || b.Columns[written[0]].Name != "subject" || b.Rows != 2 {
		t.Fatalf("the example is no longer two rows with subject written")
	}
	var w ReplyWriter
	w.Reset(written, []Type{String})
	w.Row(KeepChanged, "")
	w.Row(Drop, docReason)
	w.Column(0).AppendString(docNewSubject)
	w.Column(0).AppendUnset()
	reply := w.Bytes()
	if got := hexBlock(t, d.block(t, "text columnar-reply-example")); !bytes.Equal(got, reply) {
		t.Errorf("%s: the example reply is not what ReplyWriter writes: %s; it writes:\n%s", abiDocPath, firstDiff(got, reply), dump(reply))
	}
	mustSay(t, d, "Example", fmt.Sprintf("reply is %d bytes", len(reply)))
	mustSay(t, d, "Example", "`"+docNewSubject+"`")
	mustSay(t, d, "Example", "as `"+docReason+"`")

	// And the host reads it as the document says.
	r, err := ReadReply(reply, b.Columns, b.Rows)
	if err != nil {
		t.Fatal(err)
	}
	if r.Outcomes[0] != KeepChanged || r.Outcomes[1] != Drop || r.Reason(1) != docReason {
		t.Errorf("the example reply reads as %v, reason %q", r.Outcomes, r.Reason(1))
	}
	if ch := r.Changes(0); len(ch) != 1 || ch[0].Name != "subject" || string(ch[0].Value) != strconv.Quote(docNewSubject) {
		t.Errorf("the example reply changes row 0 by %v", ch)
	}
	if r.Columns[0].IsSet(1) {
		t.Errorf("the example reply sets row 1")
	}
}

// firstDiff says where two byte strings first differ.
func firstDiff(got, want []byte) string {
	for i := range min(len(got), len(want)) {
		if got[i] != want[i] {
			return fmt.Sprintf("byte %d is %02x, want %02x", i, got[i], want[i])
		}
	}
	return fmt.Sprintf("%d bytes, want %d", len(got), len(want))
}

// dump writes b as the example blocks do, 16 bytes a line.
func dump(b []byte) string {
	var s strings.Builder
	for i := 0; i < len(b); i += 16 {
		fmt.Fprintf(&s, "%3d  % x\n", i, b[i:min(i+16, len(b))])
	}
	return s.String()
}
