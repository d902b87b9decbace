import { execFile, execFileSync } from 'node:child_process';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { chown, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { freePort } from '../support/ports.js';

/**
 * A throwaway PostgreSQL cluster from the Debian package, for the catalog tests: its own
 * data folder, unix socket folder and a free TCP port on 127.0.0.1, trust auth, no fsync
 * (the data dies with the test). PostgreSQL refuses to run as root, so when the tests run
 * as root every server command runs as the `postgres` user.
 */
export interface PostgresTestServer {
  /** `postgres://postgres@127.0.0.1:<port>/postgres` */
  url: string;
  /** Milliseconds from initdb to accepting connections. */
  startedInMs: number;
  /** A fresh, empty database on this server; its URL. */
  newDatabase(): Promise<string>;
  /** Stops the server and removes its folder. Safe to call twice. */
  stop(): Promise<void>;
}

const run = promisify(execFile);
const PROVISION = 'scripts/provision-postgres.sh';

function findBinDir(): string {
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root)
    ? readdirSync(root)
        .filter((v) => existsSync(join(root, v, 'bin', 'initdb')) && existsSync(join(root, v, 'bin', 'pg_ctl')))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  if (versions.length === 0) throw new Error(`missing PostgreSQL server (/usr/lib/postgresql/*/bin/initdb): run ${PROVISION}`);
  return join(root, versions[0] as string, 'bin');
}

interface RunAs {
  /** Wraps a command so it runs as the cluster's owner. */
  wrap(bin: string, args: string[]): [string, string[]];
  uid: number;
  gid: number;
}

function runAs(): RunAs {
  if (process.getuid?.() !== 0) {
    return { wrap: (bin, args) => [bin, args], uid: -1, gid: -1 };
  }
  let uid: number;
  let gid: number;
  try {
    uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
    gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
  } catch {
    throw new Error(`missing system user "postgres" (PostgreSQL refuses to run as root): run ${PROVISION}`);
  }
  if (!existsSync('/usr/sbin/runuser') && !existsSync('/sbin/runuser') && !existsSync('/usr/bin/runuser')) {
    throw new Error('missing runuser (util-linux), needed to run PostgreSQL as "postgres" when tests run as root');
  }
  return { wrap: (bin, args) => ['runuser', ['-u', 'postgres', '--', bin, ...args]], uid, gid };
}

async function tail(file: string): Promise<string> {
  try {
    return (await readFile(file, 'utf8')).trim().split('\n').slice(-8).join('\n');
  } catch {
    return '(no log)';
  }
}

export async function startPostgres(): Promise<PostgresTestServer> {
  const bin = findBinDir();
  const as = runAs();
  const started = Date.now();
  const dir = await mkdtemp(join(tmpdir(), 'bucketgate-pg-'));
  if (as.uid >= 0) await chown(dir, as.uid, as.gid);
  const data = join(dir, 'data');
  const log = join(dir, 'server.log');
  // cwd: the postgres user may not be allowed into the repository folder.
  const exec = (tool: string, args: string[]) => {
    const [cmd, argv] = as.wrap(join(bin, tool), args);
    return run(cmd, argv, { cwd: dir, env: { ...process.env, LC_ALL: 'C', LANG: 'C' } });
  };
  const stopSync = () => {
    try {
      const [cmd, argv] = as.wrap(join(bin, 'pg_ctl'), ['-D', data, '-m', 'immediate', '-w', 'stop']);
      execFileSync(cmd, argv, { cwd: dir, stdio: 'ignore' });
    } catch {
      // not running
    }
  };
  // If the test process ends without calling stop(), do not leave a server or its files behind.
  const onExit = () => {
    stopSync();
    rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', onExit);

  if (as.uid >= 0) {
    try {
      execFileSync('runuser', ['-u', 'postgres', '--', 'test', '-w', dir]);
    } catch {
      process.removeListener('exit', onExit);
      await rm(dir, { recursive: true, force: true });
      throw new Error(`the postgres user cannot write ${dir}: set TMPDIR to a folder it can reach (e.g. /tmp)`);
    }
  }

  try {
    await exec('initdb', ['-D', data, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--locale=C', '--no-sync']);
  } catch (err) {
    process.removeListener('exit', onExit);
    await rm(dir, { recursive: true, force: true });
    throw new Error(`initdb failed: ${(err as { stderr?: string }).stderr?.trim() || String(err)}`);
  }

  let port = 0;
  for (let attempt = 1; ; attempt++) {
    port = await freePort();
    const opts = `-p ${port} -h 127.0.0.1 -k ${dir} -c fsync=off -c synchronous_commit=off -c full_page_writes=off`;
    try {
      await exec('pg_ctl', ['-D', data, '-l', log, '-w', '-t', '60', '-o', opts, 'start']);
      break;
    } catch (err) {
      // Another process may have taken the port between freePort() and the bind.
      const why = await tail(log);
      if (attempt < 3 && /could not bind|already in use/i.test(why)) continue;
      process.removeListener('exit', onExit);
      stopSync();
      await rm(dir, { recursive: true, force: true });
      throw new Error(`PostgreSQL did not start: ${why || String(err)}`);
    }
  }

  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  let stopped = false;
  let databases = 0;
  return {
    url,
    startedInMs: Date.now() - started,
    async newDatabase() {
      const name = `t${process.pid}_${++databases}`;
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        await client.query(`create database ${name}`);
      } finally {
        await client.end();
      }
      return `postgres://postgres@127.0.0.1:${port}/${name}`;
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      process.removeListener('exit', onExit);
      await exec('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']).catch(() => {});
      await rm(dir, { recursive: true, force: true });
    },
  };
}
