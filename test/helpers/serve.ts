/**
 * `update-publish serve` as a child process, for tests that point devices
 * (fetch --from, the Java client) at it: `startServe(cwd, args)` resolves with
 * the base URL once the server printed it; `stop(signal)` ends it and
 * resolves with its exit code and output.
 */
import { spawnCli, type RunningCli } from './spawn-cli.js';

export interface ServeProcess {
  url: string;
  running: RunningCli;
  stop(signal?: NodeJS.Signals): RunningCli['done'];
}

export async function startServe(cwd: string, args: string[] = []): Promise<ServeProcess> {
  const running = spawnCli(['serve', '--port', '0', ...args], { cwd });
  const url = await new Promise<string>((resolve, reject) => {
    let stdout = '';
    running.child.stdout!.on('data', (chunk: Buffer) => {
      stdout += chunk.toString('utf8');
      const line = /^(http:\/\/\S+)\n/.exec(stdout);
      if (line) resolve(line[1]);
    });
    running.done.then(({ code, stderr }) => reject(new Error(`serve exited ${code} before printing its URL:\n${stderr}`)));
  });
  return {
    url,
    running,
    stop(signal = 'SIGINT') {
      running.child.kill(signal);
      return running.done;
    },
  };
}
