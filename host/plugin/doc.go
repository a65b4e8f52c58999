// Package plugin finds, launches and talks to ferry's source plugins:
// executables named ferry-source-<name>, served with hashicorp/go-plugin over
// gRPC (AutoMTLS) and speaking ferry.source.v1 (sdk/proto).
package plugin
