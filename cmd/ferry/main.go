// Command ferry moves a help desk into Intercom. See `ferry --help`.
package main

import "os"

func main() { os.Exit(run(os.Args, os.Stdin, os.Stdout, os.Stderr)) }
