package transform

import (
	"context"
	"fmt"
	"log/slog"
	"strings"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"
)

// The sandbox. ferry gives modules wazero's WASI with no preopened
// directories, no environment, no arguments and no sockets, and overrides
// the functions through which a module could try to reach any of them, so
// that an attempt stops the batch at once with a reason that says what the
// module tried ("tried to open a file: /etc/passwd"), rather than being an
// errno the module may swallow and a record that quietly comes out wrong:
//
//   - path_* (open, stat, create, link, rename, unlink, ...): there is no
//     filesystem, and a module that reaches for one is broken or hostile;
//   - sock_*: there is no network (Go's net package on wasip1 dials an
//     in-process fake and never gets this far; a Go module that resolves a
//     host name reads /etc/hosts, and stops at path_open);
//   - environ_* and args_*: empty while a module starts (language runtimes
//     read them unconditionally at start-up), a violation during a batch;
//   - fd_write: stdout and stderr are bounded per call (Options.OutputLimit);
//     past the bound the batch stops. stdout is counted and discarded,
//     stderr kept (up to maxStderr) for the log and the failure reason.
//
// Clocks and random_get are wazero's defaults: a fake clock and a
// deterministic source, so that a module's output depends only on its input.

// WASI errno values the overrides return.
const (
	errnoSuccess = 0
	errnoBadf    = 8
	errnoFault   = 21
)

// sandboxError is a module's attempt to leave the sandbox. A host function
// panics with it, which wazero turns into the call's error at once, so the
// module runs not one instruction more.
type sandboxError struct{ what string }

func (e *sandboxError) Error() string { return e.what }

// callKey carries the *callState of the call in progress to the host
// functions, which wazero calls with the caller's context: instances are
// anonymous, and the context is what says whose call it is.
type callKey struct{}

// callState is what the host functions know of the call in progress.
type callState struct {
	logger *slog.Logger
	stderr *boundedBuffer
	// batch is true in ferry_transform, where reading the environment or
	// the arguments is a violation.
	batch  bool
	limit  int
	stdout int // bytes written to stdout during the call
}

func stateOf(ctx context.Context) *callState {
	st, _ := ctx.Value(callKey{}).(*callState)
	return st
}

// violate stops the call with a sandbox violation.
func violate(format string, args ...any) {
	panic(&sandboxError{what: fmt.Sprintf(format, args...)})
}

