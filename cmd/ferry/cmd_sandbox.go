package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/urfave/cli/v2"
	"golang.org/x/sync/errgroup"

	"github.com/ferryhq/ferry/host/intercom/sandbox"
	"github.com/ferryhq/ferry/host/sandboxstats"
	"github.com/ferryhq/ferry/plugins/freshdesk/freshdesktest"
	"github.com/ferryhq/ferry/plugins/zendesk/zendesktest"
	"github.com/ferryhq/ferry/sdk/source/faults"
)

func sandboxCommand() *cli.Command {
	return &cli.Command{
		Name:  "sandbox",
		Usage: "serve an Intercom-compatible sandbox and Zendesk and Freshdesk emulators on loopback",
		Description: `Starts real HTTP servers on loopback and prints one line per server:
   intercom http://127.0.0.1:PORT
   zendesk http://127.0.0.1:PORT
   freshdesk http://127.0.0.1:PORT
and serves until interrupted. The Intercom sandbox follows Intercom's API 2.16
(shapes, limits, errors) with 3 admins and 2 teams, set up as a customer
would before migrating: the admins are 3 of the help desk's agents (same
emails) and the teams are named after 2 of its groups, so the rest show how
unmapped agents and groups are reported; the Zendesk and Freshdesk
emulators serve generated help desks the way their APIs do. Point ferry.yaml at them:
   source.config: { base_url: <zendesk URL>, email: <printed>, token: ... }
   target.intercom: { base_url: <intercom URL>, token: ... }
Nothing persists: stop it and the sandbox forgets everything. With
--stats-file, what the servers answered is written to that file as they stop
(on SIGINT or SIGTERM), for benchmarks:
   {"intercom": {"requests": N, "by_status": {"200": N, ...},
                 "endpoints": {"POST /contacts": {"requests": N, "by_status": {...}}, ...},
                 "first": TIME, "last": TIME,
                 "admitted_by_second": {"UNIX_SECOND": N, ...}},
    "zendesk":  {"requests": N, "by_status": {...}, "endpoints": {"GET /api/v2/...": N, ...},
                 "admitted": N, "admitted_incremental": N, "first": TIME, "last": TIME}}
(first and last: when the first and the latest request arrived, RFC 3339;
admitted: the requests Zendesk's rate limit counted, i.e. not answered 429,
and of them the incremental exports; admitted_by_second: the Intercom
requests not answered 429, by the unix second they arrived in).`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "helpdesk", Usage: "serve the help desk in this JSON file, generating it first if it does not exist"},
			&cli.Uint64Flag{Name: "seed", Value: 1, Usage: "seed of the generated help desk"},
			&cli.IntFlag{Name: "tickets", Value: 200, Usage: "tickets in the generated help desk"},
			&cli.IntFlag{Name: "end-users", Value: 60, Usage: "end users in the generated Zendesk help desk (besides its 8 agents)"},
			&cli.IntFlag{Name: "organizations", Value: 15, Usage: "organizations in the generated Zendesk help desk"},
			&cli.IntFlag{Name: "max-comments", Value: 12, Usage: "the most comments a ticket of the generated Zendesk help desk has (each has at least one)"},
			&cli.StringFlag{Name: "stats-file", Usage: "when stopped, write the requests the Intercom sandbox and the Zendesk emulator answered to this file as JSON (see above)"},
			&cli.StringFlag{Name: "listen", Value: "127.0.0.1", Usage: "the address to listen on (ports are picked free)"},
			&cli.StringFlag{Name: "intercom-token", Value: "sandbox-intercom-token", EnvVars: []string{"FERRY_SANDBOX_INTERCOM_TOKEN"}, Usage: "the bearer token the Intercom sandbox accepts"},
			&cli.IntFlag{Name: "intercom-rate", Value: 1667, Usage: "Intercom calls allowed per 10-second window (Intercom's default for 10,000/min); 0: no limit"},
			&cli.DurationFlag{Name: "intercom-latency", Usage: "latency added to every Intercom response"},
			&cli.Float64Flag{Name: "intercom-fault-rate", Usage: "share of the Intercom sandbox's answers that are faults (429 bursts with and without headers, 500/502/503, resets, answers lost after the sandbox acted), 0 to 1"},
			&cli.StringFlag{Name: "zendesk-email", Usage: "the email the Zendesk emulator's API token belongs to (default: the help desk's owner, printed on stderr)"},
			&cli.StringFlag{Name: "zendesk-token", Value: zendesktest.DefaultToken, EnvVars: []string{"FERRY_SANDBOX_ZENDESK_TOKEN"}, Usage: "the API token the Zendesk emulator accepts"},
			&cli.IntFlag{Name: "zendesk-rate", Usage: "Zendesk requests allowed per minute; 0: no limit"},
			&cli.IntFlag{Name: "zendesk-incremental-rate", Usage: "incremental export requests allowed per minute; 0: no limit"},
			&cli.StringFlag{Name: "freshdesk-api-key", Value: freshdesktest.DefaultAPIKey, EnvVars: []string{"FERRY_SANDBOX_FRESHDESK_API_KEY"}, Usage: "the API key the Freshdesk emulator accepts"},
			&cli.IntFlag{Name: "freshdesk-rate", Usage: "Freshdesk API credits allowed per minute; 0: no limit"},
			&cli.Float64Flag{Name: "source-fault-rate", Usage: "share of the emulators' answers that are faults (429s, 5xx, resets, truncated bodies, 5 s stalls), 0 to 1"},
		},
		Action: func(c *cli.Context) error {
			log, err := logger(c)
			if err != nil {
				return err
			}
			hd, err := sandboxHelpDesk(c)
			if err != nil {
				return err
			}
			zd := zendesktest.NewServer(hd, zendesktest.ServerOptions{
				Email: c.String("zendesk-email"), Token: c.String("zendesk-token"), RequestsPerMinute: c.Int("zendesk-rate"), IncrementalPerMinute: c.Int("zendesk-incremental-rate"),
			})
			admins, teams := sandboxTeammates(hd)
			icFaults := c.Float64("intercom-fault-rate")
			if icFaults < 0 || icFaults > 1 {
				return usagef("--intercom-fault-rate %v: want a share from 0 to 1", icFaults)
			}
			ic := sandbox.New(sandbox.Options{
				Admins: admins, Teams: teams,
				Token: c.String("intercom-token"), RateLimit: c.Int("intercom-rate"), Latency: c.Duration("intercom-latency"), Logger: log,
				Faults: sandbox.FaultOptions{Rate: icFaults, Seed: c.Uint64("seed")},
			})
			fd := freshdesktest.NewServer(freshdesktest.Generate(freshdesktest.GenerateOptions{Seed: c.Uint64("seed"), Tickets: c.Int("tickets")}),
				freshdesktest.ServerOptions{APIKey: c.String("freshdesk-api-key"), RequestsPerMinute: c.Int("freshdesk-rate")})
			email, _ := zd.Credentials()
			var zdh, fdh http.Handler = zd, fd
			if r := c.Float64("source-fault-rate"); r > 0 {
				if r > 1 {
					return usagef("--source-fault-rate %v: want a share from 0 to 1", r)
				}
				zdh = faults.Wrap(zd, faults.Options{Rate: r, Seed: c.Uint64("seed")})
				fdh = faults.Wrap(fd, faults.Options{Rate: r, Seed: c.Uint64("seed") + 1})
			}
			g, ctx := errgroup.WithContext(c.Context)
			for _, s := range []struct {
				name string
				h    http.Handler
				note string
			}{{"intercom", ic, ""}, {"zendesk", zdh, "(API token owner " + email + ")"}, {"freshdesk", fdh, ""}} {
				ln, err := net.Listen("tcp", net.JoinHostPort(c.String("listen"), "0"))
				if err != nil {
					return fmt.Errorf("listen for the %s server: %w", s.name, err)
				}
				srv := &http.Server{Handler: s.h, ReadHeaderTimeout: 10 * time.Second}
				fmt.Fprintf(c.App.Writer, "%s http://%s\n", s.name, ln.Addr())
				if s.note != "" {
					fmt.Fprintf(c.App.ErrWriter, "%s: %s\n", s.name, s.note)
				}
				g.Go(func() error {
					if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
						return err
					}
					return nil
				})
				g.Go(func() error {
					<-ctx.Done()
					sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
					defer cancel()
					return srv.Shutdown(sctx)
				})
			}
			if f, ok := c.App.Writer.(*os.File); ok {
				f.Sync()
			}
			err = g.Wait()
			if path := c.String("stats-file"); path != "" {
				// The servers are shut down: no request is in flight.
				if serr := writeSandboxStats(path, ic.Stats(), zd.Stats()); serr != nil {
					return errors.Join(err, serr)
				}
			}
			return err
		},
	}
}

