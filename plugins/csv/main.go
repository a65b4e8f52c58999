// Command ferry-source-csv is ferry's source plugin for CSV and JSON Lines
// exports of any help desk. ferry starts it; it is not meant to be run by
// hand.
package main

import (
	"github.com/ferryhq/ferry/plugins/csv/connector"
	"github.com/ferryhq/ferry/sdk/source"
)

func main() { source.Serve(connector.New()) }
