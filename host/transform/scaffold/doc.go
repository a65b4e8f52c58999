// Package scaffold writes the folder of a new ferry transform: a Go module
// that builds into a WASI reactor module with
// GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared, and whose tests pass,
// as written, offline and outside ferry's repository. It is what
// `ferry transform new` runs.
//
// ferry's SDK is not a published module, so the folder carries a copy of it
// (ferry-sdk/, its own module github.com/ferryhq/ferry) and its go.mod
// replaces the SDK's import path with that folder: the transform imports
// github.com/ferryhq/ferry/sdk/transform by its real path, and a later move
// to a published SDK only drops the replace directive.
//
// The copy is embedded from _sdk/, which `go generate` refreshes from
// sdk/transform; the package's tests fail while it is stale.
package scaffold

//go:generate go run ./internal/gensdk
