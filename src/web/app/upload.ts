import { type Api, ApiError } from './api.js';
import { h } from './dom.js';
import { messageOf, notify } from './feedback.js';
import { formatBytes } from './format.js';
import type { StoredObject } from './types.js';

type State = 'queued' | 'uploading' | 'done' | 'failed' | 'cancelled';

interface Job {
  file: File;
  segment: string;
  filename: string;
  state: State;
  xhr?: XMLHttpRequest;
  row: HTMLLIElement;
  progress: HTMLProgressElement;
  status: HTMLElement;
  button: HTMLButtonElement;
}

/** The service's message from an upload's JSON error body, or a plain description. */
function uploadError(xhr: XMLHttpRequest): string {
  try {
    const body = JSON.parse(xhr.responseText) as { error?: { message?: string } };
    if (body.error?.message) return body.error.message;
  } catch {
    // not JSON
  }
  return `the service answered ${xhr.status} ${xhr.statusText}`.trim();
}

/**
 * Uploads through the token flow: `GET /cdn/upload-url` (which already refuses files that are
 * too large or of a type the segment doesn't take, with the service's message), then the file
 * as the raw body of a POST to the token URL. XMLHttpRequest rather than fetch, because only it
 * reports upload progress. A few files go at once; the rest wait their turn.
 */
export class UploadQueue {
  private readonly jobs: Job[] = [];

  constructor(
    private readonly list: HTMLElement,
    private readonly api: Api,
    private readonly onUploaded: (stored: StoredObject) => void,
    private readonly concurrency = 2,
  ) {}

  add(files: File[], segment: string, folder: string): void {
    for (const file of files) {
      const job = this.render({ file, segment, filename: `${folder}${file.name}`, state: 'queued' });
      this.jobs.push(job);
    }
    this.list.closest('[hidden]')?.removeAttribute('hidden');
    this.pump();
  }

  /** Removes finished rows (done, failed, cancelled). */
  clearFinished(): void {
    for (const job of [...this.jobs]) if (job.state !== 'queued' && job.state !== 'uploading') this.dismiss(job);
  }

  private render(base: Pick<Job, 'file' | 'segment' | 'filename' | 'state'>): Job {
    const name = base.file.name;
    const progress = h('progress', { max: Math.max(1, base.file.size), value: 0, 'aria-label': `Upload progress of ${name}` });
    const status = h('span', { class: 'upload-status' }, 'Waiting…');
    const button = h('button', { type: 'button', class: 'button button-small', 'aria-label': `Cancel upload of ${name}` }, 'Cancel');
    const row = h('li', { class: 'upload', 'data-state': 'queued', 'data-name': name },
      h('div', { class: 'upload-head' }, h('span', { class: 'upload-name', title: base.filename }, name), h('span', { class: 'upload-size muted' }, formatBytes(base.file.size))),
      progress,
      h('div', { class: 'upload-foot' }, status, button),
    );
    this.list.append(row);
    const job: Job = { ...base, row, progress, status, button };
    button.addEventListener('click', () => (job.state === 'queued' || job.state === 'uploading' ? this.cancel(job) : this.dismiss(job)));
    return job;
  }

  private set(job: Job, state: State, text: string): void {
    job.state = state;
    job.row.dataset.state = state;
    job.status.textContent = text;
    if (state !== 'queued' && state !== 'uploading') {
      job.button.textContent = 'Dismiss';
      job.button.setAttribute('aria-label', `Dismiss ${job.file.name}`);
    }
  }

  private cancel(job: Job): void {
    if (job.xhr) job.xhr.abort();
    this.set(job, 'cancelled', 'Cancelled');
    notify(`Upload of ${job.file.name} cancelled`);
    this.pump();
  }

  private dismiss(job: Job): void {
    const index = this.jobs.indexOf(job);
    if (index >= 0) this.jobs.splice(index, 1);
    // Keep keyboard focus in the list rather than dropping it to the page.
    const next = (job.row.nextElementSibling ?? job.row.previousElementSibling)?.querySelector('button');
    const hadFocus = job.row.contains(document.activeElement);
    job.row.remove();
    if (hadFocus) (next ?? this.list.closest('section')?.querySelector<HTMLElement>('.upload-pick'))?.focus();
  }

  private pump(): void {
    const running = this.jobs.filter((j) => j.state === 'uploading').length;
    const waiting = this.jobs.filter((j) => j.state === 'queued');
    for (const job of waiting.slice(0, Math.max(0, this.concurrency - running))) void this.run(job);
  }

  private async run(job: Job): Promise<void> {
    this.set(job, 'uploading', 'Preparing…');
    try {
      const grant = await this.api.uploadGrant(job.segment, job.filename, job.file.type, job.file.size);
      if (job.state !== 'uploading') return;
      const stored = await this.send(job, this.api.uploadPath(grant), grant.contentType);
      job.progress.value = job.progress.max;
      this.set(job, 'done', 'Uploaded');
      notify(`${job.file.name} uploaded`, 'success');
      this.onUploaded(stored);
    } catch (err) {
      if (job.state !== 'uploading') return; // cancelled meanwhile
      const code = err instanceof ApiError ? err.status : 0;
      const reason = code === 413 ? 'Too large' : code === 415 ? 'Type not allowed' : 'Failed';
      this.set(job, 'failed', `${reason}: ${messageOf(err)}`);
      notify(`${job.file.name}: ${reason.toLowerCase()}: ${messageOf(err)}`, 'error');
    } finally {
      job.xhr = undefined;
      this.pump();
    }
  }

  private send(job: Job, url: string, contentType: string): Promise<StoredObject> {
    return new Promise((resolve, reject) => {
      const xhr = new XMLHttpRequest();
      job.xhr = xhr;
      xhr.open('POST', url);
      xhr.setRequestHeader('content-type', contentType);
      xhr.upload.addEventListener('progress', (event) => {
        job.progress.value = event.loaded;
        const pct = event.total ? Math.floor((event.loaded / event.total) * 100) : 0;
        job.status.textContent = `${pct}% · ${formatBytes(event.loaded)} of ${formatBytes(job.file.size)}`;
      });
      xhr.addEventListener('load', () => {
        if (xhr.status === 201 || xhr.status === 200) {
          try {
            resolve(JSON.parse(xhr.responseText) as StoredObject);
          } catch {
            reject(new ApiError(xhr.status, 'Internal', 'the service accepted the upload but its answer was unreadable'));
          }
        } else {
          reject(new ApiError(xhr.status, 'HTTP', uploadError(xhr)));
        }
      });
      xhr.addEventListener('error', () => reject(new ApiError(0, 'NetworkError', 'the connection closed before the upload finished')));
      xhr.addEventListener('abort', () => reject(new ApiError(0, 'Aborted', 'cancelled')));
      xhr.send(job.file);
    });
  }
}
