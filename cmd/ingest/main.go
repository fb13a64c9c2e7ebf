// Command ingest is the HTTP front door of the platform.
//
//	ingest serve   serve POST /face-liveness-sdk/v1/check_liveness
//	ingest send    stream a folder of captures through the HTTP API (also the load generator)
package main

import "liveness/internal/cli"

// commands is filled by each subcommand's file.
var commands = map[string]cli.Command{}

func main() { cli.Main("ingest", commands) }
