import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import type { ServiceContext } from '../../src/service/context.js';
import { redactedConfig } from '../../src/service/status.js';

describe('configuration shown by /storage/status', () => {
  it('hides credentials inside URLs and secret variables, and shows settings that only sound secret', () => {
    const config = loadConfig({
      S3_ENDPOINT_URL: 'http://minio:miniopass@localhost:9000',
      AWS_SECRET_ACCESS_KEY: 'very-secret',
      UPLOAD_TOKEN_TTL_SECONDS: '600',
      BHIV_BUCKET_PATH: '/tmp/bucketgate-redaction',
    });
    const shown = redactedConfig({ config } as ServiceContext);
    const text = JSON.stringify(shown);
    expect(text).not.toContain('miniopass');
    expect(text).not.toContain('very-secret');
    const variables = shown.variables as Record<string, string>;
    expect(variables.S3_ENDPOINT_URL).toBe('http://***@localhost:9000');
    expect(variables.AWS_SECRET_ACCESS_KEY).toBe('***');
    expect(variables.UPLOAD_TOKEN_TTL_SECONDS).toBe('600');
  });
});
