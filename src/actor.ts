import { userInfo } from 'node:os';

/** Who acted: CI's actor when there is one, else the local user. */
export function currentActor(): string {
  const env = process.env;
  const ci = env.GITHUB_ACTOR ?? env.GITLAB_USER_LOGIN ?? env.BUILD_USER_ID;
  if (ci) return ci;
  try {
    return userInfo().username;
  } catch {
    return 'unknown';
  }
}
