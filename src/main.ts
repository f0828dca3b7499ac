#!/usr/bin/env node
// Entry point: `hierimpute ...`, `node dist/main.js ...`, `mpiexec -n N node dist/main.js ...`.
import { runCli } from './cli/cli.js';

await runCli(process.argv.slice(2));
