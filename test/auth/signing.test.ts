import { describe, expect, it } from 'vitest';
import { RequestSigner } from '../../src/auth/signing.js';

const req = { method: 'GET' as const, key: 'uploads/alice/a.txt', expiresAt: Math.floor(Date.now() / 1000) + 60 };
const NEW = 'n'.repeat(40);
const OLD = 'o'.repeat(40);

describe('request signing', () => {
  it('binds every field: method, key, expiry, size, type and nonce', () => {
    const signer = new RequestSigner([NEW]);
    const full = { ...req, method: 'PUT' as const, maxBytes: 10, contentType: 'text/plain', nonce: 'abc' };
    const sig = signer.sign(full);
    expect(signer.matches(full, sig)).toBe(true);
    for (const changed of [
      { ...full, method: 'GET' as const },
      { ...full, key: 'uploads/alice/b.txt' },
      { ...full, expiresAt: full.expiresAt + 1 },
      { ...full, maxBytes: 11 },
      { ...full, contentType: 'text/html' },
      { ...full, nonce: 'abd' },
    ]) {
      expect(signer.matches(changed, sig)).toBe(false);
    }
  });

  it('keeps links valid across a rotation, and drops them once the old secret is retired', () => {
    const before = new RequestSigner([OLD]);
    const sig = before.sign(req);
    const during = new RequestSigner([NEW, OLD]);
    expect(() => during.verify(req, sig)).not.toThrow();
    expect(during.sign(req)).not.toBe(sig);
    const after = new RequestSigner([NEW]);
    expect(() => after.verify(req, sig)).toThrow(expect.objectContaining({ code: 'InvalidToken' }));
  });

  it('refuses expired links and malformed signatures; fields may not smuggle line breaks', () => {
    const signer = new RequestSigner([NEW]);
    const past = { ...req, expiresAt: Math.floor(Date.now() / 1000) - 1 };
    expect(() => signer.verify(past, signer.sign(past))).toThrow(/expired/);
    for (const bad of [undefined, '', 'x', 'A'.repeat(44), `${signer.sign(req).slice(0, 42)}=`]) expect(signer.matches(req, bad)).toBe(false);
    expect(() => signer.sign({ ...req, contentType: 'text/plain\nGET' })).toThrow(/line breaks/);
  });

  it('derives its key from the JWT secret when no signing secrets are set, never using the JWT secret itself', () => {
    const derived = RequestSigner.fromConfig(undefined, NEW);
    expect(derived.matches(req, new RequestSigner([NEW]).sign(req))).toBe(false);
    expect(derived.matches(req, RequestSigner.fromConfig(undefined, NEW).sign(req))).toBe(true);
  });
});
