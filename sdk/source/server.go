package source

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	sourcev1 "github.com/ferryhq/ferry/sdk/proto/source/v1"
	"github.com/ferryhq/ferry/sdk/schema"
)

// server adapts a Connector to the ferry.source.v1 gRPC service.
type server struct {
	sourcev1.UnimplementedSourceServer
	c         Connector
	limits    Limits
	heartbeat time.Duration
}

// NewServer returns the gRPC service for c. Serve uses it; tests and hosts
// that link a connector in-process can use it directly.
func NewServer(c Connector, limits Limits) sourcev1.SourceServer {
	return &server{c: c, limits: limits, heartbeat: HeartbeatInterval}
}

func (s *server) Spec(context.Context, *sourcev1.SpecRequest) (*sourcev1.SpecResponse, error) {
	sp := s.c.Spec()
	return &sourcev1.SpecResponse{Name: sp.Name, Version: sp.Version, ConfigSchemaJson: sp.ConfigSchema}, nil
}

func (s *server) Check(ctx context.Context, req *sourcev1.CheckRequest) (*sourcev1.CheckResponse, error) {
	if err := s.c.Check(ctx, json.RawMessage(req.GetConfigJson())); err != nil {
		return &sourcev1.CheckResponse{Ok: false, Message: err.Error()}, nil
	}
	return &sourcev1.CheckResponse{Ok: true}, nil
}

func (s *server) Discover(_ context.Context, req *sourcev1.DiscoverRequest) (*sourcev1.DiscoverResponse, error) {
	streams, err := s.c.Streams(json.RawMessage(req.GetConfigJson()))
	if err != nil {
		return nil, status.Errorf(codes.InvalidArgument, "list streams: %v", err)
	}
	resp := &sourcev1.DiscoverResponse{}
	for _, st := range streams {
		info := st.Info()
		sc, err := schema.Schema(info.Name)
		if err != nil {
			return nil, status.Errorf(codes.Internal, "stream %s: %v", info.Name, err)
		}
		data, err := EncodeSchema(sc)
		if err != nil {
			return nil, status.Errorf(codes.Internal, "encode schema of %s: %v", info.Name, err)
		}
		resp.Streams = append(resp.Streams, &sourcev1.Stream{
			Name: info.Name, ArrowSchema: data, PrimaryKey: []string{schema.PrimaryKey},
			CursorField: info.CursorField, Emits: info.Emits,
		})
	}
	return resp, nil
}

func (s *server) Read(req *sourcev1.ReadRequest, out sourcev1.Source_ReadServer) error {
	ctx := out.Context()
	streams, err := s.c.Streams(json.RawMessage(req.GetConfigJson()))
	if err != nil {
		return status.Errorf(codes.InvalidArgument, "list streams: %v", err)
	}
	want := req.GetStreams()
	for _, name := range want {
		if !slices.ContainsFunc(streams, func(st Stream) bool { return st.Info().Name == name }) {
			return status.Errorf(codes.InvalidArgument, "this source has no stream %q", name)
		}
	}
	for _, st := range streams {
		name := st.Info().Name
		if len(want) > 0 && !slices.Contains(want, name) {
			continue
		}
		if err := s.readStream(ctx, st, req.GetCursors()[name], out.Send); err != nil {
			return err
		}
	}
	return nil
}

func (s *server) readStream(ctx context.Context, st Stream, cursor []byte, send sender) error {
	name := st.Info().Name
	em := newEmitter(name, s.limits, send)
	defer em.release()
	// Say which stream is being read before anything else, so the host can
	// name it if the read dies early.
	if err := em.Progress(0, 0); err != nil {
		return err
	}
	hbCtx, stopHeartbeat := context.WithCancel(ctx)
	hbDone := make(chan struct{})
	go func() {
		defer close(hbDone)
		em.heartbeat(hbCtx, s.heartbeat)
	}()
	// Nothing may be sent once the call returns: stop the heartbeat first.
	defer func() {
		stopHeartbeat()
		<-hbDone
	}()
	if err := st.Read(ctx, cursor, em); err != nil {
		if ctx.Err() != nil {
			return status.FromContextError(ctx.Err()).Err()
		}
		return status.Errorf(codes.Unknown, "read stream %s: %v", name, err)
	}
	// Read returned: everything emitted is complete. Commit what is pending
	// under the last cursor the stream gave, or none if it never gave one.
	em.mu.Lock()
	defer em.mu.Unlock()
	if err := em.checkpointLocked(nil, time.Time{}); err != nil {
		return fmt.Errorf("final checkpoint of %s: %w", name, err)
	}
	return nil
}
