// Command misbehave is a transform for the host's tests, written against the
// ABI directly (not sdk/transform), which also shows the ABI needs no SDK.
// The batch's stream picks a misbehaviour; for any other stream, each record's
// "do" field picks its result: "drop", "split", "error" or (absent) keep.
// Batches of the stream "tickets" behave.
package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"time"
	"unsafe"
)

func main() {}

// startEnv and startArgs are what the module was started with: read while
// it initializes, as language runtimes do.
var startEnv, startArgs = os.Environ(), os.Args

// The WASI functions a hostile module would call directly, past what Go's
// os and net packages do with them.
//
//go:wasmimport wasi_snapshot_preview1 sock_accept
func sockAccept(fd, flags int32, result unsafe.Pointer) int32

//go:wasmimport wasi_snapshot_preview1 environ_sizes_get
func environSizesGet(count, size unsafe.Pointer) int32

//go:wasmimport wasi_snapshot_preview1 args_sizes_get
func argsSizesGet(count, size unsafe.Pointer) int32

var state struct {
	lent   map[uint32][]byte
	config json.RawMessage
	hog    [][]byte
	// loopColumns makes ferry_columns loop forever.
	loopColumns bool
}

// columns reads whole records of every stream, or never answers.
//
//go:wasmexport ferry_columns
func columns(ptr, size uint32) uint64 {
	for state.loopColumns {
	}
	return reply([]byte(`{"whole":true}`))
}

//go:wasmimport ferry log
func hostLog(level int32, ptr unsafe.Pointer, size uint32)

func logLine(level int32, msg string) {
	hostLog(level, unsafe.Pointer(unsafe.StringData(msg)), uint32(len(msg)))
}

//go:wasmexport ferry_abi_version
func abiVersion() int32 { return 1 }

//go:wasmexport ferry_formats
func formats() int32 { return 1 }

//go:wasmexport ferry_alloc
func alloc(size uint32) uint32 { return lend(make([]byte, size)) }

//go:wasmexport ferry_free
func free(ptr, size uint32) { delete(state.lent, ptr) }

//go:wasmexport ferry_configure
func configure(ptr, size uint32) uint64 {
	config := append(json.RawMessage(nil), state.lent[ptr][:size]...)
	var c struct {
		Fail        string `json:"fail"`
		LoopColumns bool   `json:"loop_columns"`
	}
	_ = json.Unmarshal(config, &c)
	state.loopColumns = c.LoopColumns
	if c.Fail != "" {
		return reply([]byte(c.Fail))
	}
	state.config = config
	logLine(0, "configured")
	return 0
}

type result struct {
	Keep  map[string]any   `json:"keep,omitempty"`
	Drop  *string          `json:"drop,omitempty"`
	Split []map[string]any `json:"split,omitempty"`
	Error *string          `json:"error,omitempty"`
}

//go:wasmexport ferry_transform
func transform(format, ptr, size uint32) uint64 {
	var batch struct {
		Stream  string           `json:"stream"`
		Records []map[string]any `json:"records"`
	}
	if err := json.Unmarshal(state.lent[ptr][:size], &batch); err != nil {
		panic(err)
	}
	results := make([]result, 0, len(batch.Records))
	switch batch.Stream {
	case "loop":
		for {
		}
	case "panic":
		panic("boom")
	case "oom":
		for {
			state.hog = append(state.hog, make([]byte, 1<<20))
		}
	case "garbage":
		return reply([]byte("this is not JSON"))
	case "nothing":
		return 0
	case "oob":
		return uint64(0xfff00000)<<32 | 64
	case "batcherror":
		return reply([]byte(`{"error":"cannot read this batch"}`))
	case "count":
		batch.Records = batch.Records[1:]
	case "log":
		logLine(-4, "a debug line")
		logLine(0, "an info line")
		logLine(4, "a warning")
		logLine(8, "an error")
	case "stderr":
		fmt.Fprintln(os.Stderr, "something odd")
	case "file":
		if f, err := os.Open("/etc/passwd"); err == nil {
			f.Close()
		}
	case "writefile":
		_ = os.WriteFile("/tmp/ferry-pwned", []byte("x"), 0o644)
	case "resolve":
		_, _ = net.LookupHost("example.com")
	case "socket":
		var fd int32
		sockAccept(3, 0, unsafe.Pointer(&fd))
	case "env":
		var n, size uint32
		environSizesGet(unsafe.Pointer(&n), unsafe.Pointer(&size))
	case "args":
		var n, size uint32
		argsSizesGet(unsafe.Pointer(&n), unsafe.Pointer(&size))
	case "stdout":
		line := strings.Repeat("spam ", 1000) + "\n"
		for {
			fmt.Print(line)
		}
	case "stderrflood":
		line := strings.Repeat("spam ", 1000) + "\n"
		for {
			fmt.Fprint(os.Stderr, line)
		}
	case "config":
		for _, r := range batch.Records {
			r["config"] = state.config
		}
	// What a module sees of the host, each in the record: the environment
	// and arguments it started with, a TCP connection to the record's
	// addr, its stdin, the clock.
	case "initenv":
		for _, r := range batch.Records {
			r["env"], r["args"] = strings.Join(startEnv, "\n"), strings.Join(startArgs, " ")
		}
	case "dial":
		for _, r := range batch.Records {
			addr, _ := r["addr"].(string)
			c, err := net.Dial("tcp", addr)
			if err != nil {
				r["dial"] = err.Error()
				continue
			}
			_, err = c.Write([]byte("hello from the sandbox\n"))
			c.Close()
			r["dial"] = fmt.Sprintf("connected, write: %v", err)
		}
	case "stdin":
		b, err := io.ReadAll(os.Stdin)
		for _, r := range batch.Records {
			r["stdin"], r["stdin_err"] = string(b), fmt.Sprint(err)
		}
	case "clock":
		for _, r := range batch.Records {
			r["now"] = time.Now().Unix()
		}
	}
	for _, r := range batch.Records {
		id, _ := r["id"].(string)
		switch r["do"] {
		case "drop":
			reason := "dropped " + id
			results = append(results, result{Drop: &reason})
		case "split":
			// The halves do what "a" and "b" say in the next module.
			a, b := clone(r), clone(r)
			a["id"], b["id"] = id+"-a", id+"-b"
			a["do"], b["do"] = r["a"], r["b"]
			results = append(results, result{Split: []map[string]any{a, b}})
		case "error":
			reason := "failed " + id
			results = append(results, result{Error: &reason})
		default:
			results = append(results, result{Keep: r})
		}
	}
	out, err := json.Marshal(map[string]any{"results": results})
	if err != nil {
		panic(err)
	}
	return reply(out)
}

func clone(r map[string]any) map[string]any {
	c := make(map[string]any, len(r))
	for k, v := range r {
		c[k] = v
	}
	return c
}

func lend(b []byte) uint32 {
	if len(b) == 0 {
		return 0
	}
	if state.lent == nil {
		state.lent = make(map[uint32][]byte)
	}
	ptr := uint32(uintptr(unsafe.Pointer(unsafe.SliceData(b))))
	state.lent[ptr] = b
	return ptr
}

func reply(b []byte) uint64 { return uint64(lend(b))<<32 | uint64(len(b)) }
