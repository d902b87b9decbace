/**
 * Reads an HTTP/1.1 response from raw socket bytes and counts its body without keeping it:
 * status line and headers, then the body framed by Content-Length, chunked encoding, or the
 * connection's close. Bytes arrive in a buffer the socket reuses, so only what is kept
 * (headers, the start of an error body) is copied.
 */

const HEAD_END = Buffer.from('\r\n\r\n');
const MAX_HEAD = 64 * 1024;
const MAX_TEXT = 64 * 1024;

type Framing =
  | { kind: 'length'; remaining: number }
  | { kind: 'close' }
  | { kind: 'chunked'; state: 'size' | 'ext' | 'data' | 'data-end' | 'trailer'; size: number; remaining: number; lineLength: number };

export class ResponseCounter {
  status = 0;
  headers: Record<string, string> = {};
  /** Body bytes (payload only: chunk framing is not counted). */
  bytes = 0;
  /** The start of the body when the status is not 2xx (or with keepBody), for the error message. */
  text = '';
  /** The whole body has arrived (by its framing; `close` framing ends at end()). */
  done = false;
  private head: Buffer | undefined = Buffer.alloc(0);
  private framing: Framing = { kind: 'close' };

  /** `keepBody`: keep the start of any body in `text` (an upload's JSON answer), not only an error's. */
  constructor(private readonly keepBody = false) {}

  /** Feeds bytes as they arrive; `chunk` may be overwritten after this returns. */
  push(chunk: Buffer): void {
    if (this.done) return;
    if (this.head) {
      const head: Buffer = Buffer.concat([this.head, chunk]);
      const end = head.indexOf(HEAD_END);
      if (end < 0) {
        if (head.length > MAX_HEAD) throw new Error('response head larger than 64 KiB');
        this.head = head;
        return;
      }
      this.head = undefined;
      this.parseHead(head.subarray(0, end).toString('latin1'));
      const rest = head.subarray(end + HEAD_END.length);
      if (rest.length > 0) this.body(rest);
      return;
    }
    this.body(chunk);
  }

  /** The connection ended: complete for `close` framing, truncated otherwise. */
  end(): void {
    if (this.done) return;
    if (this.head) throw new Error('connection closed before the response head ended');
    if (this.framing.kind !== 'close') throw new Error(`connection closed mid-body after ${this.bytes} bytes`);
    this.done = true;
  }

  private parseHead(text: string): void {
    const [statusLine, ...lines] = text.split('\r\n');
    const match = /^HTTP\/1\.[01] (\d{3})/.exec(statusLine ?? '');
    if (!match) throw new Error(`not an HTTP/1.x response: ${statusLine}`);
    this.status = Number(match[1]);
    for (const line of lines) {
      const colon = line.indexOf(':');
      if (colon > 0) this.headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
    const length = this.headers['content-length'];
    if (/chunked/i.test(this.headers['transfer-encoding'] ?? '')) {
      this.framing = { kind: 'chunked', state: 'size', size: 0, remaining: 0, lineLength: 0 };
    } else if (length !== undefined) {
      this.framing = { kind: 'length', remaining: Number(length) };
      if (Number(length) === 0) this.done = true;
    }
  }

  private count(data: Buffer): void {
    this.bytes += data.length;
    if ((this.keepBody || this.status < 200 || this.status >= 300) && this.text.length < MAX_TEXT) this.text += data.toString('utf8');
  }

  private body(data: Buffer): void {
    const f = this.framing;
    if (f.kind === 'close') return this.count(data);
    if (f.kind === 'length') {
      const take = Math.min(f.remaining, data.length);
      this.count(data.subarray(0, take));
      f.remaining -= take;
      if (f.remaining === 0) this.done = true;
      return;
    }
    this.chunked(f, data);
  }

  /** Chunked framing: hex size line, data, CRLF, …, a zero size, trailers, an empty line. */
  private chunked(f: Extract<Framing, { kind: 'chunked' }>, data: Buffer): void {
    let i = 0;
    while (i < data.length && !this.done) {
      if (f.state === 'data') {
        const take = Math.min(f.remaining, data.length - i);
        this.count(data.subarray(i, i + take));
        f.remaining -= take;
        i += take;
        if (f.remaining === 0) f.state = 'data-end';
        continue;
      }
      const c = data[i++] as number;
      if (f.state === 'size' || f.state === 'ext') {
        if (c === 0x0a) {
          if (f.size === 0) {
            f.state = 'trailer';
            f.lineLength = 0;
          } else {
            f.state = 'data';
            f.remaining = f.size;
          }
        } else if (f.state === 'size' && c !== 0x0d) {
          const digit = parseInt(String.fromCharCode(c), 16);
          if (Number.isNaN(digit)) f.state = 'ext'; // `;name=value` chunk extensions, ignored
          else f.size = f.size * 16 + digit;
        }
      } else if (f.state === 'data-end') {
        if (c === 0x0a) {
          f.state = 'size';
          f.size = 0;
        }
      } else if (c === 0x0a) {
        // trailer section: ends with an empty line
        if (f.lineLength === 0) this.done = true;
        f.lineLength = 0;
      } else if (c !== 0x0d) {
        f.lineLength++;
      }
    }
  }
}