// instantiateWASI instantiates wasi_snapshot_preview1: wazero's functions,
// with the sandbox's overrides.
func instantiateWASI(ctx context.Context, r wazero.Runtime) error {
	b := r.NewHostModuleBuilder(wasi_snapshot_preview1.ModuleName)
	wasi_snapshot_preview1.NewFunctionExporter().ExportFunctions(b)
	def := func(name string, fn api.GoModuleFunc, params ...api.ValueType) {
		b.NewFunctionBuilder().WithGoModuleFunction(fn, params, []api.ValueType{i32}).Export(name)
	}
	def("fd_write", fdWrite, i32, i32, i32, i32)

	const fs = "transforms have no filesystem"
	path := func(name, what string, ptrAt int, params ...api.ValueType) {
		def(name, func(_ context.Context, mod api.Module, stack []uint64) {
			violate("tried to %s: %s (%s)", what, readPath(mod, stack[ptrAt], stack[ptrAt+1]), fs)
		}, params...)
	}
	path("path_open", "open a file", 2, i32, i32, i32, i32, i32, i64, i64, i32, i32)
	path("path_create_directory", "create a directory", 1, i32, i32, i32)
	path("path_filestat_get", "read a file's metadata", 2, i32, i32, i32, i32, i32)
	path("path_filestat_set_times", "change a file's times", 2, i32, i32, i32, i32, i64, i64, i32)
	path("path_link", "link a file", 2, i32, i32, i32, i32, i32, i32, i32)
	path("path_readlink", "read a link", 1, i32, i32, i32, i32, i32, i32)
	path("path_remove_directory", "remove a directory", 1, i32, i32, i32)
	path("path_rename", "rename a file", 1, i32, i32, i32, i32, i32, i32)
	path("path_symlink", "create a link", 3, i32, i32, i32, i32, i32)
	path("path_unlink_file", "delete a file", 1, i32, i32, i32)

	sock := func(name string, params ...api.ValueType) {
		def(name, func(context.Context, api.Module, []uint64) {
			violate("tried to use the network (%s on a socket; transforms have no network)", name)
		}, params...)
	}
	sock("sock_accept", i32, i32, i32)
	sock("sock_recv", i32, i32, i32, i32, i32, i32)
	sock("sock_send", i32, i32, i32, i32, i32)
	sock("sock_shutdown", i32, i32)

	// Sizes of nothing while the module starts; a violation in a batch.
	sizes := func(name, what string) {
		def(name, func(ctx context.Context, mod api.Module, stack []uint64) {
			if st := stateOf(ctx); st == nil || st.batch {
				violate("tried to read %s (%s; transforms have none)", what, name)
			}
			if !mod.Memory().WriteUint32Le(api.DecodeU32(stack[0]), 0) || !mod.Memory().WriteUint32Le(api.DecodeU32(stack[1]), 0) {
				stack[0] = errnoFault
				return
			}
			stack[0] = errnoSuccess
		}, i32, i32)
	}
	get := func(name, what string) {
		def(name, func(ctx context.Context, _ api.Module, stack []uint64) {
			if st := stateOf(ctx); st == nil || st.batch {
				violate("tried to read %s (%s; transforms have none)", what, name)
			}
			stack[0] = errnoSuccess
		}, i32, i32)
	}
	sizes("environ_sizes_get", "the environment")
	get("environ_get", "the environment")
	sizes("args_sizes_get", "its arguments")
	get("args_get", "its arguments")

	if _, err := b.Instantiate(ctx); err != nil {
		return fmt.Errorf("instantiate %s: %w", wasi_snapshot_preview1.ModuleName, err)
	}
	return nil
}

// readPath reads a path a module passed, for a violation's message; with no
// preopened directory, a path is relative to the root.
func readPath(mod api.Module, ptr, size uint64) string {
	const maxPath = 256
	n := min(api.DecodeU32(size), maxPath)
	b, ok := mod.Memory().Read(api.DecodeU32(ptr), n)
	if !ok {
		return "(a path out of its memory)"
	}
	p := strings.ToValidUTF8(string(b), "\uFFFD")
	if api.DecodeU32(size) > maxPath {
		p += "…"
	}
	if !strings.HasPrefix(p, "/") {
		p = "/" + p
	}
	return p
}

// fdWrite is fd_write(fd, iovs, iovs_len, result.nwritten) for stdout and
// stderr, the only descriptors a module has to write to.
func fdWrite(ctx context.Context, mod api.Module, stack []uint64) {
	fd := api.DecodeU32(stack[0])
	iovs, count, result := api.DecodeU32(stack[1]), api.DecodeU32(stack[2]), api.DecodeU32(stack[3])
	if fd != 1 && fd != 2 {
		stack[0] = errnoBadf
		return
	}
	st := stateOf(ctx)
	mem := mod.Memory()
	var written uint32
	for i := range count {
		ptr, ok1 := mem.ReadUint32Le(iovs + 8*i)
		size, ok2 := mem.ReadUint32Le(iovs + 8*i + 4)
		data, ok3 := mem.Read(ptr, size)
		if !ok1 || !ok2 || !ok3 {
			stack[0] = errnoFault
			return
		}
		if st != nil {
			st.write(fd, data)
		}
		written += size
	}
	if !mem.WriteUint32Le(result, written) {
		stack[0] = errnoFault
		return
	}
	stack[0] = errnoSuccess
}

// write takes what a module wrote to stdout (fd 1) or stderr (fd 2), and
// stops the call once either is past the limit.
func (st *callState) write(fd uint32, data []byte) {
	if fd == 1 {
		st.stdout += len(data)
		if st.stdout > st.limit {
			violate("wrote more than %d bytes to stdout", st.limit)
		}
		return
	}
	st.stderr.Write(data)
	if st.stderr.Len()+st.stderr.dropped > st.limit {
		violate("wrote more than %d bytes to stderr", st.limit)
	}
}
