package pipeline

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/ferryhq/ferry/host/intercom"
	"github.com/ferryhq/ferry/host/load"
)

// IntercomClient returns a client for the configured Intercom workspace.
func IntercomClient(env *Env) (*intercom.Client, error) {
	ic := env.Config.Target.Intercom
	return intercom.New(intercom.Options{
		BaseURL: ic.BaseURL, Region: ic.Region, Token: ic.Token, Ceiling: ic.Ceiling, Logger: env.logger(),
	})
}

// Load runs the configured transforms and loads what is not yet migrated
// into Intercom.
func Load(ctx context.Context, env *Env, runID int64) (load.Result, error) {
	tr, err := Transform(ctx, env, runID)
	if err != nil {
		return load.Result{}, err
	}
	client, err := IntercomClient(env)
	if err != nil {
		return load.Result{}, err
	}
	start := time.Now()
	prog := newProgress(env, "load")
	defer prog.stop()
	// What is left to load, for the estimate of the time left.
	if sum, err := env.Workspace.Summary(ctx); err == nil {
		for _, e := range sum {
			prog.total(e.Entity, 0, e.Available-e.Migrated)
		}
	}
	opts := env.Config.Options
	l := load.New(env.Workspace, client, load.Options{
		Tables:            tr.Tables,
		DefaultAdminEmail: opts.DefaultAdminEmail,
		TagMigrated:       opts.TagMigrated,
		Concurrency:       env.Config.Target.Intercom.Concurrency,
		RunID:             runID,
		Logger:            env.logger(),
		OnOutcome:         func(entity, _ string) { prog.add(entity, 1) },
	})
	res, err := l.Run(ctx)
	prog.stop()
	st := client.Stats()
	secs := time.Since(start).Seconds()
	fmt.Fprintf(env.progress(), "load: %d Intercom calls in %.1fs (%.0f/s), %d retried, %d rate-limited\n",
		st.Calls, secs, float64(st.Calls)/secs, st.Retries, st.RateLimited)
	if n := len(res.UnmappedAgents); n > 0 {
		fmt.Fprintf(env.progress(), "load: %d agents have no Intercom admin of the same email and act as %s: %s\n",
			n, res.DefaultAdmin, strings.Join(res.UnmappedAgents, ", "))
	}
	if n := len(res.UnmappedGroups); n > 0 {
		fmt.Fprintf(env.progress(), "load: %d groups have no Intercom team of the same name, their tickets are not assigned to a team: %s\n",
			n, strings.Join(res.UnmappedGroups, ", "))
	}
	return res, err
}

// Migrate runs extract, transform and load in order.
func Migrate(ctx context.Context, env *Env, runID int64) error {
	if _, err := Extract(ctx, env, runID); err != nil {
		return fmt.Errorf("extract: %w", err)
	}
	if _, err := Load(ctx, env, runID); err != nil {
		return fmt.Errorf("load: %w", err)
	}
	return nil
}
