import { type Server, type Socket, connect, createServer } from 'node:net';

/**
 * A tiny TCP proxy for failure tests: in front of a real server it passes traffic through,
 * slows it, drops connections part-way (a reset after a few bytes), swallows it (a black hole:
 * accepted, never answered), refuses it, or rewrites bytes on their way to the server (a
 * corrupting hop). Seeded, so a run is reproducible. `requests` records the request line of
 * every HTTP request that passed towards the server ("PUT /bucket/key"), to see what went on
 * the wire.
 */
export type ProxyMode =
  | { kind: 'pass' }
  | { kind: 'slow'; delayMs: number }
  | { kind: 'drop'; probability: number }
  | { kind: 'blackhole' }
  | { kind: 'refuse' }
  /** Replaces each `from` by `to` (the same length) in what clients send, within one chunk. */
  | { kind: 'rewrite'; from: Buffer; to: Buffer };

export interface TcpProxy {
  port: number;
  url: string;
  mode: ProxyMode;
  set(mode: ProxyMode): void;
  stats: { connections: number; dropped: number; refused: number; swallowed: number };
  requests: string[];
  /** Cuts every open connection (as a restart of the network path would). */
  cutAll(): void;
  close(): Promise<void>;
}

export async function startTcpProxy(target: { host: string; port: number }, opts: { seed?: number } = {}): Promise<TcpProxy> {
  let x = (opts.seed ?? 1) >>> 0 || 1;
  const random = () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 2 ** 32;
  };
  const open = new Set<Socket>();
  const stats = { connections: 0, dropped: 0, refused: 0, swallowed: 0 };
  const proxy: Partial<TcpProxy> & { mode: ProxyMode } = { mode: { kind: 'pass' } };
  const requests: string[] = [];
  const REQUEST_LINE = /(?:^|\r\n)(GET|PUT|POST|DELETE|HEAD) (\S+) HTTP\/1\.1\r\n/g;

  const server: Server = createServer((client) => {
    stats.connections++;
    const mode = proxy.mode;
    open.add(client);
    client.on('close', () => open.delete(client));
    client.on('error', () => undefined);
    if (mode.kind === 'refuse') {
      stats.refused++;
      client.resetAndDestroy();
      return;
    }
    if (mode.kind === 'blackhole') {
      stats.swallowed++;
      client.resume(); // read and forget, never answer
      return;
    }
    const upstream = connect(target.port, target.host);
    open.add(upstream);
    upstream.on('close', () => {
      open.delete(upstream);
      client.destroy();
    });
    upstream.on('error', () => client.destroy());
    client.on('close', () => upstream.destroy());
    // Drops are decided per chunk the client sends (a request, on a kept-alive connection),
    // so pooled connections are cut as often as fresh ones.
    const forward = (from: Socket, to: Socket, decides: boolean) => {
      from.on('data', (chunk: Buffer) => {
        const now = proxy.mode;
        if (decides && now.kind === 'drop' && random() < now.probability) {
          stats.dropped++;
          client.resetAndDestroy();
          upstream.destroy();
          return;
        }
        if (decides) {
          for (const m of chunk.toString('latin1').matchAll(REQUEST_LINE)) requests.push(`${m[1]} ${m[2]}`);
          if (now.kind === 'rewrite' && now.from.length === now.to.length) {
            for (let at = chunk.indexOf(now.from); at >= 0; at = chunk.indexOf(now.from, at + now.to.length)) now.to.copy(chunk, at);
          }
        }
        const write = () => {
          if (!to.destroyed && !to.write(chunk)) from.pause();
        };
        if (now.kind === 'slow') setTimeout(write, now.delayMs);
        else write();
      });
      to.on('drain', () => from.resume());
      from.on('end', () => {
        const now = proxy.mode;
        if (now.kind === 'slow') setTimeout(() => to.end(), now.delayMs);
        else to.end();
      });
    };
    forward(client, upstream, true);
    forward(upstream, client, false);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return Object.assign(proxy, {
    port,
    url: `http://127.0.0.1:${port}`,
    stats,
    requests,
    set(mode: ProxyMode) {
      proxy.mode = mode;
    },
    cutAll() {
      for (const s of open) s.destroy();
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of open) s.destroy();
        server.close(() => resolve());
      }),
  }) as TcpProxy;
}
