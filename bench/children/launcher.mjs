/**
 * Starts the anchors' programs (cp, cat, sync, openssl…) on request, so the bench process itself
 * never forks while it times anything. A fork marks every page of the forking process
 * copy-on-write: the next in-process case then pays a page fault on each page it writes (a
 * 100 MiB library read measured 60 % slower right after spawning `cat`, and not at all after
 * `cat` was started from here). This process is small, so its own fork is cheap too.
 * Protocol: one JSON line per request on stdin `{ id, cmd, args }`, one per exit on stdout
 * `{ id, code, signal, stderr }` or `{ id, error }`.
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import process from 'node:process';

const reply = (message) => process.stdout.write(`${JSON.stringify(message)}\n`);

createInterface({ input: process.stdin }).on('line', (line) => {
  const { id, cmd, args } = JSON.parse(line);
  const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d) => (stderr += d));
  child.once('error', (err) => reply({ id, error: err.message }));
  child.once('close', (code, signal) => reply({ id, code, signal, stderr }));
});
