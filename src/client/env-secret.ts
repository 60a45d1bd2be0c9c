import { UserError } from '../errors.js';
import { envRefName } from '../config/env-refs.js';

/**
 * The value of the variable an `env:NAME` setting names, or undefined when the
 * setting is not an env reference. An unset variable is a UserError naming
 * the setting and the variable, never a value.
 */
export function readEnvSecret(spec: string, setting: string, expected: string): { name: string; value: string } | undefined {
  if (!spec.startsWith('env:')) return undefined;
  const name = envRefName(spec);
  if (!name) throw new UserError(`${setting}: "${spec}" is not a valid env:NAME reference; use letters, digits and _ in the variable name`);
  const value = process.env[name];
  if (!value?.trim()) throw new UserError(`${setting}: environment variable ${name} is not set; export it with ${expected}`);
  return { name, value };
}
