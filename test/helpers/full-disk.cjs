/**
 * Preloaded into a CLI child (NODE_OPTIONS=--require …) to play a full disk:
 * FULL_DISK=staging fails every write to a zip in a publish staging folder,
 * FULL_DISK=store every copy into the folder store, with ENOSPC as Node
 * reports it (a write names no file; a copy names its source and dest).
 */
const fsPromises = require('node:fs/promises');
const { syncBuiltinESMExports } = require('node:module');

const enospc = (syscall, fields = {}) =>
  Object.assign(new Error(`ENOSPC: no space left on device, ${syscall}`), { code: 'ENOSPC', errno: -28, syscall, ...fields });

if (process.env.FULL_DISK === 'staging') {
  const open = fsPromises.open;
  fsPromises.open = async (path, flags, ...rest) => {
    const handle = await open(path, flags, ...rest);
    if (String(path).includes('update-publish-staging-') && flags === 'w') {
      handle.write = async () => {
        throw enospc('write');
      };
    }
    return handle;
  };
}
if (process.env.FULL_DISK === 'store') {
  fsPromises.copyFile = async (src, dest) => {
    throw enospc('copyfile', { path: String(src), dest: String(dest) });
  };
}
syncBuiltinESMExports();
