package transform

import "github.com/ferryhq/ferry/sdk/transform/columnar"

// appendJSONString appends s as a JSON string, as encoding/json would without
// HTML escaping, but without allocating (see columnar.AppendJSONString).
func appendJSONString(b []byte, s string) []byte { return columnar.AppendJSONString(b, s) }
