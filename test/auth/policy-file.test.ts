import { describe, expect, it } from 'vitest';
import { parsePolicy } from '../../src/auth/policy-file.js';
import { Policy } from '../../src/auth/policy.js';
import { defaultSegments } from '../../src/config/segments.js';
import { defaultKeyRules } from '../../src/core/keys.js';

const segments = defaultSegments(100);
const k = (s: string) => defaultKeyRules.parse(s);
const alice = { role: 'authenticated' as const, sub: 'alice' };
const anon = { role: 'anon' as const };
const service = { role: 'service_role' as const };

describe('policy file', () => {
  const policy = new Policy(segments, parsePolicy({ segments: { scripts: { read: 'authenticated' }, logs: { read: 'service', write: 'service', delete: 'service' }, videos: { list: 'owner' } } }, segments));

  it('widens reading (and so listing) of a segment to every signed-in user', () => {
    expect(policy.can(alice, 'read', k('scripts/bob/plan.txt'))).toBe(true);
    expect(policy.visiblePrefix(alice, 'scripts')).toBe('');
    expect(policy.can(anon, 'read', k('scripts/bob/plan.txt'))).toBe(false);
    expect(policy.can(alice, 'write', k('scripts/bob/plan.txt'))).toBe(false);
    expect(policy.can(alice, 'delete', k('scripts/bob/plan.txt'))).toBe(false);
  });

  it('closes a segment to everyone but the service', () => {
    for (const action of ['read', 'list', 'write', 'delete'] as const) expect(policy.can(alice, action, k('logs/alice/own.log'))).toBe(false);
    expect(policy.scope(alice, 'read', 'logs')).toBeNull();
    expect(policy.can(service, 'delete', k('logs/alice/own.log'))).toBe(true);
  });

  it('can keep a public segment readable by anyone but listable only per folder', () => {
    expect(policy.isPublic('videos')).toBe(true);
    expect(policy.can(anon, 'read', k('videos/x/clip.mp4'))).toBe(true);
    expect(policy.visiblePrefix(anon, 'videos')).toBeNull();
    expect(policy.visiblePrefix(alice, 'videos')).toBe('alice/');
  });

  it('keeps the guide\'s rules where the file says nothing', () => {
    expect(policy.can(alice, 'read', k('uploads/bob/a.txt'))).toBe(false);
    expect(policy.rulesOf('uploads')).toEqual({ read: 'owner', list: 'owner', write: 'owner', delete: 'owner' });
  });

  it.each([
    ['an unknown segment', { segments: { nope: { read: 'public' } } }, /exist/],
    ['an unknown action', { segments: { uploads: { rename: 'owner' } } }, /actions/],
    ['an unknown level', { segments: { uploads: { read: 'everyone' } } }, /one of/],
    ['writes opened to every user', { segments: { uploads: { write: 'authenticated' } } }, /owner, service/],
    ['deletes opened to anyone', { segments: { uploads: { delete: 'public' } } }, /owner, service/],
    ['listing wider than reading', { segments: { uploads: { list: 'authenticated' } } }, /no wider than its read/],
    ['an unknown top-level key', { rules: {} }, /JSON object/],
    ['a public segment made private here', { segments: { videos: { read: 'owner' } } }, /BHIV_SEGMENTS_FILE/],
    ['a private segment made public here', { segments: { uploads: { read: 'public' } } }, /BHIV_SEGMENTS_FILE/],
    ['not an object', [1, 2], /JSON object/],
  ])('refuses %s', (_what, doc, message) => {
    expect(() => parsePolicy(doc, segments)).toThrow(message);
  });
});
