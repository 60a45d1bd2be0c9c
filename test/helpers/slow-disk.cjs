/**
 * Preloaded into a CLI child (NODE_OPTIONS=--require …) by the crash test: waits
 * SLOW_DISK_MS before every file copy, rename and write, so a kill at a random
 * moment lands in the folder store's write phases as often as in packing — what
 * the latency proxy does for S3. SLOW_READ_MS does the same for every whole-file
 * read (reading documents), and SLOW_STREAM_MS for every chunk a file stream
 * gives (packing large files), so Ctrl-C lands mid-stage.
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
// ESM `import { rename } from 'node:fs/promises'` sees the patched functions only after this.
syncBuiltinESMExports();
