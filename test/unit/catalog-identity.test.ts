import { realpathSync } from 'node:fs';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { catalogIdentity } from '../../src/cli/target-catalog.js';

describe('catalogIdentity (migrate --reindex refuses a catalog shared by source and target)', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bg-catalog-id-'));
    await mkdir(join(dir, 'real'));
    await writeFile(join(dir, 'real', 'catalog.sqlite'), '');
    await symlink(join(dir, 'real'), join(dir, 'link'));
  });
  afterAll(async () => rm(dir, { recursive: true, force: true }));

  it('names one PostgreSQL database the same however its URL is spelled', () => {
    const one = catalogIdentity('postgres://bg:pw@db.example:5432/app');
    for (const same of ['postgresql://bg:other@DB.example/app', 'postgres://bg@db.example:5432/app?sslmode=require']) expect(catalogIdentity(same)).toBe(one);
    for (const other of ['postgres://bg@db.example:5433/app', 'postgres://bg@db.example/app2', 'postgres://ops@db.example/app']) expect(catalogIdentity(other)).not.toBe(one);
    expect(catalogIdentity('postgres://bg@db.example')).toBe(catalogIdentity('postgres://bg@db.example/bg')); // libpq: database defaults to the user
  });

  it('names one SQLite file the same through a symlink, a relative path or sqlite:', () => {
    const one = catalogIdentity(join(dir, 'real', 'catalog.sqlite'));
    expect(catalogIdentity(join(dir, 'link', 'catalog.sqlite'))).toBe(one);
    expect(catalogIdentity(`sqlite:${join(dir, 'link', 'catalog.sqlite')}`)).toBe(one);
    expect(catalogIdentity(join(dir, 'link', 'new.sqlite'))).toBe(join(realpathSync(join(dir, 'real')), 'new.sqlite')); // not created yet
    expect(catalogIdentity(join(dir, 'real', 'other.sqlite'))).not.toBe(one);
    expect(catalogIdentity(':memory:')).not.toBe(catalogIdentity(':memory:'));
  });
});
