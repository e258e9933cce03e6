import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadDotEnv } from '../../local/dotenv';

describe('npm start reads .env (local/dotenv.ts)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dotenv-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads nothing where there is no .env', () => {
    const env: NodeJS.ProcessEnv = {};
    expect(loadDotEnv(dir, env)).toBe(false);
    expect(env).toEqual({});
  });

  it('takes the variables of .env, with the shell winning over the file', () => {
    writeFileSync(join(dir, '.env'), '# a comment\nPORT=4000\nTASK_WORK_MS=500\nLOG_LEVEL="DEBUG"\n');
    const env: NodeJS.ProcessEnv = { TASK_WORK_MS: '100' };
    expect(loadDotEnv(dir, env)).toBe(true);
    expect(env).toEqual({ PORT: '4000', TASK_WORK_MS: '100', LOG_LEVEL: 'DEBUG' });
  });
});
