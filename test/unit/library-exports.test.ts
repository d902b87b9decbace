import { describe, expect, it } from 'vitest';
import * as library from '../../src/index.js';

/** What the README's Library section names must be importable from the package entry point. */
describe('library entry point', () => {
  it('exports every factory the README names', () => {
    for (const name of ['createStorage', 'createLocalBackend', 'createS3Backend', 'createSupabaseBackend', 'releaseChunk', 'buildServer', 'openCatalog', 'loadConfig']) {
      expect(typeof (library as Record<string, unknown>)[name], name).toBe('function');
    }
  });

  it('createS3Backend builds an S3 backend without a round trip', async () => {
    const backend = await library.createS3Backend({ bucket: 'bucketgate-test', endpoint: 'http://127.0.0.1:9', forcePathStyle: true, accessKeyId: 'a', secretAccessKey: 'b' });
    expect(backend.kind).toBe('s3');
    expect(backend.capabilities.presign).toBe(true);
    await backend.close();
  });
});
