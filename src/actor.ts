import { AsyncLocalStorage } from 'node:async_hooks';
import { userInfo } from 'node:os';

/** Who a long-running process (the console) acts for in the work it runs; absent in a plain CLI run. */
const actingAs = new AsyncLocalStorage<string>();

/** Runs `work` with `actor` recorded as who acted, in history and hook events alike. */
export const withActor = <T>(actor: string, work: () => Promise<T>): Promise<T> => actingAs.run(actor, work);

/** The operating-system user running this process. */
export function osUser(): string {
  try {
    return userInfo().username;
  } catch {
    return 'unknown';
  }
}

/** Who acted: the console's actor inside its requests, else CI's actor when there is one, else the local user. */
export function currentActor(): string {
  const acting = actingAs.getStore();
  if (acting) return acting;
  const env = process.env;
  return env.GITHUB_ACTOR || env.GITLAB_USER_LOGIN || env.BUILD_USER_ID || osUser();
}
