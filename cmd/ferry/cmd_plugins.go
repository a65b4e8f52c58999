package main

import (
	"fmt"
	"text/tabwriter"

	"github.com/urfave/cli/v2"

	"github.com/ferryhq/ferry/host/plugin"
)

func pluginsCommand() *cli.Command {
	return &cli.Command{
		Name:  "plugins",
		Usage: "list the source plugins ferry can find, with their versions",
		Description: `Looks for executables named ferry-source-<name> in --plugin-dir, beside the
ferry binary, then on PATH (the first found wins), starts each to ask its version.`,
		Flags: []cli.Flag{pluginDirFlag},
		Action: func(c *cli.Context) error {
			log, err := logger(c)
			if err != nil {
				return err
			}
			found, err := plugin.List(plugin.SearchDirs(c.StringSlice("plugin-dir")...))
			if err != nil {
				return err
			}
			if len(found) == 0 {
				fmt.Fprintln(c.App.Writer, "no plugins found (looked for ferry-source-* in --plugin-dir, beside ferry and on PATH)")
				return nil
			}
			tw := tabwriter.NewWriter(c.App.Writer, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tVERSION\tPATH")
			for _, f := range found {
				version := "?"
				src, err := plugin.Start(c.Context, f.Name, f.Path, plugin.Options{Logger: log})
				if err != nil {
					version = "error: " + err.Error()
				} else {
					if spec, err := src.Spec(c.Context); err == nil {
						version = spec.Version
					}
					src.Close()
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\n", f.Name, version, f.Path)
			}
			return tw.Flush()
		},
	}
}
