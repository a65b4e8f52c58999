// Command wasmexec runs a wasip1 program, such as a test binary built with
// GOOS=wasip1 GOARCH=wasm, in wazero, the runtime ferry runs transforms in,
// with ferry's host module: what `go test -exec` needs to measure the SDK's
// cost inside a module.
//
//	go build -o /tmp/wasmexec ./bench/wasmexec
//	GOOS=wasip1 GOARCH=wasm go test -exec /tmp/wasmexec -run '^$' -bench InWasm ./sdk/transform/
//
// The program gets the arguments, the environment and the filesystem (for
// a test's testdata), which a transform never does.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"
	"github.com/tetratelabs/wazero/sys"
)

func main() {
	if err := run(context.Background(), os.Args[1:]); err != nil {
		var exit *sys.ExitError
		if errors.As(err, &exit) {
			os.Exit(int(exit.ExitCode()))
		}
		fmt.Fprintln(os.Stderr, "wasmexec:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return errors.New("usage: wasmexec program.wasm [arguments]")
	}
	wasm, err := os.ReadFile(args[0])
	if err != nil {
		return err
	}
	r := wazero.NewRuntime(ctx)
	defer r.Close(ctx)
	wasi_snapshot_preview1.MustInstantiate(ctx, r)
	// The SDK imports ferry's log; a program run here logs nowhere.
	if _, err := r.NewHostModuleBuilder("ferry").NewFunctionBuilder().
		WithFunc(func(level, ptr, size uint32) {}).Export("log").Instantiate(ctx); err != nil {
		return fmt.Errorf("ferry's host module: %w", err)
	}
	cfg := wazero.NewModuleConfig().WithArgs(args...).
		WithStdout(os.Stdout).WithStderr(os.Stderr).WithStdin(os.Stdin).
		WithSysWalltime().WithSysNanotime().
		WithFSConfig(wazero.NewFSConfig().WithDirMount("/", "/"))
	for _, kv := range os.Environ() {
		if k, v, ok := strings.Cut(kv, "="); ok {
			cfg = cfg.WithEnv(k, v)
		}
	}
	_, err = r.InstantiateWithConfig(ctx, wasm, cfg)
	return err
}
