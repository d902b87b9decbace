import { describe, expect, it } from 'vitest';
import type { Config } from '../../src/config/index.js';
import { UrlSigner } from '../../src/service/supabase/signing.js';

/** Signed-URL tokens of the compatible API follow the service's signing secrets, rotation included. */
const signer = (secrets: string[]) => UrlSigner.forService({ security: { signingSecrets: secrets } } as unknown as Config);
const A = 'a'.repeat(40);
const B = 'b'.repeat(40);

describe('signed URL tokens', () => {
  it('verify under the old secret while the new one signs, and not once it is retired', async () => {
    const token = await (await signer([A])).sign('uploads/x.txt', 'download', 60);
    await expect((await signer([B, A])).verify(token, 'uploads/x.txt', 'download')).resolves.toMatchObject({ url: 'uploads/x.txt', scope: 'download' });
    await expect((await signer([B])).verify(token, 'uploads/x.txt', 'download')).rejects.toMatchObject({ code: 'InvalidToken', details: { supabaseCode: 'InvalidJWT' } });
  });

  it('are bound to one object and one scope', async () => {
    const s = await signer([A]);
    const upload = await s.sign('uploads/x.txt', 'upload', 60, { owner: 'alice', upsert: false });
    await expect(s.verify(upload, 'uploads/x.txt', 'download')).rejects.toMatchObject({ details: { supabaseCode: 'InvalidSignature' } });
    await expect(s.verify(upload, 'uploads/y.txt', 'upload')).rejects.toMatchObject({ details: { supabaseCode: 'InvalidSignature' } });
    await expect(s.verify(upload, 'uploads/x.txt', 'upload')).resolves.toMatchObject({ owner: 'alice', upsert: false });
    await expect(s.sign('uploads/x.txt', 'download', 0)).rejects.toMatchObject({ code: 'InvalidArgument' });
  });
});
