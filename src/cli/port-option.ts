import { UserError } from '../errors.js';

/** A --port flag: 0–65535, where 0 lets the system pick a free port (serve, console). */
export function portOf(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) > 65535) throw new UserError(`--port '${value}' is not a port number (0–65535; 0 picks a free one)`);
  return Number(value);
}
