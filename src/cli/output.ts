import { Chalk } from 'chalk';
import { escapeControls, formatDuration } from '../format.js';
import type { Output, Step } from '../output.js';
import { isFlagSet } from '../environment.js';
import type { Session } from './session.js';

export type { Output, Step } from '../output.js';

export interface OutputOptions {
  json?: boolean;
  quiet?: boolean;
  debug?: boolean;
}

/**
 * The one logger of a run. Logs go to stderr, the result to stdout, so
 * `--json` stdout is always exactly one parseable document.
 */
export function createOutput(options: OutputOptions, session: Session): Output {
  const { io, terminal, redact, env } = session;
  const json = Boolean(options.json);
  const colorLevel = isFlagSet(env, 'NO_COLOR') ? 0 : isFlagSet(env, 'FORCE_COLOR') ? 1 : terminal ? 1 : 0;
  const color = new Chalk({ level: colorLevel });
  const interactive = terminal && Boolean(io.stdin.isTTY) && !json;
  // A terminal reporting 0 columns (or none) sends ora into an endless redraw loop: plain lines there.
  const spinners = session.ora !== undefined && Boolean(io.stderr.columns) && !json && !options.quiet;
  // Whatever a line carries (stored notes, a hook's output), only this run's own colours reach the terminal.
  const printable = (text: string) => escapeControls(redact(text), colorLevel > 0);
  const log = (line: string) => io.stderr.write(`${printable(line)}\n`);

  // Every finished step says how long it took.
  const timed = (started: number, text: string) => `${text} ${color.dim(`(${formatDuration(Date.now() - started)})`)}`;
  const plainStep = (text: string): Step => {
    const started = Date.now();
    if (!options.quiet) log(`${color.dim('…')} ${text}`);
    return {
      update() {},
      succeed: (done) => !options.quiet && log(`${color.green('✔')} ${timed(started, done ?? text)}`),
      fail: (failed) => log(`${color.red('✖')} ${timed(started, failed ?? text)}`),
    };
  };
  const spinnerStep = (text: string): Step => {
    const started = Date.now();
    // discardStdin off: ora's discarder puts the terminal in raw mode (-isig), where Ctrl-C is
    // no signal but a byte it never reads; the terminal must keep sending SIGINT.
    const spinner = session.ora!({ text, stream: io.stderr, color: colorLevel ? 'cyan' : (false as never), discardStdin: false }).start();
    return {
      update: (next) => void (spinner.text = next),
      succeed: (done) => void spinner.succeed(timed(started, done ?? spinner.text)),
      fail: (failed) => void spinner.fail(timed(started, failed ?? spinner.text)),
    };
  };

  return {
    json,
    interactive,
    color,
    info: (message) => !options.quiet && log(message),
    warn: (message) => log(color.yellow(`warning: ${message}`)),
    debug: (message) => options.debug && log(color.dim(message)),
    step: spinners ? spinnerStep : plainStep,
    result(document, renderHuman) {
      if (json) io.stdout.write(`${redact(JSON.stringify(document, null, 2))}\n`);
      // --quiet drops progress and info, never the result.
      else io.stdout.write(`${printable(renderHuman())}\n`);
    },
  };
}
