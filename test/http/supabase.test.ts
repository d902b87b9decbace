import { createSupabaseBackend } from '../../src/backends/supabase/index.js';
import { startSupabaseServer } from '../supabase/server.js';
import { describeHttpService } from './suite.js';

// The HTTP service with the Supabase backend, talking to a second bucketgate (local disk) that speaks the Supabase Storage API.
describeHttpService('supabase backend', async () => {
  const server = await startSupabaseServer();
  return { backend: createSupabaseBackend(server.options()), cleanup: () => server.stop() };
});
