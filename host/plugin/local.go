package plugin

import (
	"context"
	"io"
	"log/slog"

	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"

	sourcev1 "github.com/ferryhq/ferry/sdk/proto/source/v1"
	"github.com/ferryhq/ferry/sdk/source"
)

// Local returns a Source for a connector linked into the host: the same
// protocol messages and the same Read handling as a plugin subprocess, with
// no process, gRPC or TLS in between. It exists to measure what the plugin
// boundary costs, and for tests.
func Local(name string, c source.Connector, opts Options) *Source {
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if opts.IdleTimeout == 0 {
		opts.IdleTimeout = DefaultIdleTimeout
	}
	if opts.StallTimeout == 0 {
		opts.StallTimeout = DefaultStallTimeout
	}
	return &Source{name: name, path: "(in-process)", opts: opts, logger: logger, rpc: localClient{srv: source.NewServer(c, source.DefaultLimits())}}
}

// localClient calls a SourceServer directly.
type localClient struct{ srv sourcev1.SourceServer }

func (l localClient) Spec(ctx context.Context, in *sourcev1.SpecRequest, _ ...grpc.CallOption) (*sourcev1.SpecResponse, error) {
	return l.srv.Spec(ctx, in)
}

func (l localClient) Check(ctx context.Context, in *sourcev1.CheckRequest, _ ...grpc.CallOption) (*sourcev1.CheckResponse, error) {
	return l.srv.Check(ctx, in)
}

func (l localClient) Discover(ctx context.Context, in *sourcev1.DiscoverRequest, _ ...grpc.CallOption) (*sourcev1.DiscoverResponse, error) {
	return l.srv.Discover(ctx, in)
}

// Read runs the server's Read in a goroutine; its messages reach Recv
// through a channel, one at a time, as a stream would deliver them.
func (l localClient) Read(ctx context.Context, in *sourcev1.ReadRequest, _ ...grpc.CallOption) (grpc.ServerStreamingClient[sourcev1.ReadMessage], error) {
	ctx, cancel := context.WithCancel(ctx)
	st := &localStream{ctx: ctx, cancel: cancel, msgs: make(chan *sourcev1.ReadMessage, 16), done: make(chan error, 1)}
	go func() {
		err := l.srv.Read(in, &localServerStream{ctx: ctx, out: st.msgs})
		close(st.msgs)
		st.done <- err
	}()
	return st, nil
}

// localStream is the client side of a local Read.
type localStream struct {
	grpc.ClientStream
	ctx    context.Context
	cancel context.CancelFunc
	msgs   chan *sourcev1.ReadMessage
	done   chan error
}

func (s *localStream) Recv() (*sourcev1.ReadMessage, error) {
	select {
	case m, ok := <-s.msgs:
		if ok {
			return m, nil
		}
		s.cancel()
		if err := <-s.done; err != nil {
			return nil, err
		}
		return nil, io.EOF
	case <-s.ctx.Done():
		return nil, s.ctx.Err()
	}
}

func (s *localStream) Context() context.Context     { return s.ctx }
func (s *localStream) Header() (metadata.MD, error) { return nil, nil }
func (s *localStream) Trailer() metadata.MD         { return nil }
func (s *localStream) CloseSend() error             { return nil }

// localServerStream is the server side of a local Read.
type localServerStream struct {
	grpc.ServerStream
	ctx context.Context
	out chan<- *sourcev1.ReadMessage
}

func (s *localServerStream) Context() context.Context { return s.ctx }

func (s *localServerStream) Send(m *sourcev1.ReadMessage) error {
	select {
	case s.out <- m:
		return nil
	case <-s.ctx.Done():
		return s.ctx.Err()
	}
}
