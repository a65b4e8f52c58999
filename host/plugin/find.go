package plugin

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Prefix starts the name of every source plugin executable.
const Prefix = "ferry-source-"

// Found is a plugin executable found on disk.
type Found struct {
	Name string // the source's name: zendesk for ferry-source-zendesk
	Path string
}

// SearchDirs returns the folders searched for plugins, in order: the given
// ones (--plugin-dir), the folder of the running ferry binary, then PATH.
func SearchDirs(extra ...string) []string {
	dirs := append([]string{}, extra...)
	if exe, err := os.Executable(); err == nil {
		dirs = append(dirs, filepath.Dir(exe))
	}
	dirs = append(dirs, filepath.SplitList(os.Getenv("PATH"))...)
	return dirs
}

// Locate finds the executable of the plugin name in dirs; the first found
// wins.
func Locate(name string, dirs []string) (string, error) {
	if name == "" || strings.ContainsAny(name, `/\`) {
		return "", fmt.Errorf("bad plugin name %q: want a name such as zendesk", name)
	}
	for _, d := range dirs {
		if d == "" {
			continue
		}
		p := filepath.Join(d, Prefix+name)
		if isExecutable(p) {
			return filepath.Abs(p)
		}
	}
	return "", fmt.Errorf("plugin %q not found: no executable %s%s in --plugin-dir, beside ferry, or on PATH (searched %s)",
		name, Prefix, name, strings.Join(dirs, string(os.PathListSeparator)))
}

// List finds every plugin in dirs; for a name found in several folders the
// first wins, as in Locate.
func List(dirs []string) ([]Found, error) {
	seen := map[string]bool{}
	var out []Found
	for _, d := range dirs {
		if d == "" {
			continue
		}
		entries, err := os.ReadDir(d)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) || errors.Is(err, fs.ErrPermission) {
				continue
			}
			return nil, fmt.Errorf("list plugins in %s: %w", d, err)
		}
		for _, e := range entries {
			name, ok := strings.CutPrefix(e.Name(), Prefix)
			if !ok || name == "" || seen[name] {
				continue
			}
			p := filepath.Join(d, e.Name())
			if !isExecutable(p) {
				continue
			}
			abs, err := filepath.Abs(p)
			if err != nil {
				return nil, err
			}
			seen[name] = true
			out = append(out, Found{Name: name, Path: abs})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

func isExecutable(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o111 != 0
}
