import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, type Page, chromium } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';

const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export interface Browser {
  context: BrowserContext;
  page: Page;
  close(): Promise<void>;
}

/** Fails with one line naming the fix when Debian's Chromium isn't installed. */
export function requireChromium(): void {
  if (!existsSync(CHROMIUM)) throw new Error('chromium is missing: apt-get install -y chromium');
}

/** Debian's Chromium, headless, with a fresh profile that is removed on close. */
export async function launchChromium(opts: { origin: string }): Promise<Browser> {
  requireChromium();
  const userDataDir = await mkdtemp(join(tmpdir(), 'bg-chromium-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: ARGS,
    viewport: { width: 1280, height: 860 },
    deviceScaleFactor: 1,
    locale: 'en-GB',
    timezoneId: 'UTC',
  });
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: opts.origin });
  const page = context.pages()[0] ?? (await context.newPage());
  return {
    context,
    page,
    async close() {
      await context.close();
      await rm(userDataDir, { recursive: true, force: true });
    },
  };
}

/**
 * Waits until an expression is truthy. Polls with evaluate() rather than page.waitForFunction,
 * whose polling runs `new Function` in the page, which the dashboard's CSP (rightly) refuses.
 */
export async function waitUntil(page: Page, expression: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      if (await page.evaluate(expression)) return;
    } catch (err) {
      last = err;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for: ${expression}${last ? ` (last error: ${String(last)})` : ''}`);
}

/** Evaluates an expression in the page. A string, because the test's TypeScript has no DOM types. */
export function js<T>(page: Page, expression: string): Promise<T> {
  return page.evaluate(expression) as Promise<T>;
}
