import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseEnv } from 'node:util';

/**
 * Reads `<dir>/.env` into `env` if there is one (`.env.example` lists every variable); a variable
 * already set in the shell wins over the file. True when a file was read.
 */
export function loadDotEnv(dir: string, env: NodeJS.ProcessEnv = process.env): boolean {
  const file = join(dir, '.env');
  if (!existsSync(file)) return false;
  for (const [name, value] of Object.entries(parseEnv(readFileSync(file, 'utf8')))) env[name] ??= value;
  return true;
}
