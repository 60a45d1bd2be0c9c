/**
 * Preloaded into a CLI child (NODE_OPTIONS=--require …): SIGKILLs the process
 * the moment a folder-store write lands on a path containing KILL_AFTER_WRITE
 * (e.g. channels/production/index.json), so a test can stop a run exactly
 * after its index write, as a crash or a CI timeout would.
 */
const fsPromises = require('node:fs/promises');
const { syncBuiltinESMExports } = require('node:module');

const target = process.env.KILL_AFTER_WRITE;
const rename = fsPromises.rename;
fsPromises.rename = async (from, to) => {
  await rename(from, to);
  if (target && String(to).replaceAll('\\', '/').includes(target)) process.kill(process.pid, 'SIGKILL');
};
syncBuiltinESMExports();
