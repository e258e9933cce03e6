import { percentiles } from '../stats';
import { log, post, sleep, taskBody, type BenchSettings } from '../common';

/**
 * 2. Submit throughput and latency through the API Gateway emulator. The first second at each
 * load is warm-up, not recorded: new connections, and the JIT of the emulators catching up.
 */
export async function measureSubmit(apiUrl: string, connections: number, batch: boolean, { phaseMs, warmupMs }: BenchSettings) {
  const latencies: number[] = [];
  let tasks = 0;
  let errors = 0;
  const measuredFrom = Date.now() + warmupMs;
  const deadline = measuredFrom + phaseMs;
  await Promise.all(
    Array.from({ length: connections }, async (_, worker) => {
      for (let n = 0; Date.now() < deadline; n++) {
        const recorded = Date.now() >= measuredFrom;
        const started = performance.now();
        const response = batch
          ? await post(`${apiUrl}/tasks/batch`, { tasks: Array.from({ length: 10 }, (_, i) => taskBody(worker * 1e6 + n * 10 + i)) })
          : await post(`${apiUrl}/tasks`, taskBody(worker * 1e6 + n));
        if (!recorded) continue;
        latencies.push(performance.now() - started);
        if (response.status === 202) tasks += batch ? 10 : 1;
        else errors++;
      }
    }),
  );
  const result = { connections, batch, tasksPerSecond: tasks / (phaseMs / 1000), requests: latencies.length, errors, latencyMs: percentiles(latencies) };
  log(`submit ${batch ? 'batch of 10' : 'single'} at ${connections} connections: ${result.tasksPerSecond.toFixed(0)} tasks/s, p99 ${result.latencyMs.p99.toFixed(0)} ms`);
  return result;
}

/** After a submit phase: let the stack finish what it was given (up to three minutes), so phases do not overlap. Answers how many were left. */
export async function drain(apiUrl: string): Promise<number> {
  let left: Array<{ task_id: string; status: string; attempts: number; created_at: string }> = [];
  for (let i = 0; i < 180; i++) {
    const pages = await Promise.all(
      ['PENDING', 'PROCESSING'].map((status) => fetch(`${apiUrl}/tasks?status=${status}&limit=100`).then((r) => r.json() as Promise<{ tasks: typeof left }>)),
    );
    left = pages.flatMap((page) => page.tasks);
    if (left.length === 0) return 0;
    await sleep(1_000);
  }
  const sample = left.slice(0, 3).map((t) => `${t.task_id} ${t.status} attempts ${t.attempts} created ${t.created_at}`);
  log(`drain: ${left.length} task(s) still PENDING or PROCESSING after three minutes (${sample.join('; ')}); going on`);
  return left.length;
}
