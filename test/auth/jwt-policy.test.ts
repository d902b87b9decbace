import { SignJWT, UnsecuredJWT } from 'jose';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { JwtAuthority } from '../../src/auth/jwt.js';
import { Policy } from '../../src/auth/policy.js';
import { defaultSegments } from '../../src/config/segments.js';
import { defaultKeyRules } from '../../src/core/keys.js';

const secret = 'x'.repeat(40);
const jwt = new JwtAuthority(secret);
const key = new TextEncoder().encode(secret);

describe('JWT verification', () => {
  it('accepts what it minted', async () => {
    const token = await jwt.mint({ role: 'authenticated', sub: 'u1', ttlSeconds: 60 });
    expect(await jwt.verify(token)).toEqual({ role: 'authenticated', sub: 'u1' });
  });

  it('refuses alg none, a missing or past exp, a wrong audience, another secret, a bad role', async () => {
    const none = new UnsecuredJWT({ role: 'service_role' }).setAudience('authenticated').setExpirationTime('1h').encode();
    const noExp = await new SignJWT({ role: 'service_role' }).setProtectedHeader({ alg: 'HS256' }).setAudience('authenticated').sign(key);
    const past = await new SignJWT({ role: 'service_role' }).setProtectedHeader({ alg: 'HS256' }).setAudience('authenticated').setExpirationTime(Math.floor(Date.now() / 1000) - 120).sign(key);
    const aud = await new SignJWT({ role: 'service_role' }).setProtectedHeader({ alg: 'HS256' }).setAudience('elsewhere').setExpirationTime('1h').sign(key);
    const other = await new SignJWT({ role: 'service_role' }).setProtectedHeader({ alg: 'HS256' }).setAudience('authenticated').setExpirationTime('1h').sign(new TextEncoder().encode('y'.repeat(40)));
    const role = await new SignJWT({ role: 'root' }).setProtectedHeader({ alg: 'HS256' }).setAudience('authenticated').setExpirationTime('1h').sign(key);
    const hs512 = await new SignJWT({ role: 'service_role' }).setProtectedHeader({ alg: 'HS512' }).setAudience('authenticated').setExpirationTime('1h').sign(new TextEncoder().encode('x'.repeat(64)));
    for (const token of [none, noExp, past, aud, other, role, hs512, 'garbage']) {
      await expect(jwt.verify(token)).rejects.toMatchObject({ code: 'Unauthenticated' });
    }
  });

  it('takes the minimal claims sub, role, exp (no aud, as Supabase\'s own keys), but never another audience', async () => {
    const minimal = await new SignJWT({ role: 'authenticated' }).setProtectedHeader({ alg: 'HS256' }).setSubject('u2').setExpirationTime('1h').sign(key);
    expect(await jwt.verify(minimal)).toEqual({ role: 'authenticated', sub: 'u2' });
    const supabaseServiceKey = await new SignJWT({ role: 'service_role', iss: 'supabase', ref: 'abcd' }).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).setIssuedAt().setExpirationTime('1h').sign(key);
    expect(await jwt.verify(supabaseServiceKey)).toEqual({ role: 'service_role', sub: undefined });
    // The anon audience is for anon tokens only; a list must name one of ours.
    const anonAudience = await new SignJWT({ role: 'service_role' }).setProtectedHeader({ alg: 'HS256' }).setAudience('anon').setExpirationTime('1h').sign(key);
    const others = await new SignJWT({ role: 'service_role' }).setProtectedHeader({ alg: 'HS256' }).setAudience(['a', 'b']).setExpirationTime('1h').sign(key);
    for (const token of [anonAudience, others]) await expect(jwt.verify(token)).rejects.toMatchObject({ code: 'Unauthenticated' });
  });

  describe('remembered verifications', () => {
    afterEach(() => vi.useRealTimers());

    it('stop at exp plus the skew: a token verified once is refused once it has expired', async () => {
      const strict = new JwtAuthority(secret, { clockSkewSeconds: 5 });
      const token = await strict.mint({ role: 'authenticated', sub: 'u1', ttlSeconds: 60 });
      expect(await strict.verify(token)).toEqual({ role: 'authenticated', sub: 'u1' });
      vi.useFakeTimers({ toFake: ['Date'], now: Date.now() + 63_000 });
      expect(await strict.verify(token)).toEqual({ role: 'authenticated', sub: 'u1' }); // within the skew
      vi.setSystemTime(Date.now() + 3_000);
      await expect(strict.verify(token)).rejects.toMatchObject({ code: 'Unauthenticated', message: 'token has expired' });
    });

    it('start at nbf minus the skew, and never make a changed token pass', async () => {
      const now = Math.floor(Date.now() / 1000);
      const later = await new SignJWT({ role: 'service_role' }).setProtectedHeader({ alg: 'HS256' }).setAudience('authenticated').setNotBefore(now + 100).setExpirationTime(now + 3600).sign(key);
      await expect(jwt.verify(later)).rejects.toMatchObject({ code: 'Unauthenticated' });
      vi.useFakeTimers({ toFake: ['Date'], now: (now + 100) * 1000 });
      expect(await jwt.verify(later)).toEqual({ role: 'service_role' });
      const good = await jwt.mint({ role: 'service_role', ttlSeconds: 600 });
      await jwt.verify(good);
      const [header, payload, signature] = good.split('.');
      const forged = `${header}.${Buffer.from(JSON.stringify({ role: 'service_role', aud: 'authenticated', exp: now + 99_999 })).toString('base64url')}.${signature}`;
      expect(payload).not.toBe(forged.split('.')[1]);
      await expect(jwt.verify(forged)).rejects.toMatchObject({ code: 'Unauthenticated' });
    });
  });

  it('refuses an authenticated token without a usable sub', async () => {
    const slash = await new SignJWT({ role: 'authenticated' }).setProtectedHeader({ alg: 'HS256' }).setAudience('authenticated').setSubject('a/b').setExpirationTime('1h').sign(key);
    await expect(jwt.verify(slash)).rejects.toMatchObject({ code: 'Unauthenticated' });
  });
});

