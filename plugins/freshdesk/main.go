// Command ferry-source-freshdesk is ferry's Freshdesk source plugin. ferry
// starts it; it is not meant to be run by hand.
package main

import (
	"github.com/ferryhq/ferry/plugins/freshdesk/connector"
	"github.com/ferryhq/ferry/sdk/source"
)

func main() { source.Serve(connector.New()) }
