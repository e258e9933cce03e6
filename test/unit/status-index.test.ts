import fc from 'fast-check';
import {
  allDone,
  decodeCursor,
  encodeCursor,
  mergePages,
  partitionsOf,
  statusShard,
  STATUS_SHARDS,
  type IndexKey,
  type Positions,
} from '#lib/aws/status-index';
import { InvalidCursorError } from '#lib/tasks/errors';

describe('status index shards', () => {
  it('spreads a status over every shard by the task id', () => {
    const shards = new Set('0123456789abcdef'.split('').map((c) => statusShard('PENDING', `${c}0000000-0000-4000-8000-000000000000`)));
    expect(shards.size).toBe(STATUS_SHARDS);
    expect(partitionsOf(['PENDING', 'FAILED'])).toHaveLength(2 * STATUS_SHARDS);
  });
});

describe('list cursors', () => {
  const key: IndexKey = { task_id: 'a1', status_shard: 'PENDING#10', created_at: '2026-11-23T09:00:00.000Z' };

  it('round-trip positions for the same filter', () => {
    const positions: Positions = { 'PENDING#10': key, 'PENDING#3': 'done' };
    expect(decodeCursor(encodeCursor('PENDING', positions), 'PENDING')).toEqual(positions);
  });

  it.each([
    ['garbage', 'not-a-cursor'],
    ['JSON of another shape', Buffer.from('{"a":1}').toString('base64url')],
    ['an unknown partition', encodeCursor('PENDING', { 'PENDING#99': 'done' })],
  ])('refuse %s', (_, cursor) => {
    expect(() => decodeCursor(cursor, 'PENDING')).toThrow(InvalidCursorError);
  });

  it('refuse a cursor issued for another status filter', () => {
    expect(() => decodeCursor(encodeCursor('PENDING', {}), 'FAILED')).toThrow(/another status filter/);
    expect(() => decodeCursor(encodeCursor(undefined, {}), 'FAILED')).toThrow(InvalidCursorError);
  });
});

describe('merging partition pages', () => {
  /** Walks partitions the way the store does: each page queries every unfinished partition after its position. */
  function walk(partitions: Record<string, IndexKey[]>, limit: number): IndexKey[] {
    const names = Object.keys(partitions);
    const sorted = Object.fromEntries(
      names.map((name) => [name, [...partitions[name]!].sort((a, b) => (b.created_at + b.task_id).localeCompare(a.created_at + a.task_id))]),
    );
    let positions: Positions = {};
    const seen: IndexKey[] = [];
    for (let guard = 0; guard < 1_000 && !allDone(positions, names); guard++) {
      const pages = names
        .filter((name) => positions[name] !== 'done')
        .map((name) => {
          const at = positions[name];
          const rest = at && at !== 'done' ? sorted[name]!.slice(sorted[name]!.findIndex((k) => k.task_id === at.task_id) + 1) : sorted[name]!;
          return { partition: name, keys: rest.slice(0, limit), hasMore: rest.length > limit };
        });
      const merged = mergePages(pages, positions, limit);
      seen.push(...merged.keys);
      positions = merged.positions;
    }
    return seen;
  }

  it('lists every key exactly once, newest first, whatever the spread and page size', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 5 }), fc.integer({ min: 0, max: 50 })), { maxLength: 80 }),
        fc.integer({ min: 1, max: 7 }),
        (entries, limit) => {
          const partitions: Record<string, IndexKey[]> = { 'P#0': [], 'P#1': [], 'P#2': [], 'P#3': [], 'P#4': [], 'P#5': [] };
          const all = entries.map(([shard, second], index) => {
            const key = {
              task_id: `id-${String(index).padStart(3, '0')}`,
              status_shard: `P#${shard}`,
              created_at: `2026-11-23T09:00:${String(second).padStart(2, '0')}.000Z`,
            };
            partitions[`P#${shard}`]!.push(key);
            return key;
          });
          const seen = walk(partitions, limit);
          expect(seen.map((k) => k.task_id).sort()).toEqual(all.map((k) => k.task_id).sort());
          const order = seen.map((k) => k.created_at + k.task_id);
          expect(order).toEqual([...order].sort().reverse());
        },
      ),
      { numRuns: 300, seed: 5 },
    );
  });
});
