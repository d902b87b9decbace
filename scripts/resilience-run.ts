/**
 * The longer resilience run (issue 6), beside `npm run bench`:
 *   npx tsx scripts/resilience-run.ts [kill9 flap fail30 outage instances] [--trials N]
 * Prints one JSON line per figure (stdout) and a table with each figure against its target.
 * Needs root for nothing; needs MinIO (scripts/provision-minio.sh) and PostgreSQL
 * (scripts/provision-postgres.sh) for flap, outage and instances. Exit code 1 if a target was missed.
 */
import { fail30 } from './resilience/fail30.js';
import { flap } from './resilience/flap.js';
import { instances } from './resilience/instances.js';
import { kill9 } from './resilience/kill9.js';
import { outage } from './resilience/outage.js';
import { failed, log, table } from './resilience/report.js';

const args = process.argv.slice(2);
const trialsAt = args.indexOf('--trials');
const trials = trialsAt >= 0 ? Number(args[trialsAt + 1]) : 1000;
const asked = args.filter((a, i) => !a.startsWith('--') && (trialsAt < 0 || i !== trialsAt + 1));
const scenarios: Record<string, () => Promise<void>> = {
  fail30: () => fail30(1000),
  outage: () => outage(),
  flap: () => flap(1000, 200),
  instances: () => instances(10_000),
  kill9: () => kill9(trials),
};
const chosen = asked.length ? asked : Object.keys(scenarios);

for (const name of chosen) {
  const run = scenarios[name];
  if (!run) {
    process.stderr.write(`unknown scenario ${name}; known: ${Object.keys(scenarios).join(', ')}\n`);
    process.exit(2);
  }
  const started = Date.now();
  process.stderr.write(`\n== ${name}\n`);
  try {
    await run();
  } catch (err) {
    process.stderr.write(`== ${name} crashed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  }
  log(`${name} done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}
process.stdout.write(`\n${table()}\n`);
if (failed()) process.exitCode = 1;
process.exit();
