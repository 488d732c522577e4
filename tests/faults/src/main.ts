/**
 * `pnpm faults [--quick] [--scenario a,b] [--rate 200] [--log-dir dir] [--late-wait 60]`: runs the fault scenarios
 * of the README's fault section, each in a fresh world (see world.ts) under a steady send load,
 * and prints per scenario: messages lost / duplicated / gaps, and pushes missing / doubled.
 * Exits 1 when any figure is not zero.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { measure, type Outcome } from './measure.js';
import { createWorld, terminateDatabaseConnections, type World } from './world.js';

const SCENARIOS: Record<string, { what: string; inject: (world: World) => Promise<void> }> = {
  'kill-gateway': { what: 'kill -9 of a gateway (restarted on its ports)', inject: (w) => w.killAndRestart('gateway') },
  'kill-messages': { what: 'kill -9 of a messages replica', inject: (w) => w.killAndRestart('messages-service') },
  'kill-rooms': { what: 'kill -9 of the rooms service', inject: (w) => w.killAndRestart('rooms-service') },
  'kill-notifier': { what: 'kill -9 of the notifier', inject: (w) => w.killAndRestart('notifier-worker') },
  'restart-nats': { what: 'NATS restart (JetStream store kept)', inject: (w) => w.nats.restart() },
  'restart-redis': { what: 'Redis kill -9 and restart, every key lost', inject: (w) => w.redis.restart({ kill: true }) },
  'terminate-postgres': {
    what: "pg_terminate_backend of every connection to the stack's database",
    inject: (w) => terminateDatabaseConnections(w),
  },
};

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    scenario: { type: 'string' },
    rate: { type: 'string', default: '200' },
    'log-dir': { type: 'string' },
    'late-wait': { type: 'string', default: '60' },
  },
});
const names = values.scenario ? values.scenario.split(',') : Object.keys(SCENARIOS);
for (const name of names)
  if (!SCENARIOS[name]) throw new Error(`unknown scenario ${name}; choose from ${Object.keys(SCENARIOS).join(', ')}`);
const rate = Number(values.rate);
if (!Number.isFinite(rate) || rate <= 0) throw new Error(`--rate must be a positive number of messages per second, not ${values.rate}`);
const quick = values.quick ?? false;
const loadMs = quick ? 8_000 : 24_000;
const rooms = 10;
const adminDatabaseUrl = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

const results: Array<{ scenario: string; outcome: Outcome }> = [];
for (const name of names) {
  const scenario = SCENARIOS[name] as (typeof SCENARIOS)[string];
  console.log(`\n== ${name}: ${scenario.what}; ${rate} msgs/s for ${loadMs / 1000} s, fault at ${(loadMs / 3000).toFixed(1)} s`);
  const world = await createWorld({ rooms, adminDatabaseUrl });
  try {
    const outcome = await measure(world, {
      rate,
      loadMs,
      faultAtMs: loadMs / 3,
      lateWaitMs: Number(values['late-wait']) * 1000,
      inject: scenario.inject,
      log: (l) => console.log(`   ${l}`),
    });
    results.push({ scenario: name, outcome });
    console.log(`   ${JSON.stringify(outcome)}`);
  } finally {
    if (values['log-dir']) {
      const dir = join(values['log-dir'], name);
      mkdirSync(dir, { recursive: true });
      world.stack.processes.forEach((p, i) => {
        writeFileSync(join(dir, `${i}-${p.name}.log`), `${p.lines.map((l) => JSON.stringify(l)).join('\n')}\n`);
      });
    }
    await world.close();
  }
}

const columns = ['sent', 'lost', 'duplicated', 'gaps', 'pushesDue', 'pushesMissing', 'pushesDoubled', 'pushesLate'] as const;
console.log(`\n| scenario | ${columns.join(' | ')} |\n|---|${columns.map(() => '---:').join('|')}|`);
for (const { scenario, outcome } of results) console.log(`| ${scenario} | ${columns.map((c) => outcome[c]).join(' | ')} |`);
const bad = results.filter(({ outcome }) =>
  columns
    .slice(1)
    .filter((c) => c !== 'pushesDue' && c !== 'pushesLate')
    .some((c) => outcome[c] !== 0),
);
process.exit(bad.length > 0 ? 1 : 0);
