import { loadDotEnv } from './dotenv';
import { DEFAULT_TRIGGER_CONCURRENCY, startEmbeddedStack } from './embedded-stack';

/** `npm start`: the whole service on this machine until Ctrl-C. */
async function main() {
  if (loadDotEnv(process.cwd())) console.log('Read .env');
  const numberFromEnv = (name: string) => (process.env[name] === undefined ? undefined : Number(process.env[name]));
  console.log('Starting the embedded stack (DynamoDB Local, SQS emulator, a local EventBridge, serverless-offline)...');
  const stack = await startEmbeddedStack({
    port: numberFromEnv('PORT') ?? 3000,
    dynamoDbPort: numberFromEnv('DYNAMODB_PORT') ?? 8000,
    sqsPort: numberFromEnv('SQS_PORT') ?? 9324,
    maxConcurrency: numberFromEnv('LOCAL_TRIGGER_CONCURRENCY') ?? DEFAULT_TRIGGER_CONCURRENCY,
    echo: true,
    showMetrics: process.env.LOCAL_SHOW_METRICS === '1',
    triggersPaused: process.env.LOCAL_TRIGGERS === 'off',
  });
  console.log(`\nTask API ready at ${stack.apiUrl}   (Ctrl-C to stop)`);
  console.log(`Completion events published so far: ${stack.emulatorEndpoints.events}/events (?task_id= for one task's)`);
  if (process.env.LOCAL_TRIGGERS === 'off') console.log('SQS triggers paused (LOCAL_TRIGGERS=off): tasks wait for `npm run invoke:local -- -f processTasks ...`');
  console.log('Environment for `serverless invoke local` and scripts against this stack:');
  for (const [name, value] of Object.entries(stack.env)) console.log(`  ${name}=${value}`);
  console.log('');
  let stopping = false;
  const shutdown = async () => {
    if (stopping) return;
    stopping = true;
    console.log('\nStopping...');
    await stack.stop();
    process.exit(0);
  };
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
