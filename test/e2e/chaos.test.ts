import { runChaos } from '../../chaos/runner';

/**
 * A short chaos run, fixed seed, on an embedded stack of its own with fault proxies in front of the
 * emulators: random clients and faults, then every invariant checked over the whole history.
 * `npm run chaos -- --seconds 600` is the long run (docs/chaos.md).
 */
describe('a 30-second chaos run (seed 7)', () => {
  it('keeps every promise under injected faults', async () => {
    // At least 40 single submits, however long a loaded machine takes to make them (the run goes on past 30 s).
    const report = await runChaos({ seconds: 30, seed: 7, clients: 4, minSubmits: 40 });
    expect(report.violations.map(({ invariant, message }) => `${invariant}: ${message}`)).toEqual([]);
    expect(report.unfinishedAfterDrain).toBe(0);
    expect(Object.values(report.faultWindows).reduce((sum, n) => sum + n, 0)).toBeGreaterThanOrEqual(5);
    expect(Object.values(report.faultsInjected).reduce((sum, n) => sum + n, 0)).toBeGreaterThan(0);
    expect(report.operations.submit).toBeGreaterThanOrEqual(40);
    expect(report.answers['202']).toBeGreaterThan(20);
  }, 360_000);
});
