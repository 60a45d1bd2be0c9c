import { spawn } from 'node:child_process';
import { parseAccessCredential } from '../../protocol/private-access.js';
import { ProtocolError } from '../errors.js';
import type { CredentialsCallback } from './private-access.js';

/** A credentials command prints one small JSON document; more is not a credential. */
const MAX_OUTPUT_BYTES = 64 * 1024;
/** A backend call behind a login takes seconds; a command that hangs must not hold the device. */
const COMMAND_TIMEOUT_MS = 60_000;

/**
 * A credentials callback that runs a shell command (`fetch
 * --credentials-command`) and parses what it prints: the output of
 * `update-publish access sign --json`. The command is named in messages by
 * its first word only (the rest may carry a token); its output never is.
 */
export function credentialsFromCommand(command: string, options: { cwd?: string; env?: Readonly<Record<string, string | undefined>> } = {}): CredentialsCallback {
  const name = `credentials command '${(command.trim().split(/\s+/)[0] ?? '').replace(/^['"]|['"]$/g, '')}'`;
  return () =>
    new Promise((resolve, reject) => {
      const child = spawn(command, { shell: true, cwd: options.cwd, env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'ignore'] });
      const chunks: Buffer[] = [];
      let size = 0;
      let failure: string | undefined;
      const timer = setTimeout(() => {
        failure = `did not finish within ${COMMAND_TIMEOUT_MS / 1000} s`;
        child.kill('SIGKILL');
      }, COMMAND_TIMEOUT_MS);
      child.stdout!.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_OUTPUT_BYTES) {
          failure ??= `printed more than ${MAX_OUTPUT_BYTES / 1024} KiB`;
          child.kill('SIGKILL');
        } else chunks.push(chunk);
      });
      child.on('error', (error) => {
        failure ??= `could not start (${(error as NodeJS.ErrnoException).code ?? error.message})`;
      });
      child.on('close', (code, signal) => {
        clearTimeout(timer);
        const fail = (why: string) => reject(new ProtocolError(`${name} ${why}; run it yourself to see why (it must print what 'update-publish access sign --json' prints)`));
        if (failure) return fail(failure);
        if (code !== 0) return fail(signal ? `was killed by ${signal}` : `failed (exit ${code})`);
        let printed: unknown;
        try {
          printed = JSON.parse(Buffer.concat(chunks).toString('utf8'));
        } catch {
          return fail('printed something that is not JSON');
        }
        const credential = parseAccessCredential(printed);
        if (typeof credential === 'string') return fail(`printed JSON that is not a credential: ${credential}`);
        resolve(credential);
      });
    });
}
