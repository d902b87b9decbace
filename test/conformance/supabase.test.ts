import { createSupabaseBackend } from '../../src/backends/supabase/index.js';
import { startSupabaseServer } from '../supabase/server.js';
import { describeConformance } from './suite.js';

// The Supabase backend against a bucketgate speaking the Supabase Storage API over local disk.
describeConformance('supabase (bucketgate-compatible server on local disk)', async () => {
  const server = await startSupabaseServer();
  return { backend: createSupabaseBackend(server.options()), cleanup: () => server.stop() };
});
