// Loaded with `node --import` when GNU time is missing: writes this process's
// CPU time and peak RSS where the benchmark asked, as it exits.
import { writeFileSync } from 'node:fs';

const target = process.env.BENCH_RUSAGE_FILE;
if (target) process.on('exit', () => writeFileSync(target, JSON.stringify(process.resourceUsage())));
