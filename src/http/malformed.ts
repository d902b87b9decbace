import { STATUS_CODES } from 'node:http';
import type { FastifyInstance } from 'fastify';
import { StorageError } from '../core/errors.js';
import { errorBody, statusOf } from './errors.js';
import { inFlight } from './in-flight.js';
import { SUPABASE_PREFIX } from './routes/supabase/index.js';

/**
 * Requests Node's parser cannot take (bad framing, headers too large or too slow) get our JSON
 * error, after whatever arrived whole before them on the connection has been answered; requests
 * it takes but we cannot read as sent (no Host, a transfer coding other than chunked) are refused
 * before any route sees them.
 */
export function refuseMalformedRequests(app: FastifyInstance): void {
  const server = app.server;
  const answering = inFlight(server);

  // Malformed HTTP (e.g. Content-Length with Transfer-Encoding) never reaches a route.
  server.removeAllListeners('clientError');
  server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
    if (!socket.writable) return socket.destroy();
    const refusal =
      err.code === 'HPE_HEADER_OVERFLOW'
        ? new StorageError('HeadersTooLarge', 'the request headers are too large')
        : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
          ? new StorageError('RequestTimeout', 'the request did not arrive in time')
          : new StorageError('InvalidArgument', 'malformed HTTP request');
    const code = statusOf(refusal.code);
    // The Supabase-compatible API answers in its own error shape, even here: the request is the
    // one whose body broke, if any, else the one whose head is in the bad bytes.
    const requests = answering.of(socket);
    const broken = requests.find(([req]) => !req.complete)?.[0];
    const requestLine = broken ? `${broken.method} ${broken.url}` : ((err as { rawPacket?: Buffer }).rawPacket?.toString('latin1', 0, 256) ?? '');
    const supabase = new RegExp(`^[A-Z]+ ${SUPABASE_PREFIX}[/?\\s]`).test(requestLine);
    const body = JSON.stringify(supabase ? { statusCode: String(code), error: STATUS_CODES[code], message: refusal.message, code: 'InvalidRequest' } : errorBody(refusal));
    const answer = `HTTP/1.1 ${code} ${STATUS_CODES[code]}\r\nContent-Type: application/json\r\nX-Content-Type-Options: nosniff\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`;
    // Bytes that follow a whole request on the same connection (pipelined, or a body longer than
    // its Content-Length) are another request: the earlier ones are answered first, then this one.
    // A request whose own body broke (req.complete false) is the malformed one: answered now.
    const earlier = requests.filter(([req]) => req.complete).map(([, res]) => res);
    if (earlier.length === 0) return socket.end(answer);
    let waiting = earlier.length;
    const answered = () => {
      if (--waiting === 0 && socket.writable) socket.end(answer);
    };
    for (const res of earlier) res.once('close', answered);
  });
  // What Node's parser lets through but would be misread: an HTTP/1.1 request without a Host, and
  // a transfer coding other than chunked (gzip, chunked…), whose body would be stored still encoded.
  // Refused with the connection closed: nothing after such a request can be trusted to be framed.
  app.addHook('onRequest', async (request, reply) => {
    const te = request.headers['transfer-encoding'];
    const refusal =
      te !== undefined && te.trim().toLowerCase() !== 'chunked'
        ? new StorageError('Unsupported', `transfer coding ${JSON.stringify(te.slice(0, 60))} is not supported (only chunked)`)
        : request.raw.httpVersionMajor === 1 && request.raw.httpVersionMinor >= 1 && !request.headers.host
          ? new StorageError('InvalidArgument', 'an HTTP/1.1 request needs a Host header')
          : undefined;
    if (!refusal) return;
    reply.header('connection', 'close');
    throw refusal;
  });
}
