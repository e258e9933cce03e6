import type { Clock } from '#lib/clock';
import type { AppLogger } from '#lib/logger';
import { MAX_PROGRESS_MESSAGE_LENGTH, type TaskProgress } from './model';

/**
 * Coalesces one attempt's `progress()` reports into at most one write every `intervalMs`: the first
 * report is written at once, later ones wait for the interval and only the latest is written. A
 * kind may report on every chunk it handles; the table sees a write every few seconds at most.
 */
export class ProgressReporter {
  /** The last report, written or not: what the attempt's final write records. */
  lastReported: TaskProgress | undefined;
  /** Whether `lastReported` is still to be written. */
  private unwritten = false;
  private timer: NodeJS.Timeout | undefined;
  private lastWriteAt = -Infinity;
  private stopped = false;

  constructor(
    private readonly write: (progress: TaskProgress) => Promise<unknown>,
    private readonly intervalMs: number,
    private readonly clock: Clock,
    private readonly logger: AppLogger,
  ) {}

  report(fraction: number, message?: string): void {
    if (typeof fraction !== 'number' || !Number.isFinite(fraction) || fraction < 0 || fraction > 1) {
      throw new RangeError(`progress(fraction): fraction must be a number from 0 to 1, not ${String(fraction)}`);
    }
    if (this.stopped) return;
    const now = this.clock.now();
    this.lastReported = { fraction, message: message === undefined ? null : String(message).slice(0, MAX_PROGRESS_MESSAGE_LENGTH), updated_at: now.toISOString() };
    this.unwritten = true;
    if (this.timer) return;
    const waitMs = Math.max(0, this.lastWriteAt + this.intervalMs - now.getTime());
    this.timer = setTimeout(() => this.flush(), waitMs).unref();
  }

  /** No write after this: the attempt has ended, and its final write says the rest (with `lastReported`). */
  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private flush(): void {
    this.timer = undefined;
    const progress = this.lastReported;
    if (this.stopped || !this.unwritten || !progress) return;
    this.unwritten = false;
    this.lastWriteAt = this.clock.now().getTime();
    this.write(progress).catch((error: unknown) => this.logger.warn('Could not record progress; the work goes on', { error }));
  }
}
