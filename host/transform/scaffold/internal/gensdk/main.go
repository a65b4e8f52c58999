// Command gensdk refreshes the scaffold package's copy of the transform SDK
// (_sdk/), which `ferry transform new` writes into each new transform. It is
// run by `go generate ./host/transform/scaffold` from the package's folder,
// after any change to sdk/transform; the package's test fails until then.
package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/ferryhq/ferry/host/transform/scaffold/internal/sdkcopy"
)

func main() {
	if err := run("../../..", "_sdk"); err != nil {
		fmt.Fprintln(os.Stderr, "gensdk:", err)
		os.Exit(1)
	}
}

// run replaces out with the SDK's files from the repository at root.
func run(root, out string) error {
	files, err := sdkcopy.Collect(root)
	if err != nil {
		return err
	}
	// Start afresh, so that a file the SDK no longer has goes too.
	if err := os.RemoveAll(out); err != nil {
		return err
	}
	for key, data := range files {
		p := filepath.Join(out, filepath.FromSlash(key))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			return err
		}
	}
	return nil
}
