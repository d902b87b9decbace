import { randomBytes, randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../support/ports.js';
import { answersHttp, execFileAsync, requireCommands, stopPid, tailOf, waitUntil } from './process.js';
import { type S3TestServer, createBucket, warmUp } from './server.js';

const DAEMONS = ['client.rgw', 'osd.0', 'mon.a'] as const;

/**
 * A single-node Ceph cluster (one monitor, one in-memory OSD) with a RADOS Gateway in front,
 * all under one temp run folder (see shared/s3-test-servers.md). Ceph's own auth is off; the
 * gateway still checks S3 signatures against the user made here.
 */
function cephConf(dir: string, fsid: string, monPort: number, rgwPort: number): string {
  return `[global]
fsid = ${fsid}
mon initial members = a
# msgr v1 only: on a port other than 6789/3300 a bare address would also be tried as v2,
# whose client mode demands "secure", which auth "none" cannot give.
mon host = v1:127.0.0.1:${monPort}
ms bind msgr2 = false
public network = 127.0.0.1/32
auth cluster required = none
auth service required = none
auth client required = none
osd pool default size = 1
osd pool default min size = 1
osd crush chooseleaf type = 0
mon allow pool size one = true
mon warn on pool no redundancy = false
osd objectstore = memstore
memstore device bytes = 2147483648
log file = ${dir}/log/$name.log
run dir = ${dir}/run
admin socket = ${dir}/run/$name.asok
pid file = ${dir}/run/$name.pid
[mon.a]
mon data = ${dir}/mon
[osd.0]
osd data = ${dir}/osd
[client.rgw]
rgw frontends = beast endpoint=127.0.0.1:${rgwPort}
rgw data = ${dir}/rgw
`;
}

async function run(dir: string, command: string, args: string[]): Promise<string> {
  try {
    const { stdout } = await execFileAsync(command, args, { cwd: dir, timeout: 120_000 });
    return stdout;
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`${command} ${args.join(' ')} failed: ${(e.stderr || e.message).trim().split('\n').slice(-3).join(' | ')}`);
  }
}

/**
 * Starts the OSD (it daemonizes once up). Its first command to the monitor can leave before the
 * monitor's map has reached it, carrying a zero fsid, and the monitor refuses it with "wrong
 * fsid": the OSD exits. That happens in about one start in three here (Ceph 16.2); the store
 * made by mkfs is intact, so starting the OSD again is enough.
 */
async function startOsd(dir: string, conf: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await run(dir, 'ceph-osd', ['--id', '0', '-c', conf]);
      return;
    } catch (err) {
      if (attempt >= 8 || !(err as Error).message.includes('wrong fsid')) throw err;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

async function stopDaemons(dir: string): Promise<void> {
  for (const name of DAEMONS) {
    const pid = Number((await readFile(join(dir, 'run', `${name}.pid`), 'utf8').catch(() => '')).trim());
    // Data lives in RAM and is thrown away, so a short grace is enough.
    if (Number.isSafeInteger(pid) && pid > 0) await stopPid(pid, 3000);
  }
}

/**
 * Starts the cluster and gateway on free 127.0.0.1 ports (about 10-20 s); `stop()` ends every
 * daemon and removes the folder. A start that fails for any other reason is tried again from
 * scratch (the OSD's own "wrong fsid" refusal is retried in place: startOsd).
 */
export async function startCeph(opts: { bucket?: string } = {}): Promise<S3TestServer> {
  await requireCommands(['ceph-mon', 'ceph-osd', 'radosgw', 'radosgw-admin', 'monmaptool', 'ceph'], 'scripts/provision-ceph.sh (as root)');
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      // One cluster boots at a time: test files run in parallel, and a boot is CPU-heavy.
      return await oneAtATime(() => startCephOnce(opts));
    } catch (err) {
      lastError = err;
    }
  }
  throw lastError;
}

const START_LOCK = join(tmpdir(), 'bucketgate-ceph-start.lock');

/** A lock file shared by every test process on the machine; a stale one (a crashed holder) expires. */
async function oneAtATime<T>(work: () => Promise<T>): Promise<T> {
  const { open, stat, unlink } = await import('node:fs/promises');
  for (;;) {
    try {
      await (await open(START_LOCK, 'wx')).close();
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const age = await stat(START_LOCK).then((s) => Date.now() - s.mtimeMs, () => 0);
      if (age > 180_000) await unlink(START_LOCK).catch(() => undefined);
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  try {
    return await work();
  } finally {
    await unlink(START_LOCK).catch(() => undefined);
  }
}

async function startCephOnce(opts: { bucket?: string }): Promise<S3TestServer> {
  const dir = await mkdtemp(join(tmpdir(), 'bucketgate-ceph-'));
  const stop = async () => {
    await stopDaemons(dir);
    await rm(dir, { recursive: true, force: true });
  };
  try {
    for (const sub of ['mon', 'osd', 'rgw', 'run', 'log']) await mkdir(join(dir, sub));
    const [monPort, rgwPort] = [await freePort(), await freePort()];
    const fsid = randomUUID();
    const conf = join(dir, 'ceph.conf');
    await writeFile(conf, cephConf(dir, fsid, monPort, rgwPort));
    await run(dir, 'monmaptool', ['--create', '--addv', 'a', `[v1:127.0.0.1:${monPort}]`, '--fsid', fsid, join(dir, 'monmap')]);
    await run(dir, 'ceph-mon', ['--id', 'a', '--mkfs', '--monmap', join(dir, 'monmap'), '-c', conf]);
    await run(dir, 'ceph-mon', ['--id', 'a', '-c', conf]); // daemonizes; its pid goes to run/
    // The OSD registers under a uuid we choose, so its start-up check against the monitor agrees.
    const osdUuid = randomUUID();
    await run(dir, 'ceph', ['-c', conf, '--connect-timeout', '30', 'osd', 'create', osdUuid, '0']);
    await run(dir, 'ceph-osd', ['--id', '0', '--mkfs', '--osd-uuid', osdUuid, '--no-mon-config', '-c', conf]);
    await startOsd(dir, conf);
    await run(dir, 'radosgw', ['-n', 'client.rgw', '-c', conf]);
    const endpoint = `http://127.0.0.1:${rgwPort}`;
    await waitUntil('the Ceph RADOS Gateway', 90_000, () => answersHttp(endpoint)).catch(async (err) => {
      throw new Error(`${(err as Error).message}:\n${await tailOf(join(dir, 'log', 'client.rgw.log'))}`);
    });
    const accessKeyId = `BG${randomBytes(8).toString('hex').toUpperCase()}`;
    const secretAccessKey = randomBytes(20).toString('base64url');
    await run(dir, 'radosgw-admin', ['-c', conf, 'user', 'create', '--uid=bucketgate-test', '--display-name=bucketgate test', `--access-key=${accessKeyId}`, `--secret=${secretAccessKey}`]);
    const server = { endpoint, accessKeyId, secretAccessKey, region: 'us-east-1', bucket: opts.bucket ?? `bg-test-${randomBytes(4).toString('hex')}`, name: 'ceph', stop };
    await createBucket(server, server.bucket);
    await warmUp(server);
    return server;
  } catch (err) {
    await stop();
    throw err;
  }
}
