import { rawClient } from '../../test/servers/server.js';
import { startRestartableMinio } from '../../test/resilience/minio-restartable.js';
import { startTcpProxy } from '../../test/support/tcp-proxy.js';
import { log, report } from './report.js';
import { as, body, client, drained, serviceOverMinio } from './services.js';

/** How long a hard outage takes to open the breaker, with uploads flowing all along. */
export async function outage(): Promise<void> {
  const minio = await startRestartableMinio();
  const proxy = await startTcpProxy({ host: '127.0.0.1', port: minio.port });
  const s3 = rawClient(minio);
  const s = 'hard outage';
  try {
    for (const kind of ['MinIO killed', 'network black hole'] as const) {
      const h = await serviceOverMinio(minio, { BHIV_BACKEND_TIMEOUT_MS: '1000' }, proxy.url);
      try {
        let running = true;
        let i = 0;
        const statuses: number[] = [];
        const traffic = (async () => {
          while (running) {
            const n = i++;
            void client.upload(as(h), 'uploads', `outage/${kind.length}/${n}.bin`, body(n, 20_000)).then((r) => statuses.push(r.status));
            await new Promise((r) => setTimeout(r, 20));
          }
        })();
        await new Promise((r) => setTimeout(r, 500));
        const at = Date.now();
        if (kind === 'MinIO killed') await minio.kill();
        else {
          proxy.set({ kind: 'blackhole' });
          proxy.cutAll();
        }
        while (h.storage.resilience!.circuit.state !== 'open' && Date.now() - at < 60_000) await new Promise((r) => setTimeout(r, 10));
        const openMs = Date.now() - at;
        report({ scenario: s, figure: `breaker open after (${kind})`, value: openMs / 1000, unit: 's', max: 5 });
        await new Promise((r) => setTimeout(r, 1000));
        if (kind === 'MinIO killed') await minio.start();
        proxy.set({ kind: 'pass' });
        proxy.cutAll();
        running = false;
        await traffic;
        await new Promise((r) => setTimeout(r, 3000));
        await drained(h);
        const refused = statuses.filter((x) => x !== 201).length;
        report({ scenario: s, figure: `uploads refused (${kind})`, value: refused, unit: `of ${statuses.length}`, max: 0 });
        log(`${kind}: breaker opened after ${openMs} ms; ${statuses.length} uploads`);
      } finally {
        await h.stop();
      }
    }
  } finally {
    s3.destroy();
    await proxy.close();
    await minio.destroy();
  }
}
