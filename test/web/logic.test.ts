import { describe, expect, it } from 'vitest';
import { type Session, decodeToken, homeFolder, isExpired, mayDelete, sessionFor, uploadFolder } from '../../src/web/app/claims.js';
import { baseName, formatBytes, previewKind } from '../../src/web/app/format.js';
import { MetricsHistory } from '../../src/web/app/metrics-history.js';
import { filesRoute, groupPage, parseFilesRoute } from '../../src/web/app/paths.js';
import type { OperationSummary, StoredObject } from '../../src/web/app/types.js';

const op = (count: number, bytes: number, failureRate = 0, p95: number | null = 5): OperationSummary => ({
  count,
  successRate: 1 - failureRate,
  failureRate,
  bytes,
  throughputMiBps: null,
  latencyMs: { p50: p95, p95, p99: p95 },
  errors: {},
});

describe('the metrics history', () => {
  it('turns cumulative counters into per-interval rates, leaving health probes out', () => {
    const history = new MetricsHistory(3);
    expect(history.push({ local: { put: op(10, 1000), health: op(4, 0) } }, 0)).toBeUndefined();
    const sample = history.push({ local: { put: op(20, 3000, 0.1, 8), get: op(10, 2048, 0, 2), health: op(400, 0) } }, 2000);
    // 10 puts (2 of 20 failed in total, 0 of the first 10 → 2 failures now) and 10 gets in 2 s.
    expect(sample).toEqual({ at: 2000, opsPerSecond: 10, bytesPerSecond: (2000 + 2048) / 2, errorRate: 2 / 20, latencyP95Ms: (8 * 10 + 2 * 10) / 20 });
  });

  it('keeps a fixed number of samples and has no rates for an idle interval', () => {
    const history = new MetricsHistory(2);
    history.push({ local: { put: op(1, 1) } }, 0);
    for (let t = 1; t <= 4; t++) history.push({ local: { put: op(1, 1) } }, t * 1000);
    expect(history.samples).toHaveLength(2);
    expect(history.samples[1]).toMatchObject({ opsPerSecond: 0, errorRate: null, latencyP95Ms: null });
  });

  it('starts over when the counters go backwards (the service restarted)', () => {
    const history = new MetricsHistory();
    history.push({ local: { put: op(50, 50) } }, 0);
    expect(history.push({ local: { put: op(3, 3) } }, 1000)).toBeUndefined();
    expect(history.push({ local: { put: op(5, 5) } }, 2000)).toMatchObject({ opsPerSecond: 2 });
  });
});

describe('the file browser paths', () => {
  const item = (filename: string): StoredObject => ({
    id: filename, key: `videos/${filename}`, segment: 'videos', filename, size: 1, contentType: 'video/webm',
    etag: '"x"', sha256: null, owner: null, createdAt: '', updatedAt: '', url: '',
  });

  it('groups a flat page into the folders and files of the current folder', () => {
    const { folders, files } = groupPage([item('a/1.webm'), item('a/2.webm'), item('b/c/3.webm'), item('top.webm')], '');
    expect(folders).toEqual(['a/', 'b/']);
    expect(files.map((f) => f.filename)).toEqual(['top.webm']);
    expect(groupPage([item('b/c/3.webm'), item('b/x.webm')], 'b/').folders).toEqual(['b/c/']);
  });

  it('round-trips segment and folder through the address, names with spaces and # included', () => {
    const route = filesRoute('videos', 'my clips/#1/');
    expect(route).toBe('#/files/videos/my%20clips/%231/');
    expect(parseFilesRoute(route)).toEqual({ segment: 'videos', folder: 'my clips/#1/' });
    expect(parseFilesRoute('#/files')).toEqual({ segment: undefined, folder: '' });
    expect(parseFilesRoute('#/files/logs/a')).toEqual({ segment: 'logs', folder: 'a/' });
  });
});

describe('token claims', () => {
  const token = (claims: object) => `x.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.y`;

  it('reads role, user and expiry, and refuses what is not a JWT', () => {
    expect(decodeToken(token({ role: 'authenticated', sub: 'alice', exp: 10 }))).toEqual({ role: 'authenticated', sub: 'alice', exp: 10 });
    expect(decodeToken('not-a-token')).toBeNull();
    expect(decodeToken(token({ role: 'root' }))).toBeNull();
    expect(isExpired(sessionFor(token({ role: 'anon', exp: 10 }))!, 20_000)).toBe(true);
  });

  it("mirrors the policy: a user's home is their folder in private segments; they delete only their own", () => {
    const alice = sessionFor(token({ role: 'authenticated', sub: 'alice' }))!;
    expect(homeFolder(alice, false)).toBe('alice/');
    expect(homeFolder(alice, true)).toBe('');
    expect(mayDelete(alice, 'alice/x.png')).toBe(true);
    expect(mayDelete(alice, 'bob/x.png')).toBe(false);
  });
});

describe('formatting', () => {
  it("says where a user's upload lands: their own folder, in public segments too", () => {
    const alice = { token: 't', role: 'authenticated', sub: 'alice' } as Session;
    expect(uploadFolder(alice, '')).toBe('alice/');
    expect(uploadFolder(alice, 'alice/clips/')).toBe('alice/clips/');
    expect(uploadFolder({ token: 't', role: 'service_role', sub: 'ops' } as Session, 'clips/')).toBe('clips/');
  });

  it('shows bidirectional controls in names instead of letting them reorder the text', () => {
    expect(baseName('uploads/rtl\u202egnp.exe')).toBe('rtl⟨U+202E⟩gnp.exe');
    expect(baseName('a/plain name.txt')).toBe('plain name.txt');
  });

  it('sizes in binary units', () => {
    expect(formatBytes(0)).toBe('0 B');
    expect(formatBytes(1023)).toBe('1023 B');
    expect(formatBytes(1536)).toBe('1.50 KiB');
    expect(formatBytes(8 * 1024 * 1024)).toBe('8 MiB');
  });

  it('picks a preview for each kind of content', () => {
    expect(previewKind('video/webm')).toBe('video');
    expect(previewKind('application/json; charset=utf-8')).toBe('json');
    expect(previewKind('application/x-ndjson')).toBe('ndjson');
    expect(previewKind('text/markdown')).toBe('text');
    expect(previewKind('application/zip')).toBe('none');
  });
});