describe('the guide\'s policies', () => {
  const policy = new Policy(defaultSegments(100));
  const k = (s: string) => defaultKeyRules.parse(s);
  const alice = { role: 'authenticated' as const, sub: 'alice' };
  const anon = { role: 'anon' as const };
  const service = { role: 'service_role' as const };

  it('lets a user read, write and delete only in their own folder', () => {
    for (const action of ['read', 'write', 'delete'] as const) {
      expect(policy.can(alice, action, k('uploads/alice/a.txt'))).toBe(true);
      expect(policy.can(alice, action, k('uploads/bob/a.txt'))).toBe(false);
      expect(policy.can(alice, action, k('uploads/alice'))).toBe(false);
    }
  });

  it('lets anyone read public segments, and nobody anonymous write', () => {
    expect(policy.can(anon, 'read', k('videos/x/clip.mp4'))).toBe(true);
    expect(policy.can(anon, 'write', k('videos/x/clip.mp4'))).toBe(false);
    expect(policy.can(anon, 'read', k('uploads/x/a.txt'))).toBe(false);
  });

  it('lets the service role do everything', () => {
    expect(policy.can(service, 'delete', k('uploads/bob/a.txt'))).toBe(true);
  });

  it('puts uploads of users into their folder', () => {
    expect(policy.uploadPath(alice, 'a.txt')).toBe('alice/a.txt');
    expect(policy.uploadPath(alice, 'alice/a.txt')).toBe('alice/a.txt');
    expect(policy.uploadPath(service, 'a.txt')).toBe('a.txt');
    expect(() => policy.uploadPath(anon, 'a.txt')).toThrow(/sign in/);
  });

  it('limits listing to what is visible', () => {
    expect(policy.visiblePrefix(alice, 'uploads')).toBe('alice/');
    expect(policy.visiblePrefix(alice, 'videos')).toBe('');
    expect(policy.visiblePrefix(anon, 'uploads')).toBeNull();
  });
});
