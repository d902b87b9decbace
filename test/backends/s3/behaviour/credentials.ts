import { type AddressInfo, type Socket, createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { StorageError } from '../../../../src/core/errors.js';
import { freePort } from '../../../support/ports.js';
import { bodyOf, expectCode, randomName } from '../../../conformance/helpers.js';
import type { S3TestEnv } from '../env.js';

/** Everything an error carries that could reach a log or a user. */
function exposed(err: StorageError): string {
  return [err.message, err.stack ?? '', JSON.stringify(err), JSON.stringify(err.details ?? {}), String(err.cause ?? '')].join('\n');
}

export function describeCredentials(env: () => S3TestEnv): void {
  describe('credentials and unreachable stores', () => {
    it('a wrong secret key fails every call with Unauthenticated, permanent, naming the variable and not the secret', async () => {
      const { backendWith, server } = env();
      const wrongSecret = `wrong-${server.secretAccessKey.slice(6)}`;
      const backend = await backendWith({ secretAccessKey: wrongSecret });
      const key = `uploads/cred-${randomName()}/x.txt`;
      const errors = [
        await expectCode(backend.put(key, bodyOf('x')), 'Unauthenticated'),
        await expectCode(backend.get(key), 'Unauthenticated'),
        await expectCode(backend.list('uploads/'), 'Unauthenticated'),
      ];
      for (const err of errors) {
        expect(err.temporary).toBe(false);
        expect(err.message).toMatch(/AWS_SECRET_ACCESS_KEY/);
        expect(exposed(err)).not.toContain(wrongSecret);
        expect(exposed(err)).not.toContain(server.secretAccessKey);
      }
      // HEAD answers carry no body, so the store cannot say which credential is wrong.
      const head = await backend.head(key).catch((e: unknown) => e as StorageError);
      expect(['Unauthenticated', 'Forbidden']).toContain((head as StorageError).code);
      await expect(backend.health()).rejects.toMatchObject({ code: 'BackendUnavailable', temporary: false });
    });

    it('an unknown access key is Unauthenticated and says which variable', async () => {
      const { backendWith } = env();
      const backend = await backendWith({ accessKeyId: 'NOSUCHKEY123456789' });
      const err = await expectCode(backend.list('uploads/'), 'Unauthenticated');
      expect(err.message).toMatch(/AWS_ACCESS_KEY_ID/);
    });

    it('a store that does not answer is BackendUnavailable, temporary (so the retry layer acts)', async () => {
      const { backendWith } = env();
      const port = await freePort();
      const backend = await backendWith({ endpoint: `http://127.0.0.1:${port}`, maxAttempts: 1 });
      const err = await expectCode(backend.head(`uploads/x-${randomName()}`), 'BackendUnavailable');
      expect(err.temporary).toBe(true);
      expect(err.message).toMatch(/could not be reached/);
      await expect(backend.health()).rejects.toMatchObject({ code: 'BackendUnavailable', temporary: true });
    });

    it('a store that accepts the connection but never answers times out as BackendUnavailable, temporary', async () => {
      const { backendWith } = env();
      const sockets: Socket[] = [];
      const silent = createServer((socket) => void sockets.push(socket)); // holds every connection open, says nothing
      await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
      try {
        const { port } = silent.address() as AddressInfo;
        const backend = await backendWith({ endpoint: `http://127.0.0.1:${port}`, maxAttempts: 1, socketTimeoutMs: 500 });
        const started = Date.now();
        const err = await expectCode(backend.head(`uploads/x-${randomName()}`), 'BackendUnavailable');
        expect(err.temporary).toBe(true);
        expect(Date.now() - started).toBeLessThan(10_000);
      } finally {
        silent.close();
        for (const socket of sockets) socket.destroy();
      }
    });

    it('a missing bucket is NotFound with a clear message', async () => {
      const { backendWith } = env();
      const backend = await backendWith({ bucket: `no-such-${randomName()}` });
      const err = await expectCode(backend.list('uploads/'), 'NotFound');
      expect(err.message).toMatch(/does not exist/);
      await expect(backend.health()).rejects.toMatchObject({ code: 'BackendUnavailable', temporary: false, message: expect.stringMatching(/bucket "no-such-.*" does not exist/) });
    });
  });
}
