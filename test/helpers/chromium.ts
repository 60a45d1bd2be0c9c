/**
 * The browser the console's tests drive: Debian's chromium (this network
 * cannot download playwright's own build). Missing, the test file fails with
 * the command that installs it, never a silent skip.
 */
import { existsSync } from 'node:fs';

const CANDIDATES = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser'].filter((path): path is string => Boolean(path));

export const CHROMIUM_MISSING = 'chromium is not installed, and the console tests drive it: apt-get install chromium (Debian/Ubuntu), or set CHROMIUM_PATH to a Chromium or Chrome binary';

function findChromium(): string {
  const found = CANDIDATES.find((path) => existsSync(path));
  if (!found) throw new Error(CHROMIUM_MISSING);
  return found;
}

export const CHROMIUM = findChromium();
