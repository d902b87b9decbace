import type { SegmentConfig } from '../config/segments.js';
import { StorageError } from '../core/errors.js';
import type { ParsedKey } from '../core/keys.js';
import type { Principal } from './principal.js';

export type Action = 'read' | 'write' | 'delete' | 'list';

/**
 * The guide's two rules, evaluated in this one place: authenticated users may upload, and a
 * user reads, lists and deletes only objects under their own folder (`{segment}/{uid}/…`,
 * Supabase's `storage.foldername(name)[1] = auth.uid()`). Public segments are readable by
 * anyone; `service_role` may do everything.
 */
export class Policy {
  private readonly publicSegments: ReadonlySet<string>;

  constructor(segments: readonly SegmentConfig[]) {
    this.publicSegments = new Set(segments.filter((s) => s.public).map((s) => s.name));
  }

  isPublic(segment: string): boolean {
    return this.publicSegments.has(segment);
  }

  can(who: Principal, action: Action, key: Pick<ParsedKey, 'segment' | 'parts'>): boolean {
    if (who.role === 'service_role') return true;
    if ((action === 'read' || action === 'list') && this.isPublic(key.segment)) return true;
    return who.role === 'authenticated' && who.sub !== undefined && key.parts[1] === who.sub && key.parts.length > 2;
  }

  assert(who: Principal, action: Action, key: Pick<ParsedKey, 'segment' | 'parts' | 'key'>): void {
    if (this.can(who, action, key)) return;
    if (who.role === 'anon') throw new StorageError('Unauthenticated', `sign in to ${action} ${key.key}`);
    throw new StorageError('Forbidden', `not allowed to ${action} ${key.key}`);
  }

  /**
   * The key prefix a principal may list within a segment: '' for all of it, the user's own
   * folder otherwise, or null when nothing there is visible to them.
   */
  visiblePrefix(who: Principal, segment: string): string | null {
    if (who.role === 'service_role' || this.isPublic(segment)) return '';
    if (who.role === 'authenticated' && who.sub) return `${who.sub}/`;
    return null;
  }

  /** Where an upload of `filename` by this principal lands: users write into their own folder. */
  uploadPath(who: Principal, filename: string): string {
    if (who.role === 'service_role') return filename;
    if (who.role !== 'authenticated' || !who.sub) throw new StorageError('Unauthenticated', 'sign in to upload');
    return filename.startsWith(`${who.sub}/`) ? filename : `${who.sub}/${filename}`;
  }
}
