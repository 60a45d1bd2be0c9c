import type { Server } from 'node:http';
import { ExitCode, UserError } from '../errors.js';

/**
 * Starts a server listening; the address problems a user can fix (port in
 * use, privileged port, an address not of this machine) become one line
 * beginning with `what` ("cannot serve"), exit 1.
 */
export function listen(server: Server, { host, port }: { host: string; port: number }, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      const fixes: Record<string, string> = {
        EADDRINUSE: `port ${port} on ${host} is in use; pass --port with a free one (--port 0 picks one)`,
        EACCES: `port ${port} needs privileges on this system; pass --port 1024 or above (--port 0 picks one)`,
        EADDRNOTAVAIL: `${host} is not an address of this machine; pass --host 127.0.0.1, or 0.0.0.0 for every interface`,
        ENOTFOUND: `${host} is not an address of this machine; pass --host 127.0.0.1, or 0.0.0.0 for every interface`,
      };
      reject(error.code && fixes[error.code] ? new UserError(`${what}: ${fixes[error.code]}`, ExitCode.failure) : error);
    });
    server.listen(port, host, () => resolve());
  });
}
