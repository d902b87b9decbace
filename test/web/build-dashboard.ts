import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/**
 * Vitest global setup: the service serves the dashboard from dist/web, which tests running
 * from src/ would otherwise lack. Quick when nothing under src/web changed (--if-stale).
 */
export default function buildDashboard(): void {
  const script = fileURLToPath(new URL('../../scripts/build-web.mjs', import.meta.url));
  execFileSync(process.execPath, [script, '--if-stale'], { stdio: 'inherit' });
}
