import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';

/**
 * The requests each connection is answering: from a request's arrival until its response has
 * closed (sent, or aborted). One tracker per server, shared by whoever needs it (malformed.ts,
 * idle-closer.ts), so every request pays for one listener, not one per user.
 */
export interface InFlight {
  /** What `socket` is answering, oldest first, each request with its response. */
  of(socket: Duplex): [IncomingMessage, ServerResponse][];
  /** Called when a connection's last response in progress has closed. */
  onIdle(listener: (socket: Duplex) => void): void;
}

const trackers = new WeakMap<Server, InFlight>();

export function inFlight(server: Server): InFlight {
  let tracker = trackers.get(server);
  if (tracker) return tracker;
  const bySocket = new WeakMap<Duplex, Map<IncomingMessage, ServerResponse>>();
  const idle: ((socket: Duplex) => void)[] = [];
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const socket = req.socket;
    let requests = bySocket.get(socket);
    if (!requests) bySocket.set(socket, (requests = new Map()));
    requests.set(req, res);
    res.once('close', () => {
      requests.delete(req);
      if (requests.size === 0) for (const listener of idle) listener(socket);
    });
  });
  tracker = {
    of: (socket) => [...(bySocket.get(socket) ?? [])],
    onIdle: (listener) => void idle.push(listener),
  };
  trackers.set(server, tracker);
  return tracker;
}
