/**
 * Values written `env:NAME` are read from the environment when used, so
 * secrets live in the CI's secret store and never in a config file or argv.
 */
export const ENV_REF_PATTERN = /^env:([A-Za-z_][A-Za-z0-9_]*)$/;

/** The variable a value refers to, or undefined when the value is a literal. */
export function envRefName(value: string): string | undefined {
  return ENV_REF_PATTERN.exec(value)?.[1];
}
