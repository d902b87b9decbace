import { startService } from '../../test/support/service.js';
import { log, report } from './report.js';
import { as, body, client, drained, metric, pool, sha256 } from './services.js';

/**
 * 30 % of backend calls fail with 503 (the seeded fault layer on the local primary). Every
 * upload through the service must succeed: retried up to 3 times on the primary (4 attempts),
 * and the rare one that fails all four is absorbed by the fallback and replayed later.
 */
export async function fail30(uploads = 1000): Promise<void> {
  const h = await startService({
    env: { MAX_UPLOAD_SIZE_MB: '16', BHIV_IDLE_TIMEOUT_MS: '60000', BHIV_FAULTS: JSON.stringify({ seed: 30, unavailable: 0.3 }), BHIV_RETRY_ATTEMPTS: '4', BHIV_REPLAY_INTERVAL_MS: '200' },
  });
  await h.storage.resilience!.start();
  const s = '30 % of calls fail (503)';
  try {
    const faults = h.storage.resilience!.faults!;
    const attempts = new Map<number, number>();
    const statuses: number[] = [];
    const sums = new Map<string, string>();
    log(`fail30: ${uploads} uploads…`);
    await pool(
      Array.from({ length: uploads }, (_, i) => i),
      8,
      async (i) => {
        const data = body(i, 100_000);
        const r = await client.upload(as(h), 'uploads', `f30/${i}.bin`, data);
        statuses[i] = r.status;
        if (r.object) sums.set(r.object.id, sha256(data));
        const n = faults.calls('put', `uploads/f30/${i}.bin`);
        attempts.set(n, (attempts.get(n) ?? 0) + 1);
      },
    );
    const accepted = statuses.filter((x) => x === 201).length;
    const onPrimary = [...attempts].filter(([n]) => n <= 4).reduce((t, [, c]) => t + c, 0);
    const diverted = await metric(h, 'bucketgate_fallback_writes_total');
    report({ scenario: s, figure: 'calls failed by the fault layer', value: (faults.injected.unavailable / faults.steps) * 100, unit: '%' });
    report({ scenario: s, figure: 'uploads accepted', value: (accepted / uploads) * 100, unit: '%', min: 100 });
    report({ scenario: s, figure: 'uploads done on the primary within 3 retries', value: ((onPrimary - diverted) / uploads) * 100, unit: '%' });
    report({ scenario: s, figure: 'uploads absorbed by the fallback after 3 retries', value: diverted, unit: 'uploads' });
    report({ scenario: s, figure: 'most attempts on the primary for one upload', value: Math.max(...attempts.keys()), unit: 'attempts', max: 4 });
    log(`attempts per upload: ${JSON.stringify(Object.fromEntries([...attempts].sort((a, b) => a[0] - b[0])))}`);
    await drained(h);
    // Check with the faults off, so a read's own injected failures are not counted as loss.
    faults.update({ unavailable: 0 });
    let wrong = 0;
    for (const [id, sum] of sums) {
      const got = await client.download(as(h), id);
      if (got.status !== 200 || sha256(got.bytes) !== sum) wrong++;
    }
    report({ scenario: s, figure: 'uploads wrong or missing after replay', value: wrong, unit: 'uploads', max: 0 });
    report({ scenario: s, figure: 'retries (all operations)', value: await metric(h, 'bucketgate_backend_retries_total'), unit: 'retries' });
  } finally {
    await h.stop();
  }
}
