import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { CreateTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { fileURLToPath } from 'node:url';

const FAITHFUL_KMS_LAUNCHER = fileURLToPath(new URL('./moto-kms.py', import.meta.url));

/** A real local AWS (moto_server: S3, CloudFront, SNS, SQS, SES, DynamoDB) on a free loopback port. */
export interface Moto {
  endpoint: string;
  /** Environment for the CLI and SDK clients: dummy credentials, region, no shared config. */
  env: Record<string, string>;
  reset(): Promise<void>;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

async function waitReady(endpoint: string, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`moto_server exited with code ${child.exitCode}`);
    try {
      const response = await fetch(`${endpoint}/moto-api/`);
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('moto_server did not become ready within 30 s');
}

/**
 * Starts moto_server. The integration and e2e tiers require it installed
 * (require-servers.ts fails the run with the command to install it).
 */
export async function startMoto(options: { authAfterActions?: number; faithfulKms?: boolean } = {}): Promise<Moto> {
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  const address = ['-H', '127.0.0.1', '-p', String(port)];
  // faithfulKms: KMS Sign honours MessageType DIGEST and the 4096-byte RAW limit, and Ed25519 keys exist, as AWS documents (moto-kms.py).
  const [program, args] = options.faithfulKms ? ['python3', [FAITHFUL_KMS_LAUNCHER, ...address]] : ['moto_server', address];
  const child = spawn(program, args, {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: {
      ...process.env,
      MOTO_ALLOW_NONEXISTENT_REGION: 'true',
      // moto checks credentials only after this many unauthenticated actions (enough to create a user and key).
      ...(options.authAfterActions !== undefined && { INITIAL_NO_AUTH_ACTION_COUNT: String(options.authAfterActions) }),
    },
  });
  let stderr = '';
  child.stderr?.on('data', (chunk) => {
    stderr = (stderr + chunk).slice(-4000);
  });
  try {
    await waitReady(endpoint, child);
  } catch (error) {
    child.kill('SIGKILL');
    throw new Error(`${(error as Error).message}\n${stderr}`);
  }
  return {
    endpoint,
    env: {
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
      AWS_REGION: 'us-east-1',
      AWS_EC2_METADATA_DISABLED: 'true',
      AWS_CONFIG_FILE: '/dev/null',
      AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
    },
    async reset() {
      await fetch(`${endpoint}/moto-api/reset`, { method: 'POST' });
    },
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** One IAM query call to moto (it ignores the signature of the calls it lets through unauthenticated). */
export async function motoIam(moto: Moto, params: Record<string, string>): Promise<string> {
  const response = await fetch(moto.endpoint, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      host: 'iam.amazonaws.com',
      authorization: 'AWS4-HMAC-SHA256 Credential=test/20250101/us-east-1/iam/aws4_request, SignedHeaders=host, Signature=0',
    },
    body: new URLSearchParams({ Version: '2010-05-08', ...params }),
  });
  return response.text();
}

/** A pay-per-request DynamoDB table keyed by two string attributes, as the dynamodb hook expects. */
export async function createKeyedTable(client: DynamoDBClient, table: string, partitionKey = 'package', sortKey = 'sk'): Promise<void> {
  await client.send(
    new CreateTableCommand({
      TableName: table,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [
        { AttributeName: partitionKey, AttributeType: 'S' },
        { AttributeName: sortKey, AttributeType: 'S' },
      ],
      KeySchema: [
        { AttributeName: partitionKey, KeyType: 'HASH' },
        { AttributeName: sortKey, KeyType: 'RANGE' },
      ],
    }),
  );
}
