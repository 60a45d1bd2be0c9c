/**
 * Environment variables as one run sees them: the process's for the binary, a
 * test's own for an in-process run. Code below the CLI is handed one, never
 * reads `process.env`, so runs in one process never see each other's.
 */
export type Environment = Readonly<Record<string, string | undefined>>;

/** An environment flag such as CI or NO_COLOR: set, and not 0 or false. */
export const isFlagSet = (env: Environment, name: string) => Boolean(env[name]) && env[name] !== '0' && env[name] !== 'false';
