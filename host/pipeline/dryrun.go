package pipeline

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"sync"
	"text/tabwriter"

	"github.com/ferryhq/ferry/host/intercom"
	"github.com/ferryhq/ferry/host/intercom/sandbox"
	"github.com/ferryhq/ferry/host/load"
)

// A dry run loads into a private, in-memory Intercom built like the real
// one (its admins, teams and custom attributes, read from it: reads only),
// from a copy of the workspace, and writes every request the load sends as
// a line of JSON. Nothing is sent to Intercom but those reads, and the
// workspace is left as it was.

// DryRunRequest is one line of a dry run's output.
type DryRunRequest struct {
	Method string          `json:"method"`
	Path   string          `json:"path"`
	Query  string          `json:"query,omitempty"`
	Body   json.RawMessage `json:"body,omitempty"`
	// Status is what the stand-in Intercom answered.
	Status int `json:"status"`
}

// dryRun runs Load as opts says, into a stand-in of the configured
// Intercom workspace, writing the requests to opts.DryRun.
func dryRun(ctx context.Context, env *Env, runID int64, opts LoadOptions) (load.Result, error) {
	real, err := IntercomClient(env)
	if err != nil {
		return load.Result{}, err
	}
	// A fresh token for the stand-in: the real one never reaches it, or
	// its output.
	b := make([]byte, 16)
	rand.Read(b)
	token := hex.EncodeToString(b)
	sb, err := standIn(ctx, real, token)
	if err != nil {
		return load.Result{}, fmt.Errorf("dry run: read the Intercom workspace: %w", err)
	}
	out, err := os.OpenFile(opts.DryRun, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return load.Result{}, fmt.Errorf("dry run: %w", err)
	}
	defer out.Close()
	rec := &recorder{next: sb, enc: json.NewEncoder(out)}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return load.Result{}, fmt.Errorf("dry run: %w", err)
	}
	srv := &http.Server{Handler: rec}
	go srv.Serve(ln)
	defer srv.Close()

	tmp, err := os.MkdirTemp("", "ferry-dry-run-")
	if err != nil {
		return load.Result{}, fmt.Errorf("dry run: %w", err)
	}
	defer os.RemoveAll(tmp)
	copyWS, err := env.Workspace.CopyTo(ctx, tmp)
	if err != nil {
		return load.Result{}, fmt.Errorf("dry run: %w", err)
	}
	defer copyWS.Close()
	client, err := intercom.New(intercom.Options{BaseURL: "http://" + ln.Addr().String(), Token: token, Logger: env.logger()})
	if err != nil {
		return load.Result{}, err
	}
	dry := *env
	dry.Workspace, dry.client = copyWS, client
	// The transforms' compiled code is cached in the real workspace.
	dry.cacheDir = env.transformCache()
	opts.DryRun = ""
	res, err := Load(ctx, &dry, runID, opts)
	if werr := rec.err(); werr != nil && err == nil {
		err = fmt.Errorf("dry run: write %s: %w", out.Name(), werr)
	}
	if sum, serr := copyWS.Summary(ctx); serr == nil && err == nil {
		tw := tabwriter.NewWriter(env.progress(), 0, 4, 2, ' ', 0)
		fmt.Fprintf(tw, "dry run: the load would end with\nENTITY\tAVAILABLE\tMIGRATED\tFAILED\tSKIPPED\n")
		for _, e := range sum {
			fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\n", e.Entity, e.Available, e.Migrated, e.Failed, e.Skipped)
		}
		tw.Flush()
	}
	fmt.Fprintf(env.progress(), "dry run: %d requests written to %s; nothing was sent to Intercom but reads of its admins, teams, attributes and ticket types, and the workspace is unchanged\n",
		rec.count(), out.Name())
	return res, err
}

// standIn builds an in-memory Intercom with the real workspace's admins
// (the token's own first), teams and custom attributes.
func standIn(ctx context.Context, ic *intercom.Client, token string) (*sandbox.Server, error) {
	me, err := ic.Me(ctx)
	if err != nil {
		return nil, err
	}
	admins, err := ic.ListAdmins(ctx)
	if err != nil {
		return nil, err
	}
	teams, err := ic.ListTeams(ctx)
	if err != nil {
		return nil, err
	}
	sbAdmins := []sandbox.Admin{{ID: me.ID, Name: me.Name, Email: me.Email}}
	for _, a := range admins {
		if a.ID != me.ID {
			sbAdmins = append(sbAdmins, sandbox.Admin{ID: a.ID, Name: a.Name, Email: a.Email, TeamIDs: a.TeamIDs})
		}
	}
	var sbTeams []sandbox.Team
	for _, t := range teams {
		sbTeams = append(sbTeams, sandbox.Team{ID: t.ID, Name: t.Name, AdminIDs: t.AdminIDs})
	}
	sb := sandbox.New(sandbox.Options{Token: token, Admins: sbAdmins, Teams: sbTeams})
	for _, model := range []string{intercom.ModelContact, intercom.ModelCompany} {
		attrs, err := ic.ListDataAttributes(ctx, model)
		if err != nil {
			return nil, err
		}
		for _, a := range attrs {
			if a.Custom {
				sb.AddAttribute(sandbox.Attribute{Model: model, Name: a.Name, DataType: a.DataType, Archived: a.Archived})
			}
		}
	}
	types, err := ic.ListTicketTypes(ctx)
	if err != nil {
		return nil, err
	}
	for _, tt := range types {
		if tt.Archived {
			continue
		}
		var attrs []sandbox.TicketTypeAttribute
		for _, a := range tt.Attributes.List {
			if !a.Archived {
				attrs = append(attrs, sandbox.TicketTypeAttribute{Name: a.Name, DataType: a.DataType})
			}
		}
		sb.AddTicketType(tt.Name, tt.Category, attrs)
	}
	attrs, err := ic.ListConversationAttributes(ctx)
	if err != nil {
		return nil, err
	}
	for _, a := range attrs {
		sb.AddAttribute(sandbox.Attribute{Model: "conversation", Name: a.Name, DataType: a.DataType, Archived: a.Archived})
	}
	return sb, nil
}

// recorder writes each request as a line of JSON before passing it on.
type recorder struct {
	next http.Handler
	mu   sync.Mutex
	enc  *json.Encoder
	n    int
	werr error
}

func (r *recorder) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, err := io.ReadAll(req.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	req.Body = io.NopCloser(bytes.NewReader(body))
	sw := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
	r.next.ServeHTTP(sw, req)
	line := DryRunRequest{Method: req.Method, Path: req.URL.Path, Query: req.URL.RawQuery, Status: sw.status}
	if len(bytes.TrimSpace(body)) > 0 && json.Valid(body) {
		line.Body = body
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.n++
	if err := r.enc.Encode(line); err != nil && r.werr == nil {
		r.werr = err
	}
}

func (r *recorder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.n
}

func (r *recorder) err() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.werr
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}
