// `npm run chaos -- --seconds S --seed N --clients C`: see chaos/runner.ts. Writes the history
// (chaos/results/<stamp>.jsonl) and the report (.json), prints the report, exits 1 on a violation.
import { mkdirSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { runChaos } from './runner';

const { values: args } = parseArgs({
  options: {
    seconds: { type: 'string', default: '60' },
    seed: { type: 'string', default: String(Date.now() % 100_000) },
    clients: { type: 'string', default: '8' },
  },
});
const stamp = new Date().toISOString().replace(/[:.]/g, '-');
mkdirSync('chaos/results', { recursive: true });
const historyFile = `chaos/results/${stamp}.jsonl`;
const report = await runChaos({
  seconds: Number(args.seconds),
  seed: Number(args.seed),
  clients: Number(args.clients),
  historyFile,
  log: (message) => console.log(`[chaos ${new Date().toISOString().slice(11, 19)}] ${message}`),
});
writeFileSync(`chaos/results/${stamp}.json`, JSON.stringify(report, null, 2));
console.log(`\nseed ${report.seed}, ${report.seconds} s, ${report.clients} clients (replay: npm run chaos -- --seed ${report.seed} --seconds ${report.seconds} --clients ${report.clients})`);
console.log('operations:', report.operations);
console.log('answers by status:', report.answers);
console.log('fault windows:', report.faultWindows);
console.log('faults injected:', report.faultsInjected);
console.log(`invariants checked: ${report.invariants.join(', ')}`);
console.log(`unfinished after the drain: ${report.unfinishedAfterDrain}`);
console.log(`violations: ${report.violations.length}`);
for (const violation of report.violations.slice(0, 50)) {
  console.log(`\n[${violation.invariant}] ${violation.message}`);
  for (const event of violation.history) console.log(`  ${JSON.stringify(event).slice(0, 400)}`);
}
console.log(`\nhistory: ${historyFile}; report: chaos/results/${stamp}.json`);
process.exit(report.violations.length > 0 ? 1 : 0);
