// Command coordinator submits fanin jobs, follows them, collects their
// results, and runs the coordinator daemon that reduces complete jobs and
// commits their results exactly once.
//
//	coordinator submit --kind zombies.sighting --events sightings.jsonl
//	coordinator run
//	coordinator status JOB --watch
//	coordinator collect JOB --wait --out result.json
//
// See coordinator --help and the README for every subcommand, flag,
// environment variable and exit code.
package main
