import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auth, json } from '../support/http.js';
import { type ServiceHandle, startService } from '../support/service.js';

describe('BHIV_METRICS_TOKEN', () => {
  const token = randomBytes(24).toString('base64url');
  let h: ServiceHandle;
  beforeAll(async () => {
    h = await startService({ env: { BHIV_METRICS_TOKEN: token } });
  });
  afterAll(async () => h?.stop());
  const metrics = (headers: Record<string, string> = {}) => fetch(`${h.url}/metrics`, { headers });

  it('lets the scraper with the token, and service_role, read /metrics', async () => {
    for (const res of [await metrics(auth(token)), await metrics(auth(h.serviceToken))]) {
      expect(res.status).toBe(200);
      expect(await res.text()).toContain('bucketgate_backend_operations_total');
    }
  });

  it('refuses anyone else with 401 Unauthenticated, and the token is no key to other routes', async () => {
    for (const headers of [{}, auth(await h.userToken('alice')), auth(`${token}x`), auth(token.slice(1))]) {
      const res = await metrics(headers);
      expect(res.status).toBe(401);
      expect((await json(res)).error.code).toBe('Unauthenticated');
    }
    const elsewhere = await fetch(`${h.url}/bucket/stats`, { headers: auth(token) });
    expect(elsewhere.status).toBe(401);
    expect((await json(elsewhere)).error.code).toBe('Unauthenticated');
  });

  it('is refused at start-up when short or not bearer-safe, naming the variable', async () => {
    for (const bad of ['short', `${'a'.repeat(40)} b`]) {
      await expect(startService({ env: { BHIV_METRICS_TOKEN: bad } })).rejects.toMatchObject({ code: 'ConfigInvalid', message: expect.stringContaining('BHIV_METRICS_TOKEN') });
    }
  });

  it('leaves /metrics open when unset (the default)', async () => {
    const open = await startService();
    try {
      expect((await fetch(`${open.url}/metrics`)).status).toBe(200);
    } finally {
      await open.stop();
    }
  });
});
