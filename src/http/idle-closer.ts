import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import { inFlight } from './in-flight.js';

/**
 * Makes `server.closeIdleConnections()` — called by `server.close()`, by Fastify on close, and
 * by our shutdown while keep-alive connections drain — spare every connection with a response
 * in progress. Node's own counts a connection idle once its response has been ended, even
 * while that response's last bytes still wait in memory for a slow reader: a graceful stop cut
 * such a download short. Here a connection is busy from its request until its response has
 * closed (sent, or aborted), and while the bytes of its next request arrive. Call it as soon
 * as the server exists.
 */
export function spareResponsesInProgress(server: Server): void {
  const answering = inFlight(server);
  const sockets = new Set<Socket>();
  /** Bytes a socket had read when it last fell idle: more since means a request is arriving. */
  const readWhenIdle = new Map<Socket, number>();
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    readWhenIdle.set(socket, 0);
    socket.once('close', () => {
      sockets.delete(socket);
      readWhenIdle.delete(socket);
    });
  });
  answering.onIdle((socket) => {
    if (readWhenIdle.has(socket as Socket)) readWhenIdle.set(socket as Socket, (socket as Socket).bytesRead);
  });
  server.closeIdleConnections = () => {
    for (const socket of sockets) {
      // Spared: a response in progress, or the first bytes of a next request (as Node spares a request being parsed).
      if (answering.of(socket).length > 0 || socket.bytesRead > (readWhenIdle.get(socket) ?? 0)) continue;
      socket.destroy();
    }
  };
}
