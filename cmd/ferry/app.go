package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/urfave/cli/v2"

	"github.com/ferryhq/ferry/host/config"
	"github.com/ferryhq/ferry/host/pipeline"
	"github.com/ferryhq/ferry/host/stage"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

// Exit codes (contract): 0 done, 1 failed, 2 bad usage or config.
const (
	exitOK     = 0
	exitFailed = 1
	exitUsage  = 2
)

// usageError marks an error that is the user's input, not the run's.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func usagef(format string, args ...any) error { return usageError{fmt.Errorf(format, args...)} }

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	// A file size limit (ulimit -f) must fail a write with an error ferry
	// reports, not kill it mid-commit.
	signal.Ignore(syscall.SIGXFSZ)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	app := newApp(stdin, stdout, stderr)
	err := app.RunContext(ctx, args)
	if err == nil {
		return exitOK
	}
	var ue usageError
	switch {
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "ferry: %v\n", err)
		return exitUsage
	case ctx.Err() != nil:
		fmt.Fprintf(stderr, "ferry: stopped (%v) during %s.\nEverything committed so far is kept in the workspace; run the same command again to resume.\n",
			context.Cause(ctx), stoppedWhere(err))
		return exitFailed
	default:
		fmt.Fprintf(stderr, "ferry: %v\n", err)
		return exitFailed
	}
}

// stoppedWhere says what an interrupted command was doing, from the error
// it returned: the stage ("extract: plugin zendesk, stream comments, after
// checkpoint ...", "load: ...") without the cancellation every stage's
// error ends with.
func stoppedWhere(err error) string {
	where := err.Error()
	for _, cut := range []string{": context canceled", ": " + context.Canceled.Error()} {
		where = strings.ReplaceAll(where, cut, "")
	}
	if where == "" || where == context.Canceled.Error() {
		return "the start"
	}
	return where
}

var workspaceFlag = &cli.StringFlag{
	Name: "workspace", Aliases: []string{"w"}, Value: ".", EnvVars: []string{"FERRY_WORKSPACE"},
	Usage: "the migration's folder: ferry.yaml, ferry.duckdb and reports/",
}

var pluginDirFlag = &cli.StringSliceFlag{
	Name: "plugin-dir", EnvVars: []string{"FERRY_PLUGIN_DIR"},
	Usage: "a folder to look for ferry-source-<name> plugins in first (then beside ferry, then PATH)",
}

var logLevelFlag = &cli.StringFlag{
	Name: "log-level", Value: "warn", EnvVars: []string{"FERRY_LOG_LEVEL"},
	Usage: "debug, info, warn or error: what ferry logs to stderr besides progress",
}

func newApp(stdin io.Reader, stdout, stderr io.Writer) *cli.App {
	app := &cli.App{
		Name:    "ferry",
		Usage:   "move a help desk (Zendesk, Freshdesk, CSV) into Intercom",
		Version: version,
		Description: `ferry extracts a help desk through a source plugin into a DuckDB workspace,
lets you filter and inspect it with SQL, reshapes it with WASM transforms, and
loads it into Intercom quietly, keeping source timestamps, without duplicates.

A migration lives in a folder (the workspace): ferry.yaml, ferry.duckdb, reports/.

   ferry init --source zendesk -w acme    write a commented acme/ferry.yaml
   ferry migrate -w acme                  extract, transform and load
   ferry query -w acme "SELECT status, count(*) FROM tickets GROUP BY 1"
   ferry report -w acme --json            what migrated, failed and was skipped

Secrets come from the environment (${VAR} in ferry.yaml) and never appear in
logs, reports or the workspace. Every command can be rerun: it resumes where
the last run stopped and never creates anything twice.`,
		Reader:               stdin,
		Writer:               stdout,
		ErrWriter:            stderr,
		Flags:                []cli.Flag{logLevelFlag},
		EnableBashCompletion: true,
		ExitErrHandler:       func(*cli.Context, error) {}, // run() reports errors and picks exit codes
		OnUsageError: func(_ *cli.Context, err error, _ bool) error {
			return usageError{err}
		},
		Commands: []*cli.Command{
			initCommand(),
			pluginsCommand(),
			extractCommand(),
			planCommand(),
			loadCommand(),
			migrateCommand(),
			queryCommand(),
			verifyCommand(),
			reportCommand(),
			undoCommand(),
			sandboxCommand(),
			transformCommand(),
		},
	}
	for _, c := range app.Commands {
		c.OnUsageError = app.OnUsageError
	}
	return app
}

// logger returns the logger every command logs through: text on stderr.
func logger(c *cli.Context) (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(c.String("log-level"))); err != nil {
		return nil, usagef("--log-level %q: want debug, info, warn or error", c.String("log-level"))
	}
	return slog.New(slog.NewTextHandler(c.App.ErrWriter, &slog.HandlerOptions{Level: level})), nil
}

// loadConfig reads the workspace's ferry.yaml.
func loadConfig(c *cli.Context) (*config.Config, error) {
	path := filepath.Join(c.String("workspace"), config.FileName)
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		return nil, usagef("no %s in %s: run `ferry init --source zendesk -w %s` first", config.FileName, c.String("workspace"), c.String("workspace"))
	}
	cfg, err := config.Load(path, os.LookupEnv)
	if err != nil {
		return nil, usageError{err}
	}
	return cfg, nil
}

// openEnv opens the workspace and the config for a stage command.
func openEnv(c *cli.Context) (*pipeline.Env, func(), error) {
	log, err := logger(c)
	if err != nil {
		return nil, nil, err
	}
	cfg, err := loadConfig(c)
	if err != nil {
		return nil, nil, err
	}
	ws, err := stage.OpenWith(c.Context, c.String("workspace"), stage.OpenOptions{MemoryMB: cfg.Workspace.MemoryMB})
	if err != nil {
		return nil, nil, err
	}
	// While this command holds the workspace, no other process can open
	// it: ferry query and ferry report are answered here meanwhile.
	stopQueries := func() error { return nil }
	if stop, err := ws.ServeQueriesWith(c.Context, stage.QueryServerOptions{Logger: log}); err != nil {
		log.Warn("ferry query and ferry report cannot run while this command holds the workspace", "error", err)
	} else {
		stopQueries = stop
	}
	env := &pipeline.Env{Workspace: ws, Config: cfg, PluginDirs: c.StringSlice("plugin-dir"), Logger: log, Progress: c.App.ErrWriter}
	return env, func() {
		// Before closing: the queries under way use the workspace.
		if err := stopQueries(); err != nil {
			log.Warn("stop serving queries", "error", err)
		}
		ws.Close()
	}, nil
}

// inRun records a command as a run in the workspace around fn.
func inRun(c *cli.Context, env *pipeline.Env, command string, fn func(runID int64) error) error {
	ws := env.Workspace
	id, err := ws.StartRun(c.Context, command)
	if err != nil {
		return err
	}
	err = fn(id)
	status, detail := stage.RunSucceeded, ""
	if err != nil {
		status, detail = stage.RunFailed, err.Error()
	}
	// Record the end even when the run was interrupted.
	if ferr := ws.FinishRun(context.WithoutCancel(c.Context), id, status, detail); ferr != nil && err == nil {
		err = ferr
	}
	return err
}