// writeSandboxStats writes the servers' counts to path (see package
// sandboxstats).
func writeSandboxStats(path string, ic sandbox.Stats, zd zendesktest.Stats) error {
	out := sandboxstats.File{
		Intercom: sandboxstats.Intercom{Requests: ic.Requests, ByStatus: ic.ByStatus, Endpoints: map[string]sandboxstats.Endpoint{},
			First: sandboxstats.When(ic.First), Last: sandboxstats.When(ic.Last), AdmittedBySecond: ic.AdmittedBySecond},
		Zendesk: sandboxstats.Zendesk{Requests: zd.Total(), ByStatus: zd.Statuses, Endpoints: zd.Requests,
			Admitted: zd.Admitted, AdmittedIncremental: zd.AdmittedIncremental, First: sandboxstats.When(zd.First), Last: sandboxstats.When(zd.Last)},
	}
	for name, e := range ic.Endpoints {
		out.Intercom.Endpoints[name] = sandboxstats.Endpoint{Requests: e.Requests, ByStatus: e.ByStatus}
	}
	return sandboxstats.Write(path, out)
}

// sandboxHelpDesk loads --helpdesk, or generates the help desk (saving it
// to --helpdesk when given).
func sandboxHelpDesk(c *cli.Context) (*zendesktest.HelpDesk, error) {
	path := c.String("helpdesk")
	if path != "" {
		hd, err := zendesktest.Load(path)
		if err == nil {
			return hd, nil
		}
		if !errors.Is(err, os.ErrNotExist) {
			return nil, err
		}
	}
	if c.Int("tickets") < 1 {
		return nil, usagef("--tickets must be at least 1")
	}
	for _, name := range []string{"end-users", "organizations", "max-comments"} {
		if c.Int(name) < 1 {
			return nil, usagef("--%s must be at least 1", name)
		}
	}
	hd := zendesktest.Generate(zendesktest.GenerateOptions{Seed: c.Uint64("seed"), Tickets: c.Int("tickets"),
		EndUsers: c.Int("end-users"), Organizations: c.Int("organizations"), MaxComments: c.Int("max-comments")})
	if path != "" {
		if err := hd.Save(path); err != nil {
			return nil, err
		}
		fmt.Fprintf(c.App.ErrWriter, "generated a help desk of %d tickets, %d comments, %d users into %s\n",
			len(hd.Tickets), hd.CommentCount(), len(hd.Users), path)
	}
	return hd, nil
}

