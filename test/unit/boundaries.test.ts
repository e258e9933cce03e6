import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

/**
 * The linter keeps the rooms' boundaries: each crossing below is refused, and the allowed imports
 * pass. ESLint loads its configuration as an ES module, which Jest's module loader cannot, so the
 * cases are linted in one child process through ESLint's own API.
 */
const refused: Array<[string, string, RegExp]> = [
  ['lib/tasks/probe.ts', "import { DynamoDBClient as probe } from '@aws-sdk/client-dynamodb';", /through its ports/],
  ['lib/tasks/probe.ts', "import middy from '@middy/core';\nconst probe = middy;", /never sees a Lambda event/],
  ['lib/tasks/probe.ts', "import type { SQSEvent as probe } from 'aws-lambda';", /never sees a Lambda event/],
  ['lib/tasks/probe.ts', "import { Metrics as probe } from '@aws-lambda-powertools/metrics';", /never through Powertools/],
  ['lib/tasks/probe.ts', "import { DynamoDbTaskStore as probe } from '#lib/aws/dynamodb-task-store';", /no adapter/],
  ['lib/tasks/probe.ts', "import { taskService as probe } from '#lib/container';", /no adapter/],
  ['lib/tasks/probe.ts', "import { apiHandler as probe } from '#lib/handlers/api';", /no handler builder/],
  ['lib/http/probe.ts', "import { handler as probe } from '#functions/submit';", /never imports a handler/],
  ['lib/aws/probe.ts', "import { startEmbeddedStack as probe } from '../../local/embedded-stack';", /never imports the embedded stack/],
  ['lib/http/probe.ts', "import type { ApiRequest as probe } from '#lib/handlers/api';", /sit below the handler builders/],
  ['lib/aws/probe.ts', "import { taskService as probe } from '#lib/container';", /sit below the handler builders/],
  ['lib/tasks/probe.ts', "import { metrics as probe } from '#lib/metrics';", /no adapter/],
  ['kinds/probe.ts', "import { newTask as probe } from '#lib/tasks/model';", /imports only #lib\/tasks\/kind/],
  ['kinds/probe.ts', "import { loadConfig as probe } from '#lib/config';", /imports only #lib\/tasks\/kind/],
  ['kinds/probe.ts', "import { handler as probe } from '#functions/submit';", /never imports a handler/],
];
const allowed: Array<[string, string]> = [
  ['lib/tasks/probe.ts', "import { isFinal as probe } from './transitions';"],
  ['lib/tasks/probe.ts', "import { withReserve as probe } from '#lib/deadline';"],
  ['lib/aws/probe.ts', "import { DynamoDBClient as probe } from '@aws-sdk/client-dynamodb';"],
  ['lib/handlers/probe.ts', "import type { ApiResponse as probe } from '#lib/http/responses';"],
  ['functions/probe.ts', "import { taskService as probe } from '#lib/container';"],
  ['kinds/probe.ts', "import { defineTaskKind as probe } from '#lib/tasks/kind';"],
  ['kinds/probe.ts', "import { createHash as probe } from 'node:crypto';"],
  ['kinds/probe.ts', "import { S3Client as probe } from '@aws-sdk/client-s3';"],
];

function lintAll(cases: Array<[string, string]>): string[][] {
  const script = `
    const { ESLint } = require('eslint');
    const cases = JSON.parse(process.argv[1]);
    (async () => {
      const eslint = new ESLint();
      const out = [];
      for (const [filePath, source] of cases) {
        const [result] = await eslint.lintText(source + '\\nexport const used = probe;\\n', { filePath });
        out.push(result.messages.filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message));
      }
      console.log(JSON.stringify(out));
    })();`;
  const run = spawnSync(process.execPath, ['-e', script, JSON.stringify(cases)], { cwd: join(__dirname, '..', '..'), encoding: 'utf8' });
  if (run.status !== 0) throw new Error(run.stderr);
  return JSON.parse(run.stdout) as string[][];
}

describe('the import boundaries npm run lint keeps', () => {
  const results = lintAll([...refused.map(([file, source]) => [file, source] as [string, string]), ...allowed]);

  it.each(refused.map((entry, index) => [...entry, index] as const))('refuses in %s: %s', (_file, _source, why, index) => {
    expect(results[index]).toHaveLength(1);
    expect(results[index]![0]).toMatch(why);
  });

  it.each(allowed.map((entry, index) => [...entry, refused.length + index] as const))('allows in %s: %s', (_file, _source, index) => {
    expect(results[index]).toEqual([]);
  });
});
