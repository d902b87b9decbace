import { type IncomingMessage, ServerResponse } from 'node:http';
import { isLentChunk, releaseChunk } from '../core/lent-chunks.js';

type WriteCallback = (err?: Error | null) => void;

/**
 * The server's response class: a chunk lent by a backend body (core/lent-chunks.ts) goes back
 * to that body once the socket has taken it, so a large download reads every next chunk into a
 * cache-warm buffer instead of fresh memory. Piping calls `write(chunk)`; the write's callback
 * fires when the bytes have left for the kernel (or the write failed), after which nothing here
 * reads the buffer again.
 */
export class ReleasingResponse<Request extends IncomingMessage = IncomingMessage> extends ServerResponse<Request> {
  override write(chunk: unknown, encodingOrCallback?: BufferEncoding | WriteCallback, callback?: WriteCallback): boolean {
    if (!isLentChunk(chunk)) return super.write(chunk, encodingOrCallback as BufferEncoding, callback);
    const done = typeof encodingOrCallback === 'function' ? encodingOrCallback : callback;
    const lent = chunk as Buffer;
    return super.write(lent, (err?: Error | null) => {
      releaseChunk(lent);
      done?.(err);
    });
  }
}
