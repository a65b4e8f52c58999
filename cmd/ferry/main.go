// Command ferry moves a help desk into Intercom. See `ferry --help`.
package main

import "os"

func main() {
	// A workspace holds a customer's help desk: every file and folder
	// ferry (and the DuckDB in it) creates is its owner's only.
	ownerOnlyFiles()
	stopProfile := profileCPU(os.Getenv("FERRY_CPUPROFILE"))
	code := run(os.Args, os.Stdin, os.Stdout, os.Stderr)
	stopProfile()
	os.Exit(code)
}
