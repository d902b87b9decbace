/**
 * Who may do what in a segment, as levels from widest to narrowest:
 *  - `public`: anyone, signed in or not;
 *  - `authenticated`: any signed-in user, anywhere in the segment;
 *  - `owner`: a signed-in user, only under their own folder `{segment}/{uid}/…` (the guide's rule);
 *  - `service`: only `service_role`.
 * `service_role` may always do everything. Writes and deletes are at most `owner`: no setting
 * lets one user overwrite or delete another user's file.
 */
export const LEVELS = ['public', 'authenticated', 'owner', 'service'] as const;
export type Level = (typeof LEVELS)[number];
export const WRITE_LEVELS = ['owner', 'service'] as const satisfies readonly Level[];

export type Action = 'read' | 'write' | 'delete' | 'list';
export const ACTIONS: readonly Action[] = ['read', 'list', 'write', 'delete'];

export type SegmentRules = Record<Action, Level>;

/** The guide's two rules: users upload into and manage their own folder; public segments are readable by anyone. */
export function defaultRules(isPublic: boolean): SegmentRules {
  const read: Level = isPublic ? 'public' : 'owner';
  return { read, list: read, write: 'owner', delete: 'owner' };
}

/** True when `a` lets in at least everyone `b` does. */
export function isWider(a: Level, b: Level): boolean {
  return LEVELS.indexOf(a) < LEVELS.indexOf(b);
}
