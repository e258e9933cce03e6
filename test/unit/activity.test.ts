import { bucketOf, createActivityRecorder, HISTOGRAM_BASE, PERCENTILE_RELATIVE_ERROR, percentileOf, summarizeActivity, windowMinutes, type Histogram } from '#lib/tasks/activity';
import { InMemoryActivityLog, ManualClock, silentLogger } from '../support/fakes';

/** A deterministic spread of durations: a mix of fast and slow, 1 ms to about 10 minutes. */
function durations(n: number): number[] {
  let seed = 42;
  const next = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
  return Array.from({ length: n }, () => Math.exp(next() * Math.log(600_000)));
}
const histogramOf = (values: number[]): Histogram => {
  const histogram: Histogram = {};
  for (const value of values) histogram[bucketOf(value)] = (histogram[bucketOf(value)] ?? 0) + 1;
  return histogram;
};
const exactPercentile = (values: number[], p: number) => [...values].sort((a, b) => a - b)[Math.max(1, Math.ceil(p * values.length)) - 1]!;

describe('percentiles read from log-bucket histograms', () => {
  const values = durations(10_000);
  const histogram = histogramOf(values);

  it.each([0.01, 0.1, 0.5, 0.9, 0.99, 0.999, 1])('the p%s is within the stated relative error of the exact one', (p) => {
    const exact = exactPercentile(values, p);
    // Rounded to whole milliseconds, so allow half a millisecond beside the relative error.
    expect(Math.abs(percentileOf(histogram, p)! - exact)).toBeLessThanOrEqual(exact * PERCENTILE_RELATIVE_ERROR + 0.5);
  });

  it('states an error under 10%, and puts each value in the bucket that spans it', () => {
    expect(PERCENTILE_RELATIVE_ERROR).toBeLessThan(0.1);
    for (const value of [1, 1.5, 37, 3_000, 899_999]) {
      const bucket = bucketOf(value);
      expect(HISTOGRAM_BASE ** bucket).toBeLessThanOrEqual(value * (1 + 1e-12));
      expect(HISTOGRAM_BASE ** (bucket + 1)).toBeGreaterThan(value);
    }
    expect(bucketOf(0)).toBe(0);
    expect(bucketOf(900_000)).toBeLessThan(80);
  });

  it('answers null for no durations', () => {
    expect(percentileOf({}, 0.5)).toBeNull();
    expect(percentileOf({ 3: 0 }, 0.99)).toBeNull();
  });
});

describe('the activity recorder', () => {
  function setUp() {
    const log = new InMemoryActivityLog();
    const clock = new ManualClock(new Date('2026-12-01T12:00:30.000Z'));
    return { log, clock, recorder: createActivityRecorder({ log, clock, logger: silentLogger }) };
  }

  it('writes nothing until flushed, then one entry per minute touched, adding to what other containers wrote', async () => {
    const { log, clock, recorder } = setUp();
    const other = createActivityRecorder({ log, clock, logger: silentLogger });
    const add = jest.spyOn(log, 'add');
    recorder.metrics.count('TasksCompleted');
    recorder.metrics.duration('QueueWait', 40);
    recorder.metrics.duration('WorkTime', 3_000);
    recorder.metrics.count('TasksStarted');
    recorder.metrics.count('TasksCanceled');
    clock.advance(60_000);
    recorder.metrics.count('TasksFailed', 2);
    other.metrics.count('TasksCompleted', 5);
    expect(add).not.toHaveBeenCalled();
    await recorder.flush();
    await other.flush();
    await recorder.flush();
    expect(add).toHaveBeenCalledTimes(2);
    expect(await log.read(['2026-12-01T12:00', '2026-12-01T12:01'])).toEqual([
      { minute: '2026-12-01T12:00', completed: 1, failed: 0, queueWait: { [bucketOf(40)]: 1 }, workTime: { [bucketOf(3_000)]: 1 } },
      { minute: '2026-12-01T12:01', completed: 5, failed: 2, queueWait: {}, workTime: {} },
    ]);
  });

  it('drops the minutes of a flush that failed, logging why, and records afresh after it', async () => {
    const { log, recorder } = setUp();
    const warn = jest.spyOn(silentLogger, 'warn');
    jest.spyOn(log, 'add').mockRejectedValueOnce(new Error('throttled'));
    recorder.metrics.count('TasksCompleted');
    await expect(recorder.flush()).resolves.toBeUndefined();
    expect(warn).toHaveBeenCalledWith(expect.stringContaining('Could not record the activity'), expect.anything());
    recorder.metrics.count('TasksCompleted');
    await recorder.flush();
    expect((await log.read(['2026-12-01T12:00']))[0]?.completed).toBe(1);
  });
});

describe('the last hour', () => {
  const now = new Date('2026-12-01T12:00:30.000Z');

  it('is the 60 minutes ending with the current one, oldest first', () => {
    const minutes = windowMinutes(now);
    expect(minutes).toHaveLength(60);
    expect([minutes[0], minutes[59]]).toEqual(['2026-12-01T11:01', '2026-12-01T12:00']);
  });

  it('sums the minutes inside it, a zero for each minute with nothing, and leaves out a minute before it', () => {
    const summary = summarizeActivity(
      [
        { minute: '2026-12-01T11:00', completed: 100, failed: 100, queueWait: { 1: 100 }, workTime: { 1: 100 } },
        { minute: '2026-12-01T11:30', completed: 3, failed: 1, queueWait: { 10: 3 }, workTime: { 40: 3 } },
        { minute: '2026-12-01T12:00', completed: 1, failed: 0, queueWait: { 30: 1 }, workTime: { 40: 1 } },
      ],
      now,
    );
    expect(summary).toMatchObject({ completed: 4, failed: 1 });
    expect(summary.per_minute.filter((point) => point.completed > 0).map((point) => point.minute)).toEqual(['2026-12-01T11:30', '2026-12-01T12:00']);
    expect(summary.submit_to_start_ms).toEqual({ p50: Math.round(HISTOGRAM_BASE ** 10.5), p99: Math.round(HISTOGRAM_BASE ** 30.5) });
    expect(summary.start_to_end_ms.p50).toBe(Math.round(HISTOGRAM_BASE ** 40.5));
  });
});
