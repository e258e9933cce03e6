import { readFileSync } from 'node:fs';

/** Peak resident sizes, in MB: of each process watched, and of the stack as a whole at any one moment. */
export interface MemoryPeaks {
  byProcess: Record<string, number>;
  /** The largest sum, at one sample, of the processes counted as the stack. */
  stack: number;
  samples: number;
}

/** A process's resident size in MB, from /proc (Linux); undefined once it has exited. */
function residentMb(pid: number): number | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = /^VmRSS:\s+(\d+)\s+kB$/m.exec(status)?.[1];
    return kb === undefined ? undefined : Number(kb) / 1024;
  } catch {
    return undefined;
  }
}

/**
 * Samples the resident size of each process every `everyMs` until `stop()`, which answers the
 * peaks. `stackProcesses` names the ones whose sum is the stack's figure.
 */
export function watchMemory(processes: Record<string, number>, stackProcesses: readonly string[], everyMs = 250) {
  const peaks: MemoryPeaks = { byProcess: {}, stack: 0, samples: 0 };
  const sample = () => {
    let stack = 0;
    for (const [name, pid] of Object.entries(processes)) {
      const mb = residentMb(pid) ?? 0;
      peaks.byProcess[name] = Math.max(peaks.byProcess[name] ?? 0, mb);
      if (stackProcesses.includes(name)) stack += mb;
    }
    peaks.stack = Math.max(peaks.stack, stack);
    peaks.samples++;
  };
  sample();
  const timer = setInterval(sample, everyMs);
  return {
    stop(): MemoryPeaks {
      clearInterval(timer);
      sample();
      return peaks;
    },
  };
}

/** The embedded stack's own processes; the launcher (SQS emulator, triggers, and the bench itself) is reported beside them. */
export const STACK_PROCESSES = ['serverlessOffline', 'dynamoDbLocal'] as const;
