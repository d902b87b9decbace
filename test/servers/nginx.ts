// The throwaway nginx (static GET + WebDAV PUT on a free 127.0.0.1 port) lives with the
// benchmarks, which use it as their HTTP anchor; tests start the very same instance.
export { type NginxInstance, type NginxOptions, freePort, nginxMissing, startNginx } from '../../bench/lib/nginx.js';
