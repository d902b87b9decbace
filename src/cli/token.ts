import type { Command } from 'commander';
import { StorageError } from '../core/errors.js';
import { createStorage } from '../service/storage.js';

const ROLES = ['anon', 'authenticated', 'service_role'] as const;

export function registerToken(program: Command) {
  program
    .command('token')
    // Only HS256: with JWT_JWKS_URL or JWT_PUBLIC_KEY_FILE the private keys belong to the identity
    // provider, so its tokens come from there; ours stay valid while HS256 is in JWT_ALGORITHMS.
    .description('Mint a bearer token (JWT, HS256 over JWT_SECRET or the generated secret; RS256/ES256 tokens come from your identity provider)')
    .option('--role <role>', `one of ${ROLES.join(', ')}`, 'authenticated')
    .option('--sub <id>', 'user id (the folder the user owns in each segment)')
    .option('--ttl <seconds>', 'lifetime in seconds', '3600')
    .option('--json', 'print JSON')
    .action(async (opts: { role: string; sub?: string; ttl: string; json?: boolean }) => {
      if (!(ROLES as readonly string[]).includes(opts.role)) throw new StorageError('InvalidArgument', `--role must be one of ${ROLES.join(', ')}`);
      const ttl = /^\d{1,9}$/.test(opts.ttl) ? Number(opts.ttl) : Number.NaN;
      if (!Number.isInteger(ttl) || ttl < 1 || ttl > 365 * 24 * 3600) throw new StorageError('InvalidArgument', '--ttl must be whole seconds, up to a year');
      if (opts.role === 'authenticated' && (!opts.sub || opts.sub.includes('/'))) throw new StorageError('InvalidArgument', '--sub is required for authenticated tokens and may not contain "/"');
      const storage = await createStorage();
      try {
        const token = await storage.jwt.mint({ role: opts.role as (typeof ROLES)[number], sub: opts.sub, ttlSeconds: ttl });
        console.log(opts.json ? JSON.stringify({ token, role: opts.role, sub: opts.sub ?? null, expiresIn: ttl }) : token);
      } finally {
        await storage.close();
      }
    });
}
