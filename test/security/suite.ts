import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BackendFactory } from '../support/service.js';
import { atRestCases } from './cases/at-rest.js';
import { bodyCases, rawBodyCases } from './cases/bodies.js';
import { contentTypeCases } from './cases/content-types.js';
import { jwtCases } from './cases/jwt.js';
import { keyCases } from './cases/keys.js';
import { multipartCases } from './cases/multipart.js';
import { policyCases } from './cases/policies.js';
import { rangeCases } from './cases/ranges.js';
import { tokenCases } from './cases/tokens.js';
import type { Case } from './cases/types.js';
import { type SecurityContext, startSecurityService } from './context.js';
import { expectRawRefused, expectRefused, storeSnapshot } from './support.js';

export const GROUPS: [string, Case[]][] = [
  ['keys and paths', keyCases],
  ['bodies and sizes', bodyCases],
  ['multipart parsing', multipartCases],
  ['tokens and signed URLs', tokenCases],
  ['JWTs', jwtCases],
  ['policies between two users', policyCases],
  ['ranges and headers', rangeCases],
  ['content types', contentTypeCases],
  ['encryption at rest', atRestCases],
];

/**
 * The hostile-input suite (DESIGN §6): every case is a request an attacker could send; each must
 * get its exact refusal (status and code) and leave the bucket and catalog exactly as they were.
 * Parameterised by backend like the HTTP suite.
 */
export function describeSecuritySuite(name: string, opts: { backend?: BackendFactory; env?: Record<string, string> } = {}) {
  describe(`hostile input on ${name}`, () => {
    let c: SecurityContext;
    beforeAll(async () => {
      c = await startSecurityService(opts);
    });
    afterAll(async () => c?.stop());

    for (const [group, cases] of GROUPS) {
      describe(group, () => {
        for (const kase of cases) {
          it(kase.name, async (test) => {
            if (kase.only && !kase.only(c)) return test.skip();
            const prepared = await kase.setup?.(c);
            if ('hides' in kase.want) {
              const before = await storeSnapshot(c.h);
              const res = await kase.send(c, prepared);
              const text = await res.text();
              expect(res.status, text.slice(0, 300)).toBe(kase.want.status);
              for (const secret of kase.want.hides(c)) expect(text).not.toContain(secret);
              expect(await storeSnapshot(c.h)).toBe(before);
            } else {
              await expectRefused(c.h, () => kase.send(c, prepared), kase.want);
            }
          });
        }
      });
    }

    describe('malformed HTTP and slow clients', () => {
      for (const kase of rawBodyCases) {
        it(kase.name, async () => expectRawRefused(c.h, await kase.payload(c), kase.want, { timeoutMs: kase.timeoutMs }));
      }
    });
  });
}
