#!/usr/bin/env node
// Thin launcher: the CLI lives in the compiled library (built by `npm install` through the `prepare` script).
import { main } from '../dist/cli/main.js';

process.exitCode = await main(process.argv.slice(2));
