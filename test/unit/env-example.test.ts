import { readFileSync } from 'node:fs';
import { ConfigSchema } from '#lib/config';

/**
 * `.env.example` is the one list of what can be set: every variable serverless.yml, `npm start`
 * and the functions' configuration read is in it, and it names nothing that nobody reads.
 */
const listed = new Set([...readFileSync('.env.example', 'utf8').matchAll(/^#? ?([A-Z][A-Z0-9_]+)=/gm)].map((m) => m[1]!));
const fromServerless = [...readFileSync('serverless.yml', 'utf8').matchAll(/\$\{env:([A-Z0-9_]+)/g)].map((m) => m[1]!);
const fromStart = [...readFileSync('local/start.ts', 'utf8').matchAll(/(?:numberFromEnv\('|process\.env\.)([A-Z0-9_]+)/g)].map((m) => m[1]!);
// Set by serverless.yml from other variables or by the stack itself, never by a user.
const derived = new Set(['TASKS_TABLE', 'PROCESSING_LEASE_SECONDS', 'MAX_RECEIVE_COUNT']);
const fromConfig = Object.keys(ConfigSchema.shape).filter((name) => !derived.has(name));

describe('.env.example', () => {
  it.each([...new Set([...fromServerless, ...fromStart, ...fromConfig])].sort())('lists %s', (name) => {
    expect(listed).toContain(name);
  });

  it('lists nothing that nobody reads', () => {
    const read = new Set([...fromServerless, ...fromStart, ...fromConfig]);
    expect([...listed].filter((name) => !read.has(name))).toEqual([]);
  });
});
