#!/usr/bin/env node
import { processContext } from './context.js';
import { runCli } from './program.js';

// The bin entry: everything else lives in program.ts so tests can run commands in-process.
const code = await runCli(process.argv.slice(2), processContext());
process.exitCode = code;
