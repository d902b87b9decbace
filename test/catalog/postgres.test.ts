import { describeCatalog } from './suite.js';
import { startPostgres } from '../servers/postgres.js';

describeCatalog('postgres', async () => {
  const server = await startPostgres();
  console.log(`PostgreSQL started in ${server.startedInMs} ms`);
  return { freshUrl: () => server.newDatabase(), stop: () => server.stop() };
});
