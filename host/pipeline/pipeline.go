// Package pipeline runs ferry's stages in order: extract (a source plugin into
// the workspace), transform (WASM modules over the staged records), load (into
// Intercom). Each stage reads what the one before committed to the
// workspace, so each can be rerun or resumed alone.
package pipeline

import (
	"io"
	"log/slog"
	"path/filepath"

	"github.com/vbauerster/mpb/v8"

	"github.com/ferryhq/ferry/host/config"
	"github.com/ferryhq/ferry/host/intercom"
	"github.com/ferryhq/ferry/host/stage"
)

// Env is what the stages share: the open workspace, the config, and where
// plugins, logs and progress go.
type Env struct {
	Workspace  *stage.Workspace
	Config     *config.Config
	PluginDirs []string
	Logger     *slog.Logger
	// Progress receives human-readable progress lines (the terminal's
	// stderr); nil discards them.
	Progress io.Writer

	// client, when set, is the Intercom a load writes to (a dry run's
	// stand-in) instead of the configured one.
	client *intercom.Client
	// bars, when set, is the container progress bars are drawn in (a
	// migration's, shared by its extract and its load).
	bars *mpb.Progress
	// cacheDir, when set, is where the transforms' compiled code is
	// cached instead of the workspace (a dry run's copy uses the real one).
	cacheDir string
}

// transformCache is where compiled transforms are cached.
func (e *Env) transformCache() string {
	if e.cacheDir != "" {
		return e.cacheDir
	}
	return filepath.Join(e.Workspace.Dir(), "cache", "wasm")
}

func (e *Env) progress() io.Writer {
	if e.Progress == nil {
		return io.Discard
	}
	return e.Progress
}

func (e *Env) logger() *slog.Logger {
	if e.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return e.Logger
}

// path resolves a path from the config against the workspace folder.
func (e *Env) path(p string) string {
	if filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(e.Workspace.Dir(), p)
}
