import fc from 'fast-check';
import {
  allDone,
  createdKey,
  CursorCodec,
  listIndexFor,
  listShard,
  mergePages,
  SHARDS,
  statusShard,
  taskIdOf,
  type Positions,
} from '#lib/aws/list-indexes';
import { InvalidCursorError } from '#lib/tasks/errors';

const uuid = (first: string, n = 0) => `${first}${String(n).padStart(7, '0')}-0000-4000-8000-000000000000`;

describe('list index keys', () => {
  it('spread every status, and the whole list, over every shard by the task id', () => {
    const ids = '0123456789abcdef'.split('').map((c) => uuid(c));
    expect(new Set(ids.map((id) => statusShard('PENDING', id))).size).toBe(SHARDS);
    expect(new Set(ids.map(listShard)).size).toBe(SHARDS);
    expect(listIndexFor('FAILED').partitions).toEqual(ids.map((id) => statusShard('FAILED', id)));
    expect(listIndexFor(undefined).partitions).toEqual(ids.map(listShard));
  });

  it('keep a task in one by-created partition whatever its status', () => {
    const id = uuid('a');
    expect(listIndexFor(undefined).partitions.filter((p) => p === listShard(id))).toHaveLength(1);
    expect(statusShard('PENDING', id)).not.toBe(statusShard('COMPLETED', id));
  });

  it('order tasks created in the same millisecond by task id, and give the id back', () => {
    const at = '2026-11-23T09:00:00.000Z';
    expect(createdKey(at, uuid('1')) < createdKey(at, uuid('2'))).toBe(true);
    expect(createdKey(at, uuid('f')) < createdKey('2026-11-23T09:00:00.001Z', uuid('0'))).toBe(true);
    expect(taskIdOf(createdKey(at, uuid('7', 3)))).toBe(uuid('7', 3));
  });
});

describe('list cursors', () => {
  const codec = new CursorCodec('tasks-table');
  const at = createdKey('2026-11-23T09:00:00.000Z', uuid('a'));
  const tamper = (cursor: string, edit: (body: Record<string, unknown>) => void) => {
    const [body, signature] = cursor.split('.');
    const parsed = JSON.parse(Buffer.from(body!, 'base64url').toString());
    edit(parsed);
    return `${Buffer.from(JSON.stringify(parsed)).toString('base64url')}.${signature}`;
  };

  it('round-trip positions for the same filter', () => {
    const positions: Positions = { 'PENDING#10': at, 'PENDING#3': 'done' };
    expect(codec.decode(codec.encode('PENDING', positions), 'PENDING')).toEqual(positions);
    expect(codec.decode(codec.encode(undefined, { '4': at }), undefined)).toEqual({ '4': at });
  });

  it.each([
    ['garbage', 'not-a-cursor'],
    ['an unsigned body', Buffer.from(JSON.stringify({ status: null, positions: {} })).toString('base64url')],
    ['a tampered position', tamper(codec.encode('PENDING', { 'PENDING#10': at }), (b) => ((b.positions as Positions)['PENDING#10'] = createdKey('2026-01-01T00:00:00.000Z', uuid('a'))))],
    ['the tampered cursor of the issue', tamper(codec.encode(undefined, {}), (b) => (b.positions = { 'PENDING#0': ['', ''] }))],
    ['an extra part', `${codec.encode('PENDING', {})}.x`],
    ['a cursor signed with another key', new CursorCodec('other-table').encode('PENDING', {})],
  ])('refuse %s', (_, cursor) => {
    expect(() => codec.decode(cursor, 'PENDING')).toThrow(InvalidCursorError);
  });

  it('round-trip a kind walk’s positions, and refuse them for another kind or none', () => {
    const positions: Positions = { 'checksum#2': at, 'checksum#9': 'done' };
    expect(codec.decode(codec.encode('FAILED', positions, 'checksum'), 'FAILED', 'checksum')).toEqual(positions);
    expect(() => codec.decode(codec.encode(undefined, positions, 'checksum'), undefined, 'compress')).toThrow(/another kind filter/);
    expect(() => codec.decode(codec.encode(undefined, positions, 'checksum'), undefined)).toThrow(/another kind filter/);
    // A kind walk's partitions are no other walk's: a cursor edited to name them is refused.
    expect(() => codec.decode(codec.encode(undefined, { '2': at }, 'checksum'), undefined, 'checksum')).toThrow(InvalidCursorError);
  });

  it('refuse a cursor issued for another status filter', () => {
    expect(() => codec.decode(codec.encode('PENDING', {}), 'FAILED')).toThrow(/another status filter/);
    expect(() => codec.decode(codec.encode(undefined, {}), 'FAILED')).toThrow(InvalidCursorError);
  });
});

describe('merging partition pages', () => {
  /** Walks partitions the way the store does: each page queries every unfinished partition after its position. */
  function walk(partitions: Record<string, string[]>, limit: number): string[] {
    const names = Object.keys(partitions);
    const sorted = Object.fromEntries(names.map((name) => [name, [...partitions[name]!].sort().reverse()]));
    let positions: Positions = {};
    const seen: string[] = [];
    for (let guard = 0; guard < 1_000 && !allDone(positions, names); guard++) {
      const pages = names
        .filter((name) => positions[name] !== 'done')
        .map((name) => {
          const at = positions[name];
          const rest = at && at !== 'done' ? sorted[name]!.filter((key) => key < at) : sorted[name]!;
          return { partition: name, keys: rest.slice(0, limit), hasMore: rest.length > limit };
        });
      const merged = mergePages(pages, positions, limit);
      seen.push(...merged.keys);
      positions = merged.positions;
    }
    return seen;
  }

  it('lists every key exactly once, newest first, whatever the spread, the ties and the page size', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 5 }), fc.integer({ min: 0, max: 5 })), { maxLength: 80 }),
        fc.integer({ min: 1, max: 7 }),
        (entries, limit) => {
          const partitions: Record<string, string[]> = { '0': [], '1': [], '2': [], '3': [], '4': [], '5': [] };
          const all = entries.map(([shard, second], index) => {
            const key = createdKey(`2026-11-23T09:00:0${second}.000Z`, uuid(String(shard), index));
            partitions[String(shard)]!.push(key);
            return key;
          });
          const seen = walk(partitions, limit);
          expect([...seen].sort()).toEqual([...all].sort());
          expect(seen).toEqual([...seen].sort().reverse());
        },
      ),
      { numRuns: 300, seed: 5 },
    );
  });
});
