import { readFileSync } from 'node:fs';
import { configError } from '../config/parse.js';
import type { SegmentConfig } from '../config/segments.js';
import { ACTIONS, type Action, LEVELS, type Level, type SegmentRules, WRITE_LEVELS, defaultRules, isWider } from './policy-rules.js';

/**
 * Reads BHIV_POLICY_FILE: per-segment overrides of the default rules, e.g.
 *
 *   { "segments": {
 *       "scripts": { "read": "authenticated" },
 *       "logs":    { "read": "service", "write": "service", "delete": "service" } } }
 *
 * Whether a segment is public is said once, in BHIV_SEGMENTS_FILE; this file cannot contradict it.
 * Anything unknown (a segment, an action, a level) stops start-up, since a typo in a policy
 * silently widening or narrowing access is worse than not starting. Listing can never be wider
 * than reading: nobody may learn names of files they may not read.
 */
const VARIABLE = 'BHIV_POLICY_FILE';

function checkLevel(segment: string, action: Action, value: unknown): Level {
  const allowed: readonly string[] = action === 'write' || action === 'delete' ? WRITE_LEVELS : LEVELS;
  if (typeof value !== 'string' || !allowed.includes(value)) {
    throw configError(VARIABLE, `"${segment}".${action} to be one of ${allowed.join(', ')}`, JSON.stringify(value));
  }
  return value as Level;
}

export function parsePolicy(document: unknown, segments: readonly SegmentConfig[]): Record<string, Partial<SegmentRules>> {
  const doc = document as { segments?: unknown } | null;
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc) || Object.keys(doc).some((k) => k !== 'segments' && k !== '$comment')) {
    throw configError(VARIABLE, 'a JSON object { "segments": { "<segment>": { "read"|"list"|"write"|"delete": "<level>" } } }', JSON.stringify(document)?.slice(0, 60));
  }
  const entries = doc.segments ?? {};
  if (typeof entries !== 'object' || entries === null || Array.isArray(entries)) throw configError(VARIABLE, '"segments" to be an object', JSON.stringify(entries));
  const overrides: Record<string, Partial<SegmentRules>> = {};
  for (const [name, raw] of Object.entries(entries as Record<string, unknown>)) {
    const segment = segments.find((s) => s.name === name);
    if (!segment) throw configError(VARIABLE, `segments named in it to exist (known: ${segments.map((s) => s.name).join(', ')})`, name);
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw configError(VARIABLE, `"${name}" to be an object of action → level`, JSON.stringify(raw));
    const rules: Partial<SegmentRules> = {};
    for (const [action, level] of Object.entries(raw)) {
      if (!(ACTIONS as readonly string[]).includes(action)) throw configError(VARIABLE, `actions of "${name}" to be ${ACTIONS.join(', ')}`, action);
      rules[action as Action] = checkLevel(name, action as Action, level);
    }
    // Visibility lives in BHIV_SEGMENTS_FILE alone: caching, CDN redirects, S3 bucket policies and
    // Supabase bucket flags follow it, so the policy may not quietly contradict it.
    if (segment.public && rules.read !== undefined && rules.read !== 'public') {
      throw configError(VARIABLE, `"${name}".read to stay public (make the segment private in BHIV_SEGMENTS_FILE instead)`, rules.read);
    }
    if (!segment.public && (rules.read === 'public' || rules.list === 'public')) {
      throw configError(VARIABLE, `"${name}" to be made public in BHIV_SEGMENTS_FILE ("public": true), not here`, 'public');
    }
    // Reading set alone carries listing with it (the usual intent: "users may read all of it").
    if (rules.read && !rules.list) rules.list = rules.read;
    const effective = { ...defaultRules(segment.public), ...rules };
    if (isWider(effective.list, effective.read)) {
      throw configError(VARIABLE, `"${name}".list to be no wider than its read (${effective.read})`, effective.list);
    }
    overrides[name] = rules;
  }
  return overrides;
}

export function loadPolicyFile(path: string | undefined, segments: readonly SegmentConfig[]): Record<string, Partial<SegmentRules>> {
  if (path === undefined) return {};
  let document: unknown;
  try {
    document = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw configError(VARIABLE, 'a readable JSON file', `${path} (${(err as Error).message})`);
  }
  return parsePolicy(document, segments);
}
