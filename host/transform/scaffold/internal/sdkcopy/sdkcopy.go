// Package sdkcopy collects the Go sources of ferry's transform SDK that a
// scaffolded transform carries with it: what `go generate` copies into the
// scaffold package, and what its test compares that copy with.
package sdkcopy

import (
	"bufio"
	"bytes"
	"fmt"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// SDKDir is the SDK's folder in the repository, and so in the copy: a
// transform imports github.com/ferryhq/ferry/sdk/transform from it.
const SDKDir = "sdk/transform"

// GoVersionFile holds the go directive of ferry's go.mod, for the copy's
// go.mod: the SDK is built and tested with that version, no older one.
const GoVersionFile = "go.version"

// modulePath is ferry's module, which the copy keeps as its own.
const modulePath = "github.com/ferryhq/ferry"

// Collect returns the files of the copy, keyed by slash-separated path
// relative to the copy's root: every Go source of SDKDir and the packages
// under it, but tests and testdata, and GoVersionFile. root is ferry's
// repository. A source that imports anything but the standard library and
// the SDK itself is an error: the copy must build offline, alone.
func Collect(root string) (map[string][]byte, error) {
	files := map[string][]byte{}
	base := filepath.Join(root, filepath.FromSlash(SDKDir))
	err := filepath.WalkDir(base, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() {
			if p != base && (name == "testdata" || strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_")) {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			return nil
		}
		src, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		key := filepath.ToSlash(rel)
		if err := checkImports(key, src); err != nil {
			return err
		}
		files[key] = src
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("collect the transform SDK: %w", err)
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("collect the transform SDK: no Go sources in %s", base)
	}
	version, err := goVersion(filepath.Join(root, "go.mod"))
	if err != nil {
		return nil, err
	}
	files[GoVersionFile] = []byte(version + "\n")
	return files, nil
}

// checkImports refuses a source whose imports would not resolve in the copy.
func checkImports(name string, src []byte) error {
	f, err := parser.ParseFile(token.NewFileSet(), name, src, parser.ImportsOnly)
	if err != nil {
		return err
	}
	for _, imp := range f.Imports {
		p, err := strconv.Unquote(imp.Path.Value)
		if err != nil {
			return err
		}
		first, _, _ := strings.Cut(p, "/")
		switch {
		case p == modulePath+"/"+SDKDir || strings.HasPrefix(p, modulePath+"/"+SDKDir+"/"):
		case !strings.Contains(first, "."):
			// The standard library: no dot in the first element.
		default:
			return fmt.Errorf("%s imports %s: a scaffolded transform carries only the SDK and builds offline, so the SDK may import only the standard library and itself", name, p)
		}
	}
	return nil
}

// goVersion reads the go directive of a go.mod.
func goVersion(gomod string) (string, error) {
	data, err := os.ReadFile(gomod)
	if err != nil {
		return "", err
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		if v, ok := strings.CutPrefix(strings.TrimSpace(sc.Text()), "go "); ok {
			return strings.TrimSpace(v), nil
		}
	}
	return "", fmt.Errorf("%s has no go directive", gomod)
}
