import type { SegmentConfig } from '../config/segments.js';
import { StorageError } from '../core/errors.js';
import type { ParsedKey } from '../core/keys.js';
import { type Action, type Level, type SegmentRules, defaultRules } from './policy-rules.js';
import type { Principal } from './principal.js';

export type { Action } from './policy-rules.js';

/**
 * Every access decision of the service is made here, for every way in (cdn routes, the
 * Supabase-compatible API, signed links, listings and statistics). The rules per segment come
 * from the segment's visibility and the optional BHIV_POLICY_FILE (src/auth/policy-file.ts);
 * by default they are the guide's: authenticated users upload; a user reads, lists and deletes
 * only under their own folder (`{segment}/{uid}/…`, Supabase's
 * `storage.foldername(name)[1] = auth.uid()`); public segments are readable by anyone;
 * `service_role` may do everything.
 */
export class Policy {
  private readonly rules: ReadonlyMap<string, SegmentRules>;

  constructor(segments: readonly SegmentConfig[], overrides: Readonly<Record<string, Partial<SegmentRules>>> = {}) {
    this.rules = new Map(segments.map((s) => [s.name, { ...defaultRules(s.public), ...overrides[s.name] }]));
  }

  /** The effective rules of a segment (for status pages and docs); unknown segments allow nothing. */
  rulesOf(segment: string): SegmentRules {
    return this.rules.get(segment) ?? { read: 'service', list: 'service', write: 'service', delete: 'service' };
  }

  /** Anyone, even without a token, may read the segment. */
  isPublic(segment: string): boolean {
    return this.rulesOf(segment).read === 'public';
  }

  /** Whether the level lets this principal act on the whole segment ('all'), only in their folder ('own'), or not at all. */
  private reach(who: Principal, level: Level): 'all' | 'own' | 'none' {
    if (who.role === 'service_role') return 'all';
    if (level === 'public') return 'all';
    const user = who.role === 'authenticated' && typeof who.sub === 'string' && who.sub !== '';
    if (!user) return 'none';
    if (level === 'authenticated') return 'all';
    return level === 'owner' ? 'own' : 'none';
  }

  can(who: Principal, action: Action, key: Pick<ParsedKey, 'segment' | 'parts'>): boolean {
    const reach = this.reach(who, this.rulesOf(key.segment)[action]);
    if (reach === 'all') return true;
    return reach === 'own' && key.parts[1] === who.sub && key.parts.length > 2;
  }

  assert(who: Principal, action: Action, key: Pick<ParsedKey, 'segment' | 'parts' | 'key'>): void {
    if (this.can(who, action, key)) return;
    if (who.role === 'anon') throw new StorageError('Unauthenticated', `sign in to ${action} ${key.key}`);
    throw new StorageError('Forbidden', `not allowed to ${action} ${key.key}`);
  }

  /**
   * The key prefix (after `segment/`) within which a principal may do `action`: '' for the whole
   * segment, the user's own folder, or null for nothing. Listings use 'list', statistics 'read'.
   */
  scope(who: Principal, action: Action, segment: string): string | null {
    const reach = this.reach(who, this.rulesOf(segment)[action]);
    if (reach === 'all') return '';
    return reach === 'own' ? `${who.sub}/` : null;
  }

  /** The prefix a principal may list within a segment (see `scope`). */
  visiblePrefix(who: Principal, segment: string): string | null {
    return this.scope(who, 'list', segment);
  }

  /** Where an upload of `filename` by this principal lands: users write into their own folder. */
  uploadPath(who: Principal, filename: string): string {
    if (who.role === 'service_role') return filename;
    if (who.role !== 'authenticated' || !who.sub) throw new StorageError('Unauthenticated', 'sign in to upload');
    return filename.startsWith(`${who.sub}/`) ? filename : `${who.sub}/${filename}`;
  }
}
