import { Chalk, type ChalkInstance } from 'chalk';
import type { Ora } from 'ora';
import { formatDuration } from '../format.js';
import { redactSecrets } from './redact.js';

export interface OutputOptions {
  json?: boolean;
  quiet?: boolean;
  debug?: boolean;
}

/** A long piece of work: a spinner at a terminal, plain lines elsewhere (no frames in CI logs). */
export interface Step {
  update(text: string): void;
  succeed(text?: string): void;
  fail(text?: string): void;
}

export interface Output {
  readonly json: boolean;
  /** A person at a terminal who can answer prompts. */
  readonly interactive: boolean;
  readonly color: ChalkInstance;
  info(message: string): void;
  warn(message: string): void;
  debug(message: string): void;
  step(text: string): Step;
  /** The command's result: one JSON document on stdout with --json, else the human rendering. */
  result(document: unknown, renderHuman: () => string): void;
}

const isSet = (name: string) => Boolean(process.env[name]) && process.env[name] !== '0' && process.env[name] !== 'false';

/** A person watching: both streams on a terminal, not CI. Spinners and colour are for them only. */
const terminal = Boolean(process.stdout.isTTY && process.stderr.isTTY) && !isSet('CI') && process.env.TERM !== 'dumb';

// Loaded only where a spinner can show: CI logs and pipes never pay for it.
const ora = terminal ? (await import('ora')).default : undefined;

/**
 * The one logger of the program. Logs go to stderr, the result to stdout, so
 * `--json` stdout is always exactly one parseable document.
 */
export function createOutput(options: OutputOptions): Output {
  const json = Boolean(options.json);
  const colorLevel = isSet('NO_COLOR') ? 0 : isSet('FORCE_COLOR') ? 1 : terminal ? 1 : 0;
  const color = new Chalk({ level: colorLevel });
  const interactive = terminal && Boolean(process.stdin.isTTY) && !json;
  // A terminal reporting 0 columns (or none) sends ora into an endless redraw loop: plain lines there.
  const spinners = ora !== undefined && Boolean(process.stderr.columns) && !json && !options.quiet;
  const log = (line: string) => process.stderr.write(`${redactSecrets(line)}\n`);

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
    const spinner: Ora = ora!({ text, stream: process.stderr, color: colorLevel ? 'cyan' : false as never }).start();
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
      if (json) process.stdout.write(`${redactSecrets(JSON.stringify(document, null, 2))}\n`);
      // --quiet drops progress and info, never the result.
      else process.stdout.write(`${redactSecrets(renderHuman())}\n`);
    },
  };
}