// sandboxTeammates are the Intercom admins and teams the sandbox starts with:
// the first three agents of the help desk (the first owns the token) and
// teams named after its first two groups, as a customer sets up Intercom
// before a migration. Intercom has no API to create either.
func sandboxTeammates(hd *zendesktest.HelpDesk) ([]sandbox.Admin, []sandbox.Team) {
	var admins []sandbox.Admin
	for _, u := range hd.Users {
		if len(admins) == 3 {
			break
		}
		if u.IsAgent() && u.Email != nil && *u.Email != "" {
			admins = append(admins, sandbox.Admin{ID: fmt.Sprint(7340001 + len(admins)), Name: u.Name, Email: *u.Email})
		}
	}
	if len(admins) == 0 || len(hd.Groups) == 0 {
		return nil, nil // the sandbox's own defaults
	}
	var teams []sandbox.Team
	for i, g := range hd.Groups {
		if i == 2 {
			break
		}
		t := sandbox.Team{ID: fmt.Sprint(5600001 + i), Name: g.Name}
		for j := range admins {
			if j%2 == i {
				t.AdminIDs = append(t.AdminIDs, admins[j].ID)
				admins[j].TeamIDs = append(admins[j].TeamIDs, t.ID)
			}
		}
		teams = append(teams, t)
	}
	return admins, teams
}
