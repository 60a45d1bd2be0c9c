/** Environment variables whose values must never reach output. */
const SECRET_NAME = /SECRET|TOKEN|PASSWORD|PASSWD|PRIVATE|CREDENTIAL|(^|_)KEY($|_)|SIGNATURE/i;
const MIN_SECRET_LENGTH = 6;

let secrets: string[] | undefined;

/** Masks every secret-looking environment value in text headed for the terminal or JSON. */
export function redactSecrets(text: string): string {
  secrets ??= Object.entries(process.env)
    .filter(([name, value]) => SECRET_NAME.test(name) && value && value.length >= MIN_SECRET_LENGTH)
    .map(([, value]) => value!)
    .sort((a, b) => b.length - a.length);
  let redacted = text;
  for (const secret of secrets) redacted = redacted.split(secret).join('[redacted]');
  return redacted;
}
