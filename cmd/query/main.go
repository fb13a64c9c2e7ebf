// Command query is the read side of the platform: the ClickHouse migrations,
// the results sink, the query HTTP API, and a dev-token helper.
//
//	query migrate   apply the ClickHouse migrations
//	query sink      consume results into ClickHouse
//	query serve     serve the query API
//	query token     print a short-lived dev token (dev mode only)
package main

import "liveness/internal/cli"

// commands is filled by each subcommand's file, so adding one touches one file.
var commands = map[string]cli.Command{}

func main() { cli.Main("query", commands) }
