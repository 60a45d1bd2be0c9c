#!/usr/bin/env node
// A one-line launcher. In a clone before its first build there is no dist/:
// say what to run instead of Node's stack trace for a missing module.
import { existsSync } from 'node:fs';

const main = new URL('../dist/cli/main.js', import.meta.url);
if (!existsSync(main)) {
  process.stderr.write("error: update-publish is not built in this folder yet: run 'npm run build', then the command again\n");
  process.exit(1);
}
await import(main.href);
