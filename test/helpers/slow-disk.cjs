/**
 * Preloaded into a CLI child (NODE_OPTIONS=--require …) by the crash test: waits
 * SLOW_DISK_MS before every file copy, rename and write, so a kill at a random
 * moment lands in the folder store's write phases as often as in packing — what
 * the latency proxy does for S3. SLOW_READ_MS does the same for every whole-file
 * read (reading documents), SLOW_STREAM_MS for every chunk a file stream
 * gives (packing large files), and SLOW_READ_SYNC_MS for every blocking read
 * (hashing), so Ctrl-C lands mid-stage and progress can be watched moving.
 * Semantics are unchanged; only time stretches.
 */
const fsPromises = require('node:fs/promises');
const { syncBuiltinESMExports } = require('node:module');

const slowDown = (name, delayMs) => {
  const original = fsPromises[name];
  fsPromises[name] = async (...args) => {
    await new Promise((resolve) => setTimeout(resolve, delayMs));
    return original(...args);
  };
};
for (const name of ['copyFile', 'rename', 'writeFile']) slowDown(name, Number(process.env.SLOW_DISK_MS ?? 0));
if (process.env.SLOW_READ_MS) slowDown('readFile', Number(process.env.SLOW_READ_MS));
if (process.env.SLOW_STREAM_MS) {
  const fs = require('node:fs');
  const { Transform } = require('node:stream');
  const createReadStream = fs.createReadStream;
  fs.createReadStream = (...args) => {
    const delayMs = Number(process.env.SLOW_STREAM_MS);
    const slowed = new Transform({ transform: (chunk, _encoding, callback) => setTimeout(() => callback(null, chunk), delayMs) });
    const source = createReadStream(...args);
    source.on('error', (error) => slowed.destroy(error));
    slowed.on('close', () => source.destroy());
    return source.pipe(slowed);
  };
}
if (process.env.SLOW_READ_SYNC_MS) {
  // Blocking reads (hashing on worker threads, which load this too): a blocking sleep before each.
  const fs = require('node:fs');
  const readSync = fs.readSync;
  const sleeper = new Int32Array(new SharedArrayBuffer(4));
  fs.readSync = (...args) => {
    Atomics.wait(sleeper, 0, 0, Number(process.env.SLOW_READ_SYNC_MS));
    return readSync(...args);
  };
}
// ESM `import { rename } from 'node:fs/promises'` sees the patched functions only after this.
syncBuiltinESMExports();
