import { type databaseEnvShape, parseEnv } from '@chat/shared/config';
import { openDatabase } from '@chat/shared/db';
import { createLogger } from '@chat/shared/logging';
import type { Kysely } from 'kysely';
import type { z } from 'zod';
import type { NotifyDatabase } from '../db/schema.js';

type DatabaseEnv = z.infer<z.ZodObject<typeof databaseEnvShape>>;

/** One dead-letter store the operator lists and replays: the push ledger's, or the event webhook's. */
export interface DeadLetterStore<Env extends DatabaseEnv, Letter extends { id: string }> {
  /** The command's name in usage and as the database application name. */
  name: string;
  env: z.ZodType<Env, unknown>;
  /** What a letter is, plural, for the summary lines ("deliveries"). */
  noun: string;
  list(db: Kysely<NotifyDatabase>): Promise<Letter[]>;
  /** One tab-separated line per letter. */
  line(letter: Letter): string;
  /** Queues the letters again (all, or the ids named); answers how many. */
  replay(db: Kysely<NotifyDatabase>, ids: string[] | 'all', env: Env): Promise<number>;
}

/** `<name> list [id …]` prints dead letters, `<name> replay [id …]` queues them again; exit code 2 on error. */
export function runDeadLetterCommand<Env extends DatabaseEnv, Letter extends { id: string }>(
  store: DeadLetterStore<Env, Letter>,
  argv = process.argv.slice(2),
): void {
  run(store, argv).catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(2);
  });
}

async function run<Env extends DatabaseEnv, Letter extends { id: string }>(store: DeadLetterStore<Env, Letter>, argv: string[]) {
  const [command, ...ids] = argv;
  if (command !== 'list' && command !== 'replay') throw new Error(`usage: ${store.name} list | ${store.name} replay [id ...]`);
  const env = parseEnv(store.env);
  const database = openDatabase<NotifyDatabase>(env.DATABASE_URL, {
    poolMax: 2,
    applicationName: `notifier-${store.name}`,
    logger: createLogger({ service: `notifier-${store.name}`, version: '0.1.0', level: 'warn' }),
  });
  try {
    if (command === 'list') {
      const dead = await store.list(database.db);
      const chosen = ids.length ? dead.filter((letter) => ids.includes(letter.id)) : dead;
      for (const letter of chosen) process.stdout.write(`${store.line(letter)}\n`);
      process.stdout.write(`${chosen.length} dead-lettered ${store.noun}\n`);
      return;
    }
    const replayed = await store.replay(database.db, ids.length ? ids : 'all', env);
    process.stdout.write(`replayed ${replayed} ${store.noun}\n`);
  } finally {
    await database.close();
  }
}
