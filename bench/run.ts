import { mkdirSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { startEmbeddedStack, type EmbeddedStack } from '../local/embedded-stack';
import { ConfigSchema } from '#lib/config';
import { renderChart } from './chart';
import { projectCost, PRICES } from './cost';
import { log, type BenchSettings } from './common';
import { STACK_PROCESSES, watchMemory } from './memory';
import { measureAbort } from './phases/abort';
import { measureBurst } from './phases/burst';
import { measureCapacity } from './phases/capacity';
import { measureCounts } from './phases/counts';
import { measureDashboard } from './phases/dashboard';
import { measurePriority } from './phases/priority';
import { measureEndToEnd } from './phases/end-to-end';
import { measureLimit, measureLimitInFlight } from './phases/limit';
import { measureProcessorBatch } from './phases/processor';
import { drain, measureSubmit } from './phases/submit';

/**
 * `npm run bench`: the service's throughput, latency and AWS requests per task, measured against
 * the embedded stack (or, with --endpoint, only the API parts against another deployment).
 * Prints progress and a summary table; writes bench/results/<timestamp>.json and .svg (chart).
 */
const { values: args } = parseArgs({
  options: {
    tasks: { type: 'string', default: '2000' },
    'work-ms': { type: 'string', default: '3000' },
    concurrency: { type: 'string', default: '50' },
    endpoint: { type: 'string' },
    'phase-seconds': { type: 'string', default: '4' },
    /** End-to-end runs in the same stack: the first meets cold function instances, the next ones warm ones. */
    rounds: { type: 'string', default: '1' },
    /** Comma-separated: burst, limit, in-flight, end-to-end, processor, submit, capacity, abort, priority, counts, dashboard. */
    phases: { type: 'string', default: 'burst,limit,in-flight,end-to-end,processor,submit,capacity,abort,priority,counts,dashboard' },
    /** The burst phase's sizes: that many single submits at once, each against a freshly started stack. */
    burst: { type: 'string', default: '100,500' },
  },
});
const PHASES = new Set(args.phases!.split(','));
const settings: BenchSettings = {
  tasks: Number(args.tasks),
  workMs: Number(args['work-ms']),
  concurrency: Number(args.concurrency),
  phaseMs: Number(args['phase-seconds']) * 1000,
  warmupMs: 1_000,
};
const { tasks: TASKS, workMs: WORK_MS, concurrency: TRIGGER_CONCURRENCY, phaseMs: PHASE_MS } = settings;
/** The processor's cancel poll interval, as the stack's functions read it: the cost model needs it. */
const CANCEL_POLL_MS = ConfigSchema.shape.CANCEL_POLL_MS.parse(process.env.CANCEL_POLL_MS);

interface Target {
  name: string;
  target: string;
  measured: string;
  met: boolean | null;
}

async function main() {
  const startedAt = new Date();
  let stack: EmbeddedStack | undefined;
  let apiUrl = args.endpoint;
  // Each burst meets a stack of its own, started with `npm start`'s settings, before anything else runs.
  const bursts = [];
  for (const requests of !apiUrl && PHASES.has('burst') ? args.burst!.split(',').map(Number) : []) {
    bursts.push(await measureBurst(requests, { workMs: WORK_MS, logLevel: 'ERROR' }));
  }
  const needsStack = [...PHASES].some((phase) => phase !== 'burst');
  if (!apiUrl && needsStack) {
    log(`starting the embedded stack (TASK_WORK_MS ${WORK_MS}, trigger concurrency ${TRIGGER_CONCURRENCY} batches)...`);
    stack = await startEmbeddedStack({ workMs: WORK_MS, maxConcurrency: TRIGGER_CONCURRENCY, logLevel: 'ERROR', echo: process.env.BENCH_ECHO === '1' });
    apiUrl = stack.apiUrl;
  }
  const memory = stack ? watchMemory(stack.processes, STACK_PROCESSES) : undefined;
  try {
    const limit = stack && PHASES.has('limit') ? await measureLimit(stack, settings) : undefined;
    const limitInFlight = stack && PHASES.has('in-flight') ? await measureLimitInFlight(stack, settings) : undefined;
    const endToEndRounds: Array<Awaited<ReturnType<typeof measureEndToEnd>>> = [];
    for (let round = 1; stack && PHASES.has('end-to-end') && round <= Number(args.rounds); round++) {
      const result = await measureEndToEnd(stack, settings);
      log(`end to end, round ${round} (${round === 1 ? 'a fresh stack' : 'the same stack again'}): ${result.wallSeconds.toFixed(1)} s`);
      endToEndRounds.push(result);
    }
    // The figures that follow are the last round's: with more than one, warm instances, as in steady use.
    const endToEnd = endToEndRounds.at(-1);
    const processorBatch = stack && PHASES.has('processor') ? await measureProcessorBatch(stack, settings) : undefined;
    const processorBatchOf100 = stack && PHASES.has('processor') ? await measureProcessorBatch(stack, settings, 100) : undefined;
    const submits = [];
    for (const batch of PHASES.has('submit') ? [false, true] : []) {
      for (const connections of apiUrl ? [1, 10, 50] : []) {
        // The processor would compete with the API for this machine's two cores; on AWS they share nothing.
        stack?.pauseTriggers();
        const result = await measureSubmit(apiUrl!, connections, batch, settings);
        stack?.resumeTriggers();
        const leftAfterDrain = stack ? await drain(apiUrl!) : 0;
        submits.push({ ...result, leftAfterDrain });
      }
    }
    const capacity = stack && PHASES.has('capacity') ? await measureCapacity(stack) : undefined;
    const abort = stack && PHASES.has('abort') ? await measureAbort(stack) : undefined;
    const priority = stack && PHASES.has('priority') ? await measurePriority(stack) : undefined;
    const counts = stack && PHASES.has('counts') ? await measureCounts(stack) : undefined;
    const stamp = startedAt.toISOString().replace(/[:.]/g, '-');
    mkdirSync('bench/results', { recursive: true });
    // Last: it leaves 100,000 tasks in the stack's table.
    const dashboard = stack && PHASES.has('dashboard') ? await measureDashboard(stack, `bench/results/${stamp}-dashboard.png`) : undefined;
    // SQS requests per task with single submits: one send per task plus the trigger's receive and delete.
    const singleSqs = endToEnd ? 1 + (endToEnd.requestsPerTask.byService.sqs ?? 0) - (endToEnd.requestsPerTask.byOperation['SQS.SendMessageBatch'] ?? 0) : undefined;
    const costs = endToEnd ? projectCost({ byOperation: endToEnd.requestsPerTask.byOperation, workMs: WORK_MS, cancelPollMs: CANCEL_POLL_MS }) : undefined;

    const p99At50 = submits.find((s) => s.connections === 50 && !s.batch)?.latencyMs.p99;
    const dynamoWrites = endToEnd
      ? Object.entries(endToEnd.requestsPerTask.byOperation)
          .filter(([op]) => /PutItem|UpdateItem|BatchWriteItem|TransactWriteItems|DeleteItem/.test(op))
          .reduce((sum, [op, n]) => sum + (op.endsWith('BatchWriteItem') ? 1 : n), 0)
      : undefined;
    const fmt = (n: number | undefined, digits = 2) => (n === undefined ? 'n/a' : n.toFixed(digits));
    const memoryMb = memory?.stop();
    const roundTarget = (round: number, wanted: number): Target => {
      const result = endToEndRounds[round - 1];
      const ratio = result && limitInFlight ? result.wallSeconds / limitInFlight.wallSeconds : undefined;
      return {
        name: `end to end round ${round} (${round === 1 ? 'fresh stack' : 'again'}) vs the limit at ${TRIGGER_CONCURRENCY} batches, no batch submit answered 503`,
        target: `≤ ${wanted}x, 0`,
        measured: result && ratio !== undefined ? `${fmt(ratio)}x, ${result.batchSubmitsRetriedAfter503}` : 'n/a',
        met: result && ratio !== undefined ? ratio <= wanted && result.batchSubmitsRetriedAfter503 === 0 : null,
      };
    };
    const leftAfterDrains = submits.reduce((sum, s) => sum + s.leftAfterDrain, 0);
    const targets: Target[] = [
      ...bursts.map((b) => ({ name: `burst of ${b.requests} single submits on a fresh stack`, target: `${b.requests} × 202`, measured: JSON.stringify(b.byStatus), met: b.byStatus['202'] === b.requests })),
      roundTarget(1, 1.3),
      roundTarget(2, 1.1),
      { name: 'tasks left PENDING or PROCESSING by the drains', target: '0', measured: String(leftAfterDrains), met: submits.length > 0 ? leftAfterDrains === 0 : null },
      {
        name: 'embedded stack memory (serverless-offline + DynamoDB Local), peak',
        target: '< 1,024 MB',
        measured: memoryMb ? `${fmt(memoryMb.stack, 0)} MB (${Object.entries(memoryMb.byProcess).map(([name, mb]) => `${name} ${fmt(mb, 0)}`).join(', ')})` : 'n/a',
        met: memoryMb ? memoryMb.stack < 1024 : null,
      },
      {
        name: `end to end vs the limit at ${TRIGGER_CONCURRENCY} batches in flight (wall time)`,
        target: '≤ 1.1x',
        measured: endToEnd && limitInFlight ? `${fmt(endToEnd.wallSeconds / limitInFlight.wallSeconds)}x (${fmt(endToEnd.wallSeconds, 1)} s vs ${fmt(limitInFlight.wallSeconds, 1)} s)` : 'n/a',
        met: endToEnd && limitInFlight ? endToEnd.wallSeconds / limitInFlight.wallSeconds <= 1.1 : null,
      },
      { name: 'end to end vs the limit', target: '≥ 0.9', measured: fmt(endToEnd && limit ? endToEnd.tasksPerSecond / limit.tasksPerSecond : undefined), met: endToEnd && limit ? endToEnd.tasksPerSecond / limit.tasksPerSecond >= 0.9 : null },
      { name: 'batch of 10 three-second tasks', target: '≤ 3.3 s', measured: processorBatch ? `${fmt(processorBatch.wallSeconds)} s` : 'n/a', met: processorBatch ? processorBatch.wallSeconds <= 3.3 : null },
      ...(capacity ?? []).map((size) => ({
        name: `status write (claim, completion) at a ${size.payloadKb} KB payload and result, as DynamoDB reports it`,
        target: '1 unit',
        measured: `${size.statusWriteUnitsMax} (DynamoDB $${size.dynamoDbCostPerMillion.toFixed(2)} per million tasks)`,
        met: size.statusWriteUnitsMax <= 1,
      })),
      { name: 'batch of 100 three-second tasks in one invocation', target: '≤ 3.5 s', measured: processorBatchOf100 ? `${fmt(processorBatchOf100.wallSeconds)} s` : 'n/a', met: processorBatchOf100 ? processorBatchOf100.wallSeconds <= 3.5 && processorBatchOf100.failures === 0 : null },
      { name: 'cancel → work aborted, p99', target: '≤ 500 ms', measured: abort ? `${fmt(abort.cancelToAbortMs.p99, 0)} ms (p50 ${fmt(abort.cancelToAbortMs.p50, 0)}, CANCEL_POLL_MS ${abort.cancelPollMs})` : 'n/a', met: abort ? abort.cancelToAbortMs.p99 <= 500 : null },
      { name: 'timeout → work aborted, p99', target: '≤ 500 ms', measured: abort ? `${fmt(abort.timeoutToAbortMs.p99, 0)} ms (p50 ${fmt(abort.timeoutToAbortMs.p50, 0)})` : 'n/a', met: abort ? abort.timeoutToAbortMs.p99 <= 500 : null },
      {
        name: `task counts of a ${counts?.tasks ?? 100_000}-task table (GET /api/stats), exact`,
        target: 'exact',
        measured: counts ? `${counts.exact ? 'exact' : 'wrong'} in ${fmt(counts.seconds)} s, ${fmt(counts.readUnits, 0)} read units ($${counts.costPerCount.toFixed(6)} per count)` : 'n/a',
        met: counts ? counts.exact : null,
      },
      {
        name: `high-priority task behind a backlog of ${priority?.backlog ?? 10_000} normal ones: submit → start p99; normal work kept going`,
        target: '≤ 5 s, > 0',
        measured: priority ? `p50 ${fmt(priority.highStartMs.p50, 0)} ms, p99 ${fmt(priority.highStartMs.p99, 0)} ms; ${priority.normalCompletedMeanwhile} normal completed meanwhile, ${priority.normalPendingAtEnd} still PENDING` : 'n/a',
        met: priority ? priority.highStartMs.p99 <= 5_000 && priority.normalCompletedMeanwhile > 0 : null,
      },
      {
        name: `dashboard in Chromium over ${dashboard?.tasks ?? 100_000} tasks more: every task counted, then each refresh (stats, list of 20), slowest`,
        target: '≤ 5 s',
        measured: dashboard
          ? `counted after ${fmt(dashboard.firstFullCountSeconds, 1)} s; stats p50 ${dashboard.calls.stats.p50Ms} ms, max ${dashboard.calls.stats.maxMs} ms (${dashboard.calls.stats.count} calls); list p50 ${dashboard.calls.list.p50Ms} ms, max ${dashboard.calls.list.maxMs} ms (${dashboard.calls.list.count}); ${dashboard.rowsShown} rows`
          : 'n/a',
        met: dashboard ? Math.max(dashboard.calls.stats.maxMs, dashboard.calls.list.maxMs) <= 5_000 && dashboard.rowsShown === 20 : null,
      },
      { name: 'DynamoDB writes per task', target: '≤ 3', measured: fmt(dynamoWrites), met: dynamoWrites === undefined ? null : dynamoWrites <= 3 },
      { name: 'SQS requests per task, single submits', target: '≤ 1.3', measured: fmt(singleSqs), met: singleSqs === undefined ? null : singleSqs <= 1.3 },
      { name: 'SQS requests per task, batch submits', target: '≤ 0.4', measured: fmt(endToEnd?.requestsPerTask.byService.sqs), met: endToEnd ? (endToEnd.requestsPerTask.byService.sqs ?? 0) <= 0.4 : null },
      { name: 'submit p99 at 50 connections', target: '≤ 250 ms', measured: `${fmt(p99At50, 0)} ms`, met: p99At50 === undefined ? null : p99At50 <= 250 },
      { name: 'cost per million tasks, batch submits', target: '≤ $3', measured: costs ? `$${costs.batch.total.toFixed(2)} (list indexes $${costs.listIndexes.toFixed(2)} of it)` : 'n/a', met: costs ? costs.batch.total <= 3 : null },
      { name: 'cost per million tasks, single submits', target: 'reported', measured: costs ? `$${costs.single.total.toFixed(2)}` : 'n/a', met: null },
    ];

    const results = { startedAt: startedAt.toISOString(), machine: { cpus: (await import('node:os')).cpus().length, node: process.version }, settings: { TASKS, WORK_MS, TRIGGER_CONCURRENCY, PHASE_MS, PHASES: [...PHASES] }, bursts, memoryMb, limit, limitInFlight, endToEndRounds: endToEndRounds.map(({ wallSeconds, batchSubmitsRetriedAfter503 }) => ({ wallSeconds, batchSubmitsRetriedAfter503 })), endToEnd, processorBatch, processorBatchOf100, submits, capacity, abort, priority, counts, dashboard, costs, prices: PRICES, targets };
    writeFileSync(`bench/results/${stamp}.json`, JSON.stringify(results, null, 2));
    writeFileSync(`bench/results/${stamp}.svg`, renderChart(results));

    if (bursts.length > 0) {
      console.log('\nBursts of single submits on a fresh stack (ms):');
      console.table(bursts.map((b) => ({ requests: b.requests, answers: JSON.stringify(b.byStatus), p50: Math.round(b.latencyMs.p50), p99: Math.round(b.latencyMs.p99), 'wall s': Number(b.wallSeconds.toFixed(1)) })));
    }
    console.log('\nSubmit throughput and latency (ms):');
    console.table(submits.map((s) => ({ mode: s.batch ? 'batch of 10' : 'single', connections: s.connections, 'tasks/s': Math.round(s.tasksPerSecond), p50: Math.round(s.latencyMs.p50), p95: Math.round(s.latencyMs.p95), p99: Math.round(s.latencyMs.p99), errors: s.errors })));
    if (endToEnd && limit) {
      console.log(`\nLimit: ${limit.tasksPerSecond.toFixed(0)} tasks/s (${limit.workers} workers). End to end: ${TASKS} tasks in ${endToEnd.wallSeconds.toFixed(1)} s = ${endToEnd.tasksPerSecond.toFixed(0)} tasks/s; submit→complete p50 ${endToEnd.submitToCompleteMs.p50.toFixed(0)} ms, p95 ${endToEnd.submitToCompleteMs.p95.toFixed(0)} ms, p99 ${endToEnd.submitToCompleteMs.p99.toFixed(0)} ms`);
      console.log('AWS requests per task (batch submits):');
      console.table(Object.fromEntries(Object.entries(endToEnd.requestsPerTask.byOperation).map(([op, n]) => [op, { perTask: Number(n.toFixed(3)) }])));
    }
    console.log('\nTargets:');
    console.table(targets.map((t) => ({ target: t.name, wanted: t.target, measured: t.measured, met: t.met === null ? '—' : t.met ? 'yes' : 'NO' })));
    console.log(`\nWrote bench/results/${stamp}.json and bench/results/${stamp}.svg`);
  } finally {
    memory?.stop();
    await stack?.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
