/**
 * The program: the process's streams, its signals and its exit. Everything
 * else is a session (run.ts), which tests drive in-process.
 */
import { ExitCode } from '../errors.js';
import { renderError } from './errors.js';
import { interruptedError, runSession, wantsJson } from './run.js';
import { createSession } from './session.js';

// The SDK's once-per-run Node 20 notice is noise on every command's stderr.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const args = process.argv.slice(2);
// The process entry: the one place the process's own folder and environment are read.
const session = await createSession({ stdout: process.stdout, stderr: process.stderr, stdin: process.stdin }, { cwd: process.cwd(), env: process.env });

// Ctrl-C / SIGTERM: in-flight uploads are aborted and no further write lands before the index
// (see interruptible-store). A request stalled on the network may never notice: once the grace
// period is over the process stops anyway, as a second Ctrl-C does at once. Writes are atomic,
// so stopping mid-way never leaves half an object.
const INTERRUPT_GRACE_MS = 5000;
let interrupted = 0;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (++interrupted > 1) process.exit(ExitCode.interrupted);
    const error = Object.assign(interruptedError(session, signal), { signalName: signal });
    session.interruption.abort(error);
    setTimeout(() => {
      renderError(interruptedError(session, signal), { json: wantsJson(args) }, session);
      process.exit(ExitCode.interrupted);
    }, INTERRUPT_GRACE_MS).unref();
  });
}

// A reader that went away (`| head`) is not our failure: stop writing to it, keep the exit code.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE' && error.code !== 'ERR_STREAM_DESTROYED') throw error;
  });
}

const exitCode = await runSession(args, session);
await drained(process.stdout);
await drained(process.stderr);
process.exit(exitCode);

/** Resolves once everything written to the stream has been handed to the OS (a slow pipe reader included). */
async function drained(stream: NodeJS.WriteStream): Promise<void> {
  if (stream.destroyed) return;
  if (stream.writableNeedDrain) await new Promise((done) => stream.once('drain', done).once('close', done));
  await new Promise<void>((done) => stream.write('', () => done()));
}
