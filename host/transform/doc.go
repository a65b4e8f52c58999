// Package transform runs customers' WASM transforms over batches of canonical
// records, in a wazero sandbox.
//
// A transform is a WASI reactor module that implements the ferry transform
// ABI (docs/transform-abi.md; sdk/transform is its Go implementation). A
// [Runtime] compiles modules once, optionally caching the machine code on
// disk; [Runtime.Load] checks a module's ABI and configures it;
// [Module.Apply] sends it one batch and returns one [Result] per record; a
// [Chain] applies several modules in order.
//
// The sandbox: the compiler engine; WASI without files, environment,
// arguments or network, with wazero's fake clocks and deterministic random
// source (a transform's output depends only on its input and config, so a
// rerun gives the same records); stdout discarded and stderr kept up to a
// bound for failure reasons and logs; a memory cap; a time limit per batch.
// A trap, an exit, a timeout or a malformed reply fails that batch's records
// with the reason, and the module is instantiated afresh for the next batch.
package transform
