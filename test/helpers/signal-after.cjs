/**
 * Preloaded into a CLI child (NODE_OPTIONS=--require …): sends the process
 * SIGINT, as Ctrl-C would, the moment a rename lands on exactly
 * SIGINT_AFTER_RENAME (e.g. a fetch's install folder: the swap is done), or a
 * folder whose path contains SIGINT_AFTER_MKDIR is made (e.g. a package's
 * version folder under pack --out), so a test can interrupt a run at one
 * exact step.
 */
const fsPromises = require('node:fs/promises');
const { resolve } = require('node:path');
const { syncBuiltinESMExports } = require('node:module');

const afterRename = process.env.SIGINT_AFTER_RENAME && resolve(process.env.SIGINT_AFTER_RENAME);
const afterMkdir = process.env.SIGINT_AFTER_MKDIR;
const rename = fsPromises.rename;
fsPromises.rename = async (from, to) => {
  await rename(from, to);
  if (afterRename && resolve(String(to)) === afterRename) process.kill(process.pid, 'SIGINT');
};
const mkdir = fsPromises.mkdir;
fsPromises.mkdir = async (path, options) => {
  const made = await mkdir(path, options);
  if (afterMkdir && String(path).replaceAll('\\', '/').includes(afterMkdir)) process.kill(process.pid, 'SIGINT');
  return made;
};
syncBuiltinESMExports();
