import { rawClient } from '../../test/servers/server.js';
import { startRestartableMinio } from '../../test/resilience/minio-restartable.js';
import { log, report } from './report.js';
import { as, body, client, drained, metric, minioContents, openMultipartUploads, pool, serviceOverMinio, sha256 } from './services.js';

/**
 * A flapping primary: MinIO is killed and restarted over and over while 1,000 uploads and 200
 * deletes go through the service. At the end MinIO must hold exactly the acknowledged state:
 * nothing lost, nothing extra (duplicated), nothing deleted come back (resurrected).
 */
export async function flap(writes = 1000, deletes = 200): Promise<void> {
  const minio = await startRestartableMinio();
  const s3 = rawClient(minio);
  const h = await serviceOverMinio(minio);
  const s = 'flapping primary';
  let flapping = true;
  let flaps = 0;
  const flapper = (async () => {
    while (flapping) {
      await new Promise((r) => setTimeout(r, 700 + Math.random() * 800));
      if (!flapping) break;
      await minio.kill();
      flaps++;
      await new Promise((r) => setTimeout(r, 500 + Math.random() * 1000));
      await minio.start();
    }
  })();
  try {
    const expected = new Map<string, string>();
    const ids = new Map<string, string>();
    const failures: string[] = [];
    const keys = Array.from({ length: writes }, (_, i) => i);
    log(`flap: ${writes} writes, ${deletes} deletes while MinIO restarts…`);
    await pool(keys, 8, async (i) => {
      const data = body(i);
      const r = await client.upload(as(h), 'uploads', `flap/${i}.bin`, data);
      if (r.status !== 201) return void failures.push(`put ${i}: ${r.status} ${r.body.slice(0, 120)}`);
      expected.set(`uploads/flap/${i}.bin`, sha256(data));
      ids.set(`uploads/flap/${i}.bin`, r.object!.id);
    });
    const doomed = [...ids.keys()].filter((_, i) => i % Math.floor(writes / deletes) === 0).slice(0, deletes);
    await pool(doomed, 8, async (key) => {
      const status = await client.remove(as(h), ids.get(key)!);
      if (status !== 204) return void failures.push(`delete ${key}: ${status}`);
      expected.delete(key);
    });
    flapping = false;
    await flapper;
    if (!minio.running()) await minio.start();
    const recoveredAt = Date.now();
    await drained(h);
    const replayMs = Date.now() - recoveredAt;
    const actual = await minioContents(s3, minio.bucket, 'uploads/flap/');
    const lost = [...expected].filter(([k, v]) => actual.get(k) !== v).length;
    const resurrected = doomed.filter((k) => actual.has(k)).length;
    const extra = [...actual.keys()].filter((k) => !expected.has(k) && !doomed.includes(k)).length;
    const rows = (await client.list(as(h), 'uploads')).filter((o) => o.key.startsWith('uploads/flap/'));
    const diverted = await metric(h, 'bucketgate_fallback_writes_total');
    const replayed = await metric(h, 'bucketgate_outbox_replayed_total', 'outcome="done"');
    report({ scenario: s, figure: 'MinIO restarts during the run', value: flaps, unit: 'restarts', min: 1 });
    report({ scenario: s, figure: 'requests refused', value: failures.length, unit: 'requests', max: 0 });
    report({ scenario: s, figure: 'writes kept on the fallback', value: diverted, unit: 'writes' });
    report({ scenario: s, figure: 'outbox entries replayed', value: replayed, unit: 'entries' });
    report({ scenario: s, figure: 'lost (acknowledged, not on MinIO with its bytes)', value: lost, unit: 'objects', max: 0 });
    report({ scenario: s, figure: 'duplicated (on MinIO, never acknowledged)', value: extra, unit: 'objects', max: 0 });
    report({ scenario: s, figure: 'catalog rows beyond the expected objects', value: rows.length - expected.size, unit: 'rows', max: 0 });
    report({ scenario: s, figure: 'resurrected (deleted, back on MinIO)', value: resurrected, unit: 'objects', max: 0 });
    report({ scenario: s, figure: 'replay finished after recovery', value: replayMs / 1000, unit: 's', max: 60 });
    report({ scenario: s, figure: 'open multipart uploads on MinIO', value: await openMultipartUploads(s3, minio.bucket), unit: 'uploads', max: 0 });
    if (failures.length) log(failures.slice(0, 5).join('\n   '));
  } finally {
    flapping = false;
    await flapper.catch(() => undefined);
    await h.stop();
    s3.destroy();
    await minio.destroy();
  }
}
