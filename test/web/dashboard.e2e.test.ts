import { randomBytes } from 'node:crypto';
import { copyFile, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { SignJWT } from 'jose';
import type { Page, Response } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { formatBytes } from '../../src/web/app/format.js';
import { createLocalBackend } from '../../src/backends/local/index.js';
import type { Backend } from '../../src/core/backend.js';
import { forwardAll } from '../../src/layers/forward.js';
import { type BackendFactory, type ServiceHandle, startService } from '../support/service.js';
import { type Browser, js, launchChromium, requireChromium, waitUntil } from './support/browser.js';
import { makePng, makeWebm } from './support/media.js';

/**
 * The dashboard end to end: Debian's Chromium against the real service on local disk.
 * Steps share one browser and run in order, as a person would use it. Screenshots go to
 * test-results/dashboard/; BUCKETGATE_UPDATE_SCREENSHOT=1 also refreshes docs/dashboard.png.
 */
const SHOTS = 'test-results/dashboard';
const STEP_MS = 90_000;

describe('the dashboard in Chromium', () => {
  let service: ServiceHandle;
  let browser: Browser;
  let page: Page;
  let png: Buffer;
  let webm: Buffer;
  const streamed: { url: string; status: number; range: string | null }[] = [];
  /** Uncaught exceptions and Content-Security-Policy violations in the page: there must be none. */
  const pageProblems: string[] = [];

  // Toasts fade on their own; they are removed first only so they don't cover the screenshot.
  const shot = async (name: string) => {
    await js(page, "document.querySelectorAll('.toast').forEach((t) => t.remove())");
    await page.screenshot({ path: `${SHOTS}/${name}.png`, fullPage: true });
  };
  const row = (name: string) => page.locator(`tr.file-row[data-name="${name}"]`);
  const upload = (name: string) => page.locator(`li.upload[data-name="${name}"]`);
  const segmentBar = (segment: string) => page.locator(`#card-segments .bar-row[data-segment="${segment}"]`);

  async function chooseFiles(files: { name: string; mimeType: string; buffer: Buffer }[]) {
    const chooser = page.waitForEvent('filechooser');
    await page.getByRole('button', { name: 'Choose files' }).click();
    await (await chooser).setFiles(files);
  }

  async function openFiles(segment: string) {
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Files' }).click();
    await page.getByRole('navigation', { name: 'Segments' }).getByRole('link', { name: new RegExp(`^${segment}\\b`) }).click();
    await waitUntil(page, `location.hash.startsWith('#/files/${segment}/') && !document.querySelector('#listing[aria-busy]')`);
  }

  async function openOverview() {
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Overview' }).click();
    await page.locator('#card-segments').waitFor();
  }

  async function signInWithForm(token: string) {
    await page.getByLabel('Access token').fill(token);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  }

  /**
   * Local disk, except that the upload the test cancels (slow.webm) is held before the backend
   * reads a byte of it, until its body is cut off. The browser is then surely mid-body when it
   * cancels, however fast this machine moves 3 MiB (the emulated slow uplink alone left a race).
   */
  const gatedLocal: BackendFactory = async () => {
    const root = await mkdtemp(join(tmpdir(), 'bg-dash-'));
    const inner = await createLocalBackend({ root });
    const heldUntilCut = (body: Readable) =>
      new Promise<void>((resolve) => {
        if (body.destroyed) return resolve();
        body.once('close', () => resolve());
        setTimeout(resolve, 30_000).unref();
      });
    const backend: Backend = {
      ...forwardAll(inner, (_op, _key, call) => call()),
      async put(key, body, opts) {
        if (key.endsWith('/slow.webm')) await heldUntilCut(body);
        return inner.put(key, body, opts);
      },
    };
    return { backend, cleanup: () => rm(root, { recursive: true, force: true }) };
  };

  beforeAll(async () => {
    requireChromium();
    await mkdir(SHOTS, { recursive: true });
    png = makePng(64, 48);
    webm = await makeWebm(4);
    // Bodies are not buffered for retries here: that would read the held upload whole first.
    service = await startService({ backend: gatedLocal, env: { BHIV_RETRY_BUFFER_MB: '0' } });
    browser = await launchChromium({ origin: service.url });
    page = browser.page;
    page.setDefaultTimeout(20_000);
    page.on('pageerror', (err) => pageProblems.push(`uncaught: ${err.message}`));
    page.on('console', (message) => {
      if (/Content Security Policy/i.test(message.text())) pageProblems.push(`csp: ${message.text()}`);
    });
    page.on('response', (response: Response) => {
      if (response.url().includes('/cdn/stream/')) streamed.push({ url: response.url(), status: response.status(), range: response.request().headers().range ?? null });
    });
  });

  // A failed step must not leave a modal dialog over the page for the next one.
  afterEach(async () => {
    for (let i = 0; i < 3 && (await page?.locator('dialog[open]').count()) > 0; i++) await page.keyboard.press('Escape');
  });

  afterAll(async () => {
    await browser?.close();
    await service?.stop();
  });

  it('signs in from the link the service prints and shows backend, breaker and fallback', { timeout: STEP_MS }, async () => {
    await page.goto(`${service.url}/?poll=1000#token=${service.serviceToken}`);
    await page.getByRole('heading', { name: 'Overview' }).waitFor();
    // The token leaves the address bar at once, and lives in this tab's session storage only.
    expect(page.url()).not.toContain('token=');
    expect(await js(page, "sessionStorage.getItem('bucketgate.token')")).toBe(service.serviceToken);
    expect(await page.locator('#account-name').textContent()).toContain('test-operator');
    await page.locator('#card-backend').getByText('healthy').waitFor();
    expect(await page.locator('#card-backend .card-headline').textContent()).toContain('local');
    expect(await page.locator('#card-circuit .badge').textContent()).toBe('closed');
    expect(await page.locator('#card-fallback .badge').textContent()).toMatch(/^(idle|not configured)$/);
  });

  it('uploads an image and a short video at once and lists them with their sizes', { timeout: STEP_MS }, async () => {
    await openFiles('videos');
    await chooseFiles([
      { name: 'frame.png', mimeType: 'image/png', buffer: png },
      { name: 'clip.webm', mimeType: 'video/webm', buffer: webm },
    ]);
    await upload('frame.png').and(page.locator('[data-state="done"]')).waitFor();
    await upload('clip.webm').and(page.locator('[data-state="done"]')).waitFor();
    for (const [name, bytes] of [['frame.png', png.length], ['clip.webm', webm.length]] as const) {
      const size = row(name).locator('.size-cell');
      await size.waitFor();
      expect(await size.getAttribute('data-bytes')).toBe(String(bytes));
      expect((await size.textContent())?.trim()).toBe(formatBytes(bytes));
      expect(await row(name).locator('.type-cell').textContent()).toBe(name.endsWith('.png') ? 'image/png' : 'video/webm');
    }
    await shot('files');
  });

  it("refuses files the segment doesn't take and shows the service's reason", { timeout: STEP_MS }, async () => {
    await chooseFiles([
      { name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('not a video') },
      { name: 'huge.webm', mimeType: 'video/webm', buffer: Buffer.alloc(9 * 1024 * 1024) },
    ]);
    const wrongType = upload('notes.txt').and(page.locator('[data-state="failed"]'));
    await wrongType.waitFor();
    expect(await wrongType.locator('.upload-status').textContent()).toBe('Type not allowed: text/plain is not allowed in videos (allowed: video/*, audio/*, image/*)');
    const tooLarge = upload('huge.webm').and(page.locator('[data-state="failed"]'));
    await tooLarge.waitFor();
    expect(await tooLarge.locator('.upload-status').textContent()).toMatch(/^Too large: 9437184 bytes is over the limit of 8388608/);
    await shot('upload-errors');
    await page.getByRole('button', { name: 'Clear finished' }).click();
    expect(await page.locator('li.upload').count()).toBe(0);
    expect(await row('notes.txt').count()).toBe(0);
  });

  it('shows progress and cancels an upload midway, leaving nothing stored', { timeout: STEP_MS }, async () => {
    // A slow uplink (about 256 KiB/s), so there is time to watch progress and cancel.
    const cdp = await browser.context.newCDPSession(page);
    await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 20, downloadThroughput: -1, uploadThroughput: 256 * 1024 });
    try {
      await chooseFiles([{ name: 'slow.webm', mimeType: 'video/webm', buffer: Buffer.concat([webm, Buffer.alloc(3 * 1024 * 1024)]) }]);
      const job = upload('slow.webm');
      await waitUntil(page, "Number(document.querySelector('li.upload[data-name=\"slow.webm\"] progress')?.value) > 0");
      expect(await job.locator('.upload-status').textContent()).toMatch(/^\d+% · /);
      await page.getByRole('button', { name: 'Cancel upload of slow.webm' }).click();
      expect(await job.getAttribute('data-state')).toBe('cancelled');
    } finally {
      await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
      await cdp.detach();
    }
    await page.getByRole('button', { name: 'Refresh the list' }).click();
    await waitUntil(page, "!document.querySelector('#listing[aria-busy]')");
    expect(await row('slow.webm').count()).toBe(0);
    const listed = await service.storage.listFiles('videos');
    expect(listed.items.map((i) => i.filename).sort()).toEqual(['clip.webm', 'frame.png']);
    await page.getByRole('button', { name: 'Dismiss slow.webm' }).click();
  });

  it('plays the video through /cdn/stream and seeks with range requests, all from the keyboard', { timeout: STEP_MS }, async () => {
    const open = page.getByRole('button', { name: 'Preview clip.webm' });
    await open.focus();
    await page.keyboard.press('Enter');
    const dialog = page.getByRole('dialog', { name: 'clip.webm' });
    await dialog.waitFor();
    const video = dialog.locator('video');
    await video.waitFor();
    await waitUntil(page, "document.querySelector('dialog video').readyState >= 1", 20_000);
    const duration = await js<number>(page, "document.querySelector('dialog video').duration");
    expect(duration).toBeGreaterThan(3);
    await js(page, `new Promise((resolve) => { const v = document.querySelector('dialog video'); v.addEventListener('seeked', resolve, { once: true }); v.currentTime = ${duration * 0.75}; })`);
    await waitUntil(page, "document.querySelector('dialog video').readyState >= 2");
    await shot('preview-video');
    // Chromium reads media with Range requests; each came back partial (206).
    const id = await row('clip.webm').getAttribute('data-id');
    const partial = streamed.filter((r) => r.url.endsWith(`/cdn/stream/${id}`) && r.status === 206);
    expect(partial.length, JSON.stringify(streamed)).toBeGreaterThan(0);
    expect(partial.every((r) => r.range?.startsWith('bytes='))).toBe(true);
    // Esc closes the dialog and the focus returns to where it was.
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });
    expect(await js(page, "document.activeElement.getAttribute('aria-label')")).toBe('Preview clip.webm');
  });

  it('shows the image', { timeout: STEP_MS }, async () => {
    await page.getByRole('button', { name: 'Preview frame.png' }).click();
    const img = page.getByRole('dialog', { name: 'frame.png' }).getByRole('img', { name: 'Preview of frame.png' });
    await img.waitFor();
    await waitUntil(page, "document.querySelector('dialog img.media-preview').naturalWidth === 64");
    await page.getByRole('dialog', { name: 'frame.png' }).getByRole('button', { name: 'Close' }).click();
  });

  it('deletes with confirmation, and the stats follow', { timeout: STEP_MS }, async () => {
    await openOverview();
    await segmentBar('videos').waitFor();
    expect(await segmentBar('videos').getAttribute('data-value')).toBe(String(png.length + webm.length));
    expect(await segmentBar('videos').textContent()).toContain('2 objects');

    await openFiles('videos');
    await page.getByRole('button', { name: 'Delete frame.png' }).click();
    const confirm = page.getByRole('alertdialog', { name: 'Delete this file?' });
    await confirm.waitFor();
    // Cancel has the focus: Enter by mistake deletes nothing.
    expect(await js(page, 'document.activeElement.textContent')).toBe('Cancel');
    await page.keyboard.press('Enter');
    await confirm.waitFor({ state: 'detached' });
    expect(await row('frame.png').count()).toBe(1);

    await page.getByRole('button', { name: 'Delete frame.png' }).click();
    await confirm.getByRole('button', { name: 'Delete' }).click();
    await row('frame.png').waitFor({ state: 'detached' });
    expect(await row('clip.webm').count()).toBe(1);

    await openOverview();
    await waitUntil(page, `document.querySelector('#card-segments .bar-row[data-segment="videos"]')?.dataset.value === '${webm.length}'`);
    expect(await segmentBar('videos').textContent()).toContain('1 object');
    const stats = (await (await fetch(`${service.url}/bucket/stats`, { headers: { authorization: `Bearer ${service.serviceToken}` } })).json()) as { segments: Record<string, { count: number; bytes: number }> };
    expect(stats.segments.videos).toEqual({ count: 1, bytes: webm.length });
    // A few polls, so the traffic sparklines have something to draw.
    await waitUntil(page, "document.querySelectorAll('#card-traffic .spark-line').length >= 3", 15_000);
    await shot('overview');
  });

  it('a user sees only their own private files, reads JSON pretty-printed and shares a signed link', { timeout: STEP_MS }, async () => {
    await service.storage.uploadContent('{"secret":true}', 'ratings', 'bob/secret.json', { contentType: 'application/json' });
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { name: 'Sign in to bucketgate' }).waitFor();
    expect(await js(page, "sessionStorage.getItem('bucketgate.token')")).toBeNull();
    await signInWithForm(await service.userToken('alice'));
    await page.getByRole('heading', { name: 'Overview' }).waitFor();
    expect(await page.locator('#account-name').textContent()).toContain('alice');

    await openFiles('ratings');
    expect(await page.getByRole('navigation', { name: 'Folder' }).textContent()).toBe('ratings (your files)');
    expect(await page.locator('tr.file-row').count()).toBe(0);
    const rating = { video: 'clip.webm', score: 4.5, tags: ['calm', 'short'] };
    await chooseFiles([{ name: 'rating.json', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify(rating)) }]);
    await row('alice/rating.json').waitFor();
    expect(await row('bob/secret.json').count()).toBe(0);

    await page.getByRole('button', { name: 'Preview rating.json' }).click();
    const dialog = page.getByRole('dialog', { name: 'rating.json' });
    const text = dialog.locator('pre.text-preview');
    await text.waitFor();
    expect(await text.textContent()).toBe(JSON.stringify(rating, null, 2));
    expect(await text.locator('.json-key').count()).toBe(3);
    await shot('preview-json');

    // The copied link needs no credentials, names only this object, and expires.
    await dialog.getByRole('button', { name: 'Copy signed link' }).click();
    await waitUntil(page, "navigator.clipboard.readText().then((t) => t.includes('signature='))");
    const link = await js<string>(page, 'navigator.clipboard.readText()');
    const id = await row('alice/rating.json').getAttribute('data-id');
    expect(link).toMatch(new RegExp(`^${service.url}/cdn/download/${id}\\?expires=\\d+&signature=[\\w-]+$`));
    const shared = await fetch(link);
    expect(shared.status).toBe(200);
    expect(await shared.json()).toEqual(rating);
    // One day later than signed: refused.
    const later = new URL(link);
    later.searchParams.set('expires', String(Number(later.searchParams.get('expires')) + 86_400));
    expect((await fetch(later)).status).toBe(401);
    await dialog.getByRole('button', { name: 'Close' }).click();

    // Her overview counts her own ratings only; bob's stays invisible to her.
    await openOverview();
    expect(await segmentBar('ratings').textContent()).toContain('1 object');
  });

  it('shows a private image through a signed /cdn/stream link (an <img> sends no Authorization header)', { timeout: STEP_MS }, async () => {
    await openFiles('uploads');
    await chooseFiles([{ name: 'private.png', mimeType: 'image/png', buffer: png }]);
    await row('alice/private.png').waitFor();
    await page.getByRole('button', { name: 'Preview private.png' }).click();
    await waitUntil(page, "document.querySelector('dialog img.media-preview')?.naturalWidth === 64");
    const id = await row('alice/private.png').getAttribute('data-id');
    expect(await page.locator('dialog img.media-preview').getAttribute('src')).toMatch(new RegExp(`^${service.url}/cdn/stream/${id}\\?expires=\\d+&signature=`));
    await page.keyboard.press('Escape');
  });

  it('fits a phone screen', { timeout: STEP_MS }, async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    await openFiles('videos');
    await row('clip.webm').waitFor();
    const overflow = "document.documentElement.scrollWidth - document.documentElement.clientWidth";
    expect(await js<number>(page, overflow)).toBeLessThanOrEqual(0);
    // Rows become cards: no table header, the name on its own line.
    expect(await page.locator('.files-table thead').isVisible()).toBe(false);
    expect(await page.getByRole('button', { name: 'Preview clip.webm' }).isVisible()).toBe(true);
    await shot('phone-files');
    await openOverview();
    expect(await js<number>(page, overflow)).toBeLessThanOrEqual(0);
    await shot('phone-overview');
    await page.setViewportSize({ width: 1280, height: 860 });
  });

  it('turns a forged token away at sign-in, with the reason', { timeout: STEP_MS }, async () => {
    await page.getByRole('button', { name: 'Sign out' }).click();
    const forged = await new SignJWT({ role: 'service_role' })
      .setProtectedHeader({ alg: 'HS256' })
      .setAudience('authenticated')
      .setSubject('mallory')
      .setExpirationTime('1h')
      .sign(randomBytes(32));
    await signInWithForm(forged);
    const error = page.locator('#signin-error');
    await error.getByText('The service refused this token').waitFor();
    expect(await error.textContent()).toBe('The service refused this token: token is not valid');
    await shot('signin-refused');
  });

  it('shows a guest the public segments only, with their real rules; a sign-in link opened later in the tab signs in', { timeout: STEP_MS }, async () => {
    await page.locator('#guest').click();
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Files' }).click();
    const tabs = page.getByRole('navigation', { name: 'Segments' }).getByRole('link');
    await tabs.first().waitFor();
    expect(await tabs.allTextContents()).toEqual(['videos (public)']);
    await waitUntil(page, "document.body.textContent.includes('video/*, audio/*, image/*')");
    expect(await page.locator('body').textContent()).not.toContain('up to 0 B');
    // The link of a running session: its token is taken, and leaves the address bar.
    await page.goto(`${service.url}/#token=${service.serviceToken}`);
    await waitUntil(page, "document.querySelector('#account-name')?.textContent.includes('test-operator')");
    expect(page.url()).not.toContain('token=');
    await page.getByRole('button', { name: 'Sign out' }).click();
  });

  it('an operator signs back in and sees every user\'s files counted', { timeout: STEP_MS }, async () => {
    await service.storage.uploadContent('{"level":"info","msg":"render started","scene":1}\n{"level":"warn","msg":"slow frame","ms":48}\n', 'logs', 'render-01.ndjson', { contentType: 'application/x-ndjson' });
    await service.storage.uploadContent('INT. STUDIO - DAY\nA robot waves.\n', 'scripts', 'scene-01.txt', { contentType: 'text/plain' });
    await signInWithForm(service.serviceToken);
    await openOverview();
    await waitUntil(page, `document.querySelector('#card-segments .bar-row[data-segment="ratings"]')?.textContent.includes('2 objects')`);
    expect(await segmentBar('uploads').textContent()).toContain('1 object');
    // The picture for the README: a few seconds of traffic, every segment in use.
    const clipId = (await service.storage.listFiles('videos')).items[0]!.id;
    for (let i = 0; i < 8; i++) {
      await Promise.all(Array.from({ length: 1 + (i % 3) }, async () => (await fetch(`${service.url}/cdn/stream/${clipId}`)).arrayBuffer()));
      await page.waitForTimeout(700);
    }
    await waitUntil(page, "document.querySelector('#card-traffic .tile .tile-value')?.textContent !== '–'");
    await shot('overview-operator');
    if (process.env.BUCKETGATE_UPDATE_SCREENSHOT === '1') await copyFile(`${SHOTS}/overview-operator.png`, 'docs/dashboard.png');
  });

  it('ran without uncaught errors or blocked content', () => {
    expect(pageProblems).toEqual([]);
  });
});
