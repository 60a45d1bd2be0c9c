/**
 * Every secret value this run has read (env:NAME values it resolved, keys it
 * loaded, webhook headers): whatever path a value later takes to the output
 * (a hook's reply or output, an error, --json), it is printed masked. Values
 * only accumulate: a secret stays one for the rest of the process.
 */
const known = new Set<string>();

/** Shorter values carry no secret worth hiding and would mangle every message. */
const MIN_SECRET_LENGTH = 6;
/** A line of a multi-line secret (a PEM body) counts alone from this length: hooks print output line by line. */
const MIN_LINE_LENGTH = 16;

export function rememberSecret(value: string | undefined): void {
  if (!value || value.trim().length < MIN_SECRET_LENGTH) return;
  const forms = [value, value.trim(), JSON.stringify(value).slice(1, -1), encodeURIComponent(value)];
  for (const line of value.split(/\r?\n/)) {
    // The PEM armour lines are public text, the base64 between them is the key.
    if (line.trim().length >= MIN_LINE_LENGTH && !line.startsWith('-----')) forms.push(line.trim());
  }
  for (const form of forms) if (form.length >= MIN_SECRET_LENGTH) known.add(form);
}

/** Replaces every remembered secret in text with [redacted], longest first (so a secret holding another goes whole). */
export function maskSecrets(text: string): string {
  if (known.size === 0) return text;
  let masked = text;
  for (const secret of [...known].sort((a, b) => b.length - a.length)) {
    if (masked.includes(secret)) masked = masked.split(secret).join('[redacted]');
  }
  return masked;
}
