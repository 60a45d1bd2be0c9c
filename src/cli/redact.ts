import type { Environment } from '../environment.js';
import { maskSecrets } from '../secrets.js';

/** Environment variables whose values must never reach output. */
const SECRET_NAME = /SECRET|TOKEN|PASSWORD|PASSWD|PRIVATE|CREDENTIAL|(^|_)KEY($|_)|SIGNATURE/i;
const MIN_SECRET_LENGTH = 6;
const URL_CREDENTIALS = /\b([a-z][a-z0-9+.-]*:\/\/)[^/\s@]+@/gi;

/** Masks every secret-looking value of `env` in text headed for the terminal or JSON. */
export function secretRedactor(env: Environment): (text: string) => string {
  const secrets = Object.entries(env)
    .filter(([name, value]) => SECRET_NAME.test(name) && value && value.length >= MIN_SECRET_LENGTH)
    .map(([, value]) => value!)
    .sort((a, b) => b.length - a.length);
  return (text) => {
    // Credentials inside a URL (https://user:password@host) are secrets wherever they come from.
    let redacted = text.replace(URL_CREDENTIALS, '$1[redacted]@');
    for (const secret of secrets) redacted = redacted.split(secret).join('[redacted]');
    // And every value the run read as a secret, whatever its variable's name (see ../secrets.ts).
    return maskSecrets(redacted);
  };
}
