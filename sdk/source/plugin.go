package source

import (
	"context"
	"os"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	sourcev1 "github.com/ferryhq/ferry/sdk/proto/source/v1"
)

// ProtocolVersion is the plugin protocol version this SDK speaks
// (ferry.source.v1).
const ProtocolVersion = 1

// PluginName is the name the source service is dispensed under.
const PluginName = "source"

// Handshake is the go-plugin handshake host and plugins share. The cookie
// only keeps a person from running a plugin binary by hand by mistake; it is
// not a security measure.
func Handshake() plugin.HandshakeConfig {
	return plugin.HandshakeConfig{
		ProtocolVersion:  ProtocolVersion,
		MagicCookieKey:   "FERRY_SOURCE_PLUGIN",
		MagicCookieValue: "d0c5b7a4-3f7e-4f6a-9a52-ferry-source",
	}
}

// GRPCPlugin is the go-plugin binding of the source service, used by Serve on
// the plugin side and by the host to dispense a client.
type GRPCPlugin struct {
	plugin.NetRPCUnsupportedPlugin
	// Impl is the service a plugin serves; nil on the host side.
	Impl sourcev1.SourceServer
}

// GRPCServer registers the source service.
func (p *GRPCPlugin) GRPCServer(_ *plugin.GRPCBroker, s *grpc.Server) error {
	sourcev1.RegisterSourceServer(s, p.Impl)
	return nil
}

// GRPCClient returns a sourcev1.SourceClient.
func (p *GRPCPlugin) GRPCClient(_ context.Context, _ *plugin.GRPCBroker, c *grpc.ClientConn) (any, error) {
	return sourcev1.NewSourceClient(c), nil
}

// PluginSets are the versioned plugin sets of the protocol, for go-plugin.
func PluginSets(impl sourcev1.SourceServer) map[int]plugin.PluginSet {
	return map[int]plugin.PluginSet{ProtocolVersion: {PluginName: &GRPCPlugin{Impl: impl}}}
}

// Serve runs c as a ferry source plugin until the host stops it. It is
// meant to be the whole of a connector's main function.
func Serve(c Connector) {
	go exitWithHost(os.Getppid(), time.Second)
	plugin.Serve(&plugin.ServeConfig{
		HandshakeConfig:  Handshake(),
		VersionedPlugins: PluginSets(NewServer(c, DefaultLimits())),
		GRPCServer: func(opts []grpc.ServerOption) *grpc.Server {
			opts = append(opts, grpc.MaxRecvMsgSize(MaxMessageBytes), grpc.MaxSendMsgSize(MaxMessageBytes))
			return grpc.NewServer(opts...)
		},
		// Plugins log to stderr only: stdout belongs to the go-plugin handshake.
		Logger: hclog.New(&hclog.LoggerOptions{Name: c.Spec().Name, Output: os.Stderr, JSONFormat: true, Level: hclog.Info}),
	})
}

// exitWithHost ends the plugin once the host that started it is gone: a
// host killed outright (SIGKILL, a crash) cannot stop its plugins, and one
// left running would go on reading the source for no one. The host is
// gone when the plugin's parent is no longer host (the orphan is adopted).
func exitWithHost(host int, every time.Duration) {
	if host <= 1 {
		return // started by init or a subreaper: nothing to watch
	}
	for range time.Tick(every) {
		if os.Getppid() != host {
			os.Exit(3)
		}
	}
}
