import { startEmbeddedStack, type EmbeddedStackOptions } from '../../local/embedded-stack';
import { percentiles, type Percentiles } from '../stats';
import { log, post, taskBody } from '../common';
import { STACK_PROCESSES, watchMemory, type MemoryPeaks } from '../memory';

export interface BurstResult {
  requests: number;
  /** Answers by HTTP status; `failed` counts requests that got no answer at all. */
  byStatus: Record<string, number>;
  latencyMs: Percentiles;
  /** From the first request sent to the last answer received. */
  wallSeconds: number;
  memoryMb: MemoryPeaks;
}

/**
 * The first contact a new user is likely to make: `requests` single submits at once, each on a
 * connection of its own, against a stack started just for it (no request has warmed anything yet).
 */
export async function measureBurst(requests: number, stackOptions: EmbeddedStackOptions): Promise<BurstResult> {
  const stack = await startEmbeddedStack(stackOptions);
  const memory = watchMemory(stack.processes, STACK_PROCESSES);
  try {
    const byStatus: Record<string, number> = {};
    const latencies: number[] = [];
    const started = performance.now();
    await Promise.all(
      Array.from({ length: requests }, async (_, n) => {
        const sent = performance.now();
        const status = await post(`${stack.apiUrl}/tasks`, taskBody(n)).then(
          (response) => String(response.status),
          () => 'failed',
        );
        latencies.push(performance.now() - sent);
        byStatus[status] = (byStatus[status] ?? 0) + 1;
      }),
    );
    const result = { requests, byStatus, latencyMs: percentiles(latencies), wallSeconds: (performance.now() - started) / 1000, memoryMb: memory.stop() };
    log(`burst of ${requests} on a fresh stack: ${JSON.stringify(byStatus)}, p50 ${result.latencyMs.p50.toFixed(0)} ms, p99 ${result.latencyMs.p99.toFixed(0)} ms, stack ${result.memoryMb.stack.toFixed(0)} MB at most`);
    return result;
  } finally {
    memory.stop();
    await stack.stop();
  }
}
