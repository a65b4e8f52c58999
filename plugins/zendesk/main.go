// Command ferry-source-zendesk is ferry's Zendesk source plugin. ferry
// starts it; it is not meant to be run by hand.
package main

import (
	"github.com/ferryhq/ferry/plugins/zendesk/connector"
	"github.com/ferryhq/ferry/sdk/source"
)

func main() { source.Serve(connector.New()) }
