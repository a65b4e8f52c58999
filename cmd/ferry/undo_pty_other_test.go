//go:build !linux

package main

import (
	"errors"
	"os"
)

// openPTY is Linux's only, in these tests.
func openPTY() (ptm, pts *os.File, err error) {
	return nil, nil, errors.New("pseudo-terminals are opened on Linux only")
}
