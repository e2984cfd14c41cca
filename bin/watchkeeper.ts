#!/usr/bin/env node
/** Entry point of `npx watchkeeper`; the logic is in cli.ts so tests run it in-process. */
import { main } from './cli.ts';

const status = await main(process.argv.slice(2), {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  env: process.env,
});
process.exitCode = status;
