import { userInfo } from 'node:os';

/** The operating-system user running this process. */
export function osUser(): string {
  try {
    return userInfo().username;
  } catch {
    return 'unknown';
  }
}

/** Who acts in a CLI run: CI's actor when the run's environment names one, else the local user (the console names its own). */
export function actorFrom(env: Readonly<Record<string, string | undefined>>): string {
  return env.GITHUB_ACTOR || env.GITLAB_USER_LOGIN || env.BUILD_USER_ID || osUser();
}
