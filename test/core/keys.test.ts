import { describe, expect, it } from 'vitest';
import { StorageError } from '../../src/core/errors.js';
import { DEFAULT_SEGMENTS, KeyRules, MAX_KEY_BYTES, defaultKeyRules } from '../../src/core/keys.js';

const rules = defaultKeyRules;

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (err) {
    return err instanceof StorageError ? err.code : 'not a StorageError';
  }
}

describe('KeyRules.parse', () => {
  it('splits a key into segment, path and parts', () => {
    expect(rules.parse('uploads/a/b/c.png')).toEqual({ key: 'uploads/a/b/c.png', segment: 'uploads', path: 'a/b/c.png', parts: ['uploads', 'a', 'b', 'c.png'] });
  });

  it('accepts every default segment', () => {
    for (const segment of DEFAULT_SEGMENTS) expect(rules.parse(`${segment}/x`).segment).toBe(segment);
  });

  it('normalises Unicode to NFC', () => {
    const nfd = 'uploads/cafe\u0301.txt';
    const parsed = rules.parse(nfd);
    expect(parsed.key).toBe('uploads/caf\u00e9.txt');
    expect(parsed.key).toBe(rules.parse('uploads/caf\u00e9.txt').key);
  });

  it('keeps spaces, punctuation, emoji and dots inside names', () => {
    for (const key of ['uploads/my file.txt', 'uploads/a..b', 'uploads/.hidden', 'uploads/...', 'uploads/😀/✓', 'uploads/a%2e%2e', 'uploads/x.bg-tmp', 'uploads/.bucketgate']) {
      expect(rules.parse(key).key).toBe(key);
    }
  });

  it.each([
    ['empty', ''],
    ['segment only', 'uploads'],
    ['trailing slash', 'uploads/a/'],
    ['leading slash', '/uploads/a'],
    ['double slash', 'uploads//a'],
    ['dot part', 'uploads/./a'],
    ['dot-dot part', 'uploads/../a'],
    ['dot-dot first', '../uploads/a'],
    ['climbing', 'uploads/a/../../x'],
    ['backslash', 'uploads\\a'],
    ['backslash traversal', 'uploads\\..\\x'],
    ['NUL', 'uploads/a\u0000'],
    ['tab', 'uploads/a\tb'],
    ['newline', 'uploads/a\nb'],
    ['escape', 'uploads/\u001b[0m'],
    ['DEL', 'uploads/\u007f'],
    ['C1 control', 'uploads/a\u0085b'],
    ['lone high surrogate', 'uploads/sur\ud800.txt'],
    ['lone low surrogate', 'uploads/\udc00'],
    ['unknown segment', 'other/a'],
    ['segment in wrong case', 'Uploads/a'],
    ['reserved prefix', 'uploads/.bg-tmp-1'],
    ['reserved prefix deep', 'uploads/a/.bg-x/b'],
  ])('refuses %s with InvalidKey', (_label, key) => {
    expect(codeOf(() => rules.parse(key))).toBe('InvalidKey');
  });

  it('refuses a non-string with InvalidKey', () => {
    for (const value of [undefined, null, 42, {}, ['uploads', 'a']]) expect(codeOf(() => rules.parse(value))).toBe('InvalidKey');
  });

  it('allows exactly 1024 UTF-8 bytes and refuses 1025', () => {
    const base = 'uploads/';
    const exact = base + 'a'.repeat(MAX_KEY_BYTES - base.length);
    expect(rules.parse(exact).key).toBe(exact);
    expect(codeOf(() => rules.parse(`${exact}a`))).toBe('InvalidKey');
    // Counted in bytes, not characters: é is two bytes.
    const wide = base + 'é'.repeat((MAX_KEY_BYTES - base.length) / 2 + 1);
    expect(wide.length).toBeLessThan(MAX_KEY_BYTES);
    expect(codeOf(() => rules.parse(wide))).toBe('InvalidKey');
  });

  it('quotes the refused key in the message, shortened', () => {
    const err = (() => {
      try {
        rules.parse(`other/${'x'.repeat(500)}`);
      } catch (e) {
        return e as StorageError;
      }
      throw new Error('expected a refusal');
    })();
    expect(err.message).toContain('unknown segment');
    expect(err.message.length).toBeLessThan(300);
  });
});

describe('KeyRules.join', () => {
  it('builds segment/filename', () => {
    expect(rules.join('videos', 'a/b.mp4').key).toBe('videos/a/b.mp4');
  });

  it('refuses an unknown segment or a hostile filename', () => {
    expect(codeOf(() => rules.join('nope', 'a'))).toBe('InvalidKey');
    expect(codeOf(() => rules.join('uploads', '../x'))).toBe('InvalidKey');
    expect(codeOf(() => rules.join('uploads', ''))).toBe('InvalidKey');
  });
});

describe('KeyRules.parsePrefix', () => {
  it('accepts empty, partial segments, segments and partial names', () => {
    expect(rules.parsePrefix(undefined)).toBe('');
    expect(rules.parsePrefix('')).toBe('');
    expect(rules.parsePrefix('up')).toBe('up');
    expect(rules.parsePrefix('uploads/')).toBe('uploads/');
    expect(rules.parsePrefix('uploads/dir/par')).toBe('uploads/dir/par');
    expect(rules.parsePrefix('uploads/dir/')).toBe('uploads/dir/');
  });

  it('normalises to NFC', () => {
    expect(rules.parsePrefix('uploads/cafe\u0301')).toBe('uploads/caf\u00e9');
  });

  it('refuses traversal, absolute, backslash, control characters and unknown segments', () => {
    for (const prefix of ['/uploads', 'uploads/../', 'uploads/./', 'uploads//', 'uploads\\', 'uploads/\u0000', 'nope/', 'uploads/.bg-x/']) {
      expect(codeOf(() => rules.parsePrefix(prefix)), prefix).toBe('InvalidKey');
    }
  });
});

describe('KeyRules with configured segments', () => {
  it('knows only its own segments', () => {
    const custom = new KeyRules(['media', 'docs-2']);
    expect(custom.isSegment('media')).toBe(true);
    expect(custom.isSegment('uploads')).toBe(false);
    expect(custom.parse('docs-2/a').segment).toBe('docs-2');
    expect(codeOf(() => custom.parse('uploads/a'))).toBe('InvalidKey');
  });

  it('refuses a badly named segment with ConfigInvalid', () => {
    for (const bad of ['', 'Upper', '.hidden', 'a/b', '-lead', 'x'.repeat(64)]) {
      expect(codeOf(() => new KeyRules([bad])), bad).toBe('ConfigInvalid');
    }
  });
});
