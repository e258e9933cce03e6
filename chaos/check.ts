// `npm run chaos:check -- <history.jsonl>`: checks a recorded history again (after a checker
// change, or on a history from elsewhere) and prints its violations; exits 1 on any.
import { readFileSync } from 'node:fs';
import { checkHistory } from './checker';
import type { HistoryEvent } from './history';
import { FAULT_SLACK_MS } from './runner';

const file = process.argv[2];
if (!file) throw new Error('usage: npm run chaos:check -- <history.jsonl>');
const events = readFileSync(file, 'utf8')
  .split('\n')
  .filter(Boolean)
  .map((line) => JSON.parse(line) as HistoryEvent);
const violations = checkHistory(events, { faultSlackMs: FAULT_SLACK_MS });
console.log(`${events.length} events, ${violations.length} violations`);
for (const violation of violations) console.log(`[${violation.invariant}] ${violation.message} (lines ${violation.lines.join(', ')})`);
process.exit(violations.length > 0 ? 1 : 0);
