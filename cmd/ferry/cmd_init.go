package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/ferryhq/ferry/host/config"
)

func initCommand() *cli.Command {
	return &cli.Command{
		Name:  "init",
		Usage: "write a commented ferry.yaml for a source into the workspace",
		Description: `Writes <workspace>/ferry.yaml with every setting explained. Edit the
URLs and emails; keep secrets as ${VAR} and export them in your shell.`,
		Flags: []cli.Flag{
			workspaceFlag,
			&cli.StringFlag{Name: "source", Value: "zendesk", Usage: "the help desk to migrate from: " + strings.Join(config.Sources(), ", ")},
			&cli.BoolFlag{Name: "force", Usage: "overwrite an existing ferry.yaml"},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() > 0 {
				return usagef("init takes no arguments (got %q); use -w DIR for the folder", c.Args().First())
			}
			src := c.String("source")
			if !slices.Contains(config.Sources(), src) {
				return usagef("--source %q: want one of %s", src, strings.Join(config.Sources(), ", "))
			}
			doc, err := config.Template(src)
			if err != nil {
				return err
			}
			dir := c.String("workspace")
			if err := os.MkdirAll(dir, 0o700); err != nil {
				return fmt.Errorf("create workspace folder: %w", err)
			}
			path := filepath.Join(dir, config.FileName)
			flags := os.O_WRONLY | os.O_CREATE | os.O_EXCL
			if c.Bool("force") {
				flags = os.O_WRONLY | os.O_CREATE | os.O_TRUNC
			}
			f, err := os.OpenFile(path, flags, 0o600)
			if errors.Is(err, os.ErrExist) {
				return usagef("%s exists; use --force to overwrite it", path)
			}
			if err != nil {
				return fmt.Errorf("write %s: %w", path, err)
			}
			if _, err := f.WriteString(doc); err != nil {
				f.Close()
				return fmt.Errorf("write %s: %w", path, err)
			}
			if err := f.Close(); err != nil {
				return fmt.Errorf("write %s: %w", path, err)
			}
			fmt.Fprintf(c.App.Writer, "wrote %s for %s; edit it, export the ${VAR}s it uses, then run `ferry migrate -w %s`\n", path, src, dir)
			return nil
		},
	}
}
