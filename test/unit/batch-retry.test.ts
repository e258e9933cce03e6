import { chunks, sendUntilDone } from '#lib/aws/batch-retry';
import { DependencyUnavailableError } from '#lib/errors';

describe('sendUntilDone', () => {
  it('sends the leftovers of each call again until none is left', async () => {
    const calls: number[][] = [];
    await sendUntilDone('task store', [1, 2, 3, 4], async (items) => {
      calls.push(items);
      return items.filter((n) => n % 2 === 0).slice(0, calls.length === 1 ? 2 : 0);
    }, { baseDelayMs: 1 });
    expect(calls).toEqual([[1, 2, 3, 4], [2, 4]]);
  });

  it('gives up after the last attempt as an unavailable dependency', async () => {
    let calls = 0;
    const always = async (items: number[]) => {
      calls++;
      return items;
    };
    await expect(sendUntilDone('task queue', [1], always, { maxAttempts: 3, baseDelayMs: 1 })).rejects.toBeInstanceOf(
      DependencyUnavailableError,
    );
    expect(calls).toBe(3);
  });
});

describe('chunks', () => {
  it.each([
    [0, 10, []],
    [10, 10, [10]],
    [23, 10, [10, 10, 3]],
    [60, 25, [25, 25, 10]],
  ])('splits %i items by %i', (count, size, lengths) => {
    expect(chunks(Array.from({ length: count }, (_, i) => i), size).map((c) => c.length)).toEqual(lengths);
  });
});
