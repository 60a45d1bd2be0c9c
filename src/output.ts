import type { ChalkInstance } from 'chalk';

/**
 * What every layer reports through: progress, warnings, the result. The CLI
 * implements it (cli/output.ts); workflows and packing only ever see this.
 */

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

/** Runs work as a step: ✔ with `done(result)` when it ends, ✖ when it throws (Ctrl-C included). */
export async function runStep<T>(output: Output, text: string, work: (step: Step) => Promise<T>, done?: (result: T) => string): Promise<T> {
  const step = output.step(text);
  let result: T;
  try {
    result = await work(step);
  } catch (error) {
    step.fail();
    throw error;
  }
  step.succeed(done?.(result));
  return result;
}
