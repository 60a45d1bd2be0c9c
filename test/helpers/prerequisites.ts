/**
 * The one probe of the programs the tests run for real (moto_server, tmux,
 * Java, zstd, unzip, Python's botocore signer). A missing one fails the run with the command that
 * installs it: always for moto (the integration and e2e tiers need it), and
 * under CI for the rest; on a developer's machine their tests are skipped.
 * `.ci/run` installs the Debian packages itself when it runs as root.
 */
import { spawnSync } from 'node:child_process';

const runs = (command: string, args: string[]) => spawnSync(command, args, { stdio: 'ignore' }).status === 0;

export interface Prerequisite {
  name: string;
  installed: boolean;
  /** What the tests need it for, and how to install it. */
  hint: string;
}

const probe = (name: string, installed: () => boolean, hint: string): Prerequisite => {
  let cached: boolean | undefined;
  return {
    name,
    get installed() {
      return (cached ??= installed());
    },
    hint,
  };
};

export const MOTO = probe('moto_server', () => runs('moto_server', ['--help']), 'moto_server is not installed, and the S3 and AWS tests need it: pip install "moto[server]" (npm run test:unit runs the unit tests alone)');
export const TMUX = probe('tmux', () => runs('tmux', ['-V']), 'tmux is required under CI: Ctrl-C and prompts are tested at a real terminal (apt-get install tmux)');
export const JAVA = probe(
  'java',
  () => runs('java', ['-version']) && runs('javac', ['-version']),
  'java 17 or newer (a JDK: java and javac) is required under CI for the Java client and the Android zip reader (apt-get install openjdk-17-jdk-headless)',
);
export const ZSTD = probe('zstd', () => runs('zstd', ['--version']), 'zstd is required under CI: patches are checked against the reference zstd command (apt-get install zstd)');
export const UNZIP = probe('unzip', () => runs('unzip', ['-v']), 'unzip is required under CI: packages must pass Info-ZIP\'s own test (apt-get install unzip)');

export const BOTOCORE_SIGNER = probe(
  'botocore',
  () => runs('python3', ['-c', 'import botocore.signers, cryptography']),
  "python3 with botocore and cryptography is required under CI: serve --private is checked against botocore's CloudFrontSigner (pip install \"moto[server]\" cryptography)",
);

export const PROGRAMS = [TMUX, JAVA, ZSTD, UNZIP, BOTOCORE_SIGNER];

export const inCi = () => process.env.CI === 'true' || process.env.CI === '1';

/** The programs missing where they are required: moto always, the rest under CI. */
export function missingPrerequisites(ci = inCi()): Prerequisite[] {
  return [MOTO, ...(ci ? PROGRAMS : [])].filter((program) => !program.installed);
}
