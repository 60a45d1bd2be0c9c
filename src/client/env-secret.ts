import type { Environment } from '../environment.js';
import { envRefName } from '../env-ref.js';
import { ProtocolError } from '../protocol/errors.js';

/**
 * The value of the variable an `env:NAME` setting names, or undefined when the
 * setting is not an env reference. An unset variable is an input error naming
 * the setting and the variable, never a value. The publisher passes its run's
 * environment; an app may rely on the process's.
 */
export function readEnvSecret(spec: string, setting: string, expected: string, env: Environment = process.env): { name: string; value: string } | undefined {
  if (!spec.startsWith('env:')) return undefined;
  const name = envRefName(spec);
  if (!name) throw new ProtocolError(`${setting}: "${spec}" is not a valid env:NAME reference; use letters, digits and _ in the variable name`, 'input');
  const value = env[name];
  if (!value?.trim()) throw new ProtocolError(`${setting}: environment variable ${name} is not set; export it with ${expected}`, 'input');
  return { name, value };
}
