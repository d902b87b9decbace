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
  let child;
  try {
    child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (err) {
    reply({ id, error: err.message }); // e.g. a NUL in an argument: this request fails, not the launcher
    return;
  }
  let stderr = '';
  let answered = false;
  const once = (message) => {
    if (!answered) reply(message);
    answered = true;
  };
  child.stderr.setEncoding('utf8').on('data', (d) => (stderr += d));
  child.once('error', (err) => once({ id, error: err.message }));
  child.once('close', (code, signal) => once({ id, code, signal, stderr }));
});
