import type { Api } from './api.js';
import { debounce, h, srOnly } from './dom.js';
import { messageOf } from './feedback.js';
import { baseName, formatBytes, formatCount, formatDate, previewKind } from './format.js';
import { type IconName, icon } from './icons.js';
import { deleteWithConfirmation, openPreview } from './preview.js';
import { type Session, homeFolder, mayDelete, mayUpload, uploadFolder } from './claims.js';
import { filesRoute, groupPage } from './paths.js';
import { copyLink, download } from './share.js';
import type { SegmentInfo, StoredObject } from './types.js';
import { UploadQueue } from './upload.js';

function kindIcon(contentType: string): IconName {
  const kind = previewKind(contentType);
  return kind === 'image' || kind === 'video' || kind === 'audio' ? kind : kind === 'none' ? 'file' : 'text';
}

function describeSegment(s: SegmentInfo): string {
  const types = s.allowedTypes?.join(', ') ?? 'any type';
  const kept = s.retentionDays ? `kept ${s.retentionDays} days` : 'kept until deleted';
  return `${s.public ? 'Public: anyone can read' : 'Private: owners only'} · ${types} · up to ${formatBytes(s.maxBytes)} a file · ${kept}`;
}

export interface FilesDeps {
  api: Api;
  session: Session;
  segments: () => SegmentInfo[];
  /** Something was uploaded or deleted: the overview's figures are stale. */
  onChanged: () => void;
}

/** The file browser: segments, folders, prefix search, cursor pages, uploads, and the per-file actions. */
export class FileBrowser {
  private segment = '';
  private folder = '';
  private search = '';
  /** The cursor that fetched each page seen so far: going back needs them all. */
  private cursors: (string | undefined)[] = [undefined];
  private page = 0;
  private pageSize = 50;
  private loads = 0;
  private readonly uploads: UploadQueue;

  private readonly tabs = h('nav', { class: 'segment-tabs', 'aria-label': 'Segments' });
  private readonly info = h('p', { class: 'segment-info muted', id: 'segment-info' });
  private readonly crumbs = h('nav', { class: 'crumbs', 'aria-label': 'Folder' });
  private readonly searchInput = h('input', { type: 'search', id: 'file-search', placeholder: 'Name starts with…', autocomplete: 'off', spellcheck: 'false', 'aria-keyshortcuts': '/' });
  private readonly listing = h('div', { class: 'listing', id: 'listing' });
  private readonly summary = h('p', { class: 'list-summary muted', role: 'status' });
  private readonly prev = h('button', { type: 'button', class: 'button', disabled: true }, '← Previous');
  private readonly next = h('button', { type: 'button', class: 'button', disabled: true }, 'Next →');
  private readonly pageLabel = h('span', { class: 'page-label' }, 'Page 1');
  private readonly dropTarget = h('p', { class: 'drop-target' });
  private readonly drop: HTMLElement;

  constructor(
    private readonly root: HTMLElement,
    private readonly deps: FilesDeps,
  ) {
    const uploadList = h('ul', { class: 'uploads', 'aria-label': 'Uploads' });
    this.uploads = new UploadQueue(uploadList, deps.api, () => this.changed());
    this.drop = this.buildDropZone(uploadList);
    const pageSize = h('select', { id: 'page-size', 'aria-label': 'Files per page' }, ...[25, 50, 100, 200].map((n) => h('option', { value: n, selected: n === this.pageSize }, `${n} per page`)));
    pageSize.addEventListener('change', () => {
      this.pageSize = Number(pageSize.value);
      this.resetPages();
      void this.load();
    });
    const refresh = h('button', { type: 'button', class: 'icon-button', 'aria-label': 'Refresh the list', title: 'Refresh' }, icon('refresh'));
    refresh.addEventListener('click', () => void this.load());
    this.searchInput.addEventListener('input', debounce(() => {
      this.search = this.searchInput.value;
      this.resetPages();
      void this.load();
    }, 250));
    this.prev.addEventListener('click', () => this.turn(-1));
    this.next.addEventListener('click', () => this.turn(1));
    root.replaceChildren(
      h('div', { class: 'view-head' }, h('h1', { tabindex: -1, class: 'view-title' }, 'Files')),
      this.tabs,
      this.info,
      this.drop,
      h('div', { class: 'toolbar' },
        this.crumbs,
        h('div', { class: 'toolbar-controls' },
          h('label', { class: 'search' }, srOnly('Search: names starting with'), this.searchInput),
          pageSize,
          refresh,
        ),
      ),
      this.summary,
      this.listing,
      h('nav', { class: 'pager', 'aria-label': 'Pages' }, this.prev, this.pageLabel, this.next),
    );
  }

  private segmentInfo(name = this.segment): SegmentInfo | undefined {
    return this.deps.segments().find((s) => s.name === name);
  }

  private get isPublic(): boolean {
    return this.segmentInfo()?.public === true;
  }

  private get home(): string {
    return homeFolder(this.deps.session, this.isPublic);
  }

  /** Shows a segment and folder (from the route); the first segment when none is named. */
  show(segment?: string, folder = ''): void {
    const segments = this.deps.segments();
    const name = segment && segments.some((s) => s.name === segment) ? segment : segments[0]?.name;
    if (!name) {
      this.listing.replaceChildren(h('p', { class: 'muted' }, 'No segments are configured.'));
      return;
    }
    const changedSegment = name !== this.segment;
    this.segment = name;
    const home = this.home;
    const nextFolder = folder.startsWith(home) ? folder : home;
    if (changedSegment || nextFolder !== this.folder) {
      this.folder = nextFolder;
      this.search = '';
      this.searchInput.value = '';
      this.resetPages();
    }
    this.renderChrome();
    void this.load();
  }

  focusSearch(): void {
    this.searchInput.focus();
  }

  private resetPages(): void {
    this.cursors = [undefined];
    this.page = 0;
  }

  private turn(delta: number): void {
    this.page = Math.max(0, this.page + delta);
    void this.load().then(() => this.listing.querySelector<HTMLElement>('tbody button')?.focus());
  }

  private changed(): void {
    this.deps.onChanged();
    void this.load();
  }

  private buildDropZone(uploadList: HTMLElement): HTMLElement {
    const input = h('input', { type: 'file', multiple: true, class: 'sr-only', tabindex: -1, 'aria-hidden': 'true', id: 'file-input' });
    const pick = h('button', { type: 'button', class: 'button button-primary upload-pick' }, icon('upload'), ' Choose files');
    const clear = h('button', { type: 'button', class: 'button button-small' }, 'Clear finished');
    pick.addEventListener('click', () => input.click());
    clear.addEventListener('click', () => this.uploads.clearFinished());
    input.addEventListener('change', () => {
      if (input.files?.length) this.uploads.add([...input.files], this.segment, this.folder);
      input.value = '';
    });
    const zone = h('section', { class: 'dropzone', 'aria-label': 'Upload files', 'aria-describedby': 'segment-info' },
      h('div', { class: 'dropzone-inner' }, icon('upload'), this.dropTarget, pick, input),
      h('div', { class: 'uploads-panel', hidden: true }, h('div', { class: 'uploads-head' }, h('h2', { class: 'uploads-title' }, 'Uploads'), clear), uploadList),
    );
    // The whole view accepts drops; the zone lights up while files are dragged over.
    let depth = 0;
    const hasFiles = (e: DragEvent) => e.dataTransfer?.types.includes('Files') === true;
    this.root.addEventListener('dragenter', (e) => {
      if (!hasFiles(e) || !mayUpload(this.deps.session)) return;
      depth += 1;
      zone.classList.add('dragging');
    });
    this.root.addEventListener('dragleave', () => {
      depth = Math.max(0, depth - 1);
      if (depth === 0) zone.classList.remove('dragging');
    });
    this.root.addEventListener('dragover', (e) => {
      if (!hasFiles(e) || !mayUpload(this.deps.session)) return;
      e.preventDefault();
      if (e.dataTransfer) e.dataTransfer.dropEffect = 'copy';
    });
    this.root.addEventListener('drop', (e) => {
      depth = 0;
      zone.classList.remove('dragging');
      if (!hasFiles(e) || !mayUpload(this.deps.session)) return;
      e.preventDefault();
      const files = [...(e.dataTransfer?.files ?? [])];
      if (files.length) this.uploads.add(files, this.segment, this.folder);
    });
    return zone;
  }

  /** Segment tabs, the segment's rules, the folder path and where uploads land. */
  private renderChrome(): void {
    this.tabs.replaceChildren(
      ...this.deps.segments().map((s) => {
        const link = h('a', { href: filesRoute(s.name), class: 'segment-tab', 'aria-current': s.name === this.segment ? 'page' : null },
          icon(s.public ? 'globe' : 'lock'), h('span', {}, s.name), srOnly(s.public ? ' (public)' : ' (private)'));
        return link;
      }),
    );
    const info = this.segmentInfo();
    this.info.textContent = info ? describeSegment(info) : '';
    const home = this.home;
    const parts = this.folder.slice(home.length).split('/').filter(Boolean);
    const trail: HTMLElement[] = [h('a', { href: filesRoute(this.segment, home), 'aria-current': parts.length === 0 ? 'page' : null }, home ? `${this.segment} (your files)` : this.segment)];
    parts.forEach((part, i) => {
      const path = home + parts.slice(0, i + 1).join('/') + '/';
      trail.push(h('span', { class: 'crumb-sep', 'aria-hidden': 'true' }, '/'), h('a', { href: filesRoute(this.segment, path), 'aria-current': i === parts.length - 1 ? 'page' : null }, part));
    });
    this.crumbs.replaceChildren(...trail);
    const canUpload = mayUpload(this.deps.session);
    this.drop.hidden = !canUpload;
    this.dropTarget.replaceChildren('Drop files here to upload to ', h('strong', {}, `${this.segment}/${uploadFolder(this.deps.session, this.folder)}`), ', or');
  }

  async load(): Promise<void> {
    const seq = ++this.loads;
    const segment = this.segment;
    this.listing.setAttribute('aria-busy', 'true');
    try {
      const page = await this.deps.api.list(segment, { prefix: this.folder + this.search, cursor: this.cursors[this.page], limit: this.pageSize });
      if (seq !== this.loads) return; // a newer load started meanwhile
      if (page.items.length === 0 && this.page > 0) {
        // The last page emptied (its files were deleted): step back.
        this.page -= 1;
        return this.load();
      }
      this.cursors[this.page + 1] = page.cursor;
      this.cursors.length = this.page + 2;
      this.renderPage(page.items, page.cursor !== undefined);
    } catch (err) {
      if (seq !== this.loads) return;
      this.summary.textContent = '';
      this.listing.replaceChildren(h('p', { class: 'banner banner-error', role: 'alert' }, `Could not list ${segment}: ${messageOf(err)}`));
      this.prev.disabled = true;
      this.next.disabled = true;
    } finally {
      if (seq === this.loads) this.listing.removeAttribute('aria-busy');
    }
  }

  private renderPage(items: StoredObject[], hasMore: boolean): void {
    const { folders, files } = groupPage(items, this.folder);
    this.prev.disabled = this.page === 0;
    this.next.disabled = !hasMore;
    this.pageLabel.textContent = `Page ${this.page + 1}`;
    const counted = [
      folders.length ? `${folders.length} ${folders.length === 1 ? 'folder' : 'folders'}` : '',
      `${formatCount(files.length)} ${files.length === 1 ? 'file' : 'files'}`,
    ].filter(Boolean);
    this.summary.textContent = `${counted.join(', ')}${this.search ? ` starting with “${this.search}”` : ''} · page ${this.page + 1}${hasMore ? ', more on the next' : ''}`;
    if (folders.length === 0 && files.length === 0) {
      const empty = this.search ? `No names start with “${this.search}” here.` : mayUpload(this.deps.session) ? 'No files here yet. Drop some above to upload them.' : 'No files here yet.';
      this.listing.replaceChildren(h('div', { class: 'empty' }, icon('folder'), h('p', {}, empty)));
      return;
    }
    const table = h('table', { class: 'files-table' },
      h('caption', { class: 'sr-only' }, `Files in ${this.segment}/${this.folder}`),
      h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Name'), h('th', { scope: 'col' }, 'Type'), h('th', { scope: 'col', class: 'num' }, 'Size'), h('th', { scope: 'col' }, 'Modified'), h('th', { scope: 'col' }, srOnly('Actions')))),
      h('tbody', {}, ...folders.map((f) => this.folderRow(f)), ...files.map((f) => this.fileRow(f))),
    );
    this.listing.replaceChildren(h('div', { class: 'table-scroll' }, table));
  }

  private folderRow(path: string): HTMLTableRowElement {
    const name = baseName(path);
    return h('tr', { class: 'folder-row', 'data-folder': path },
      h('td', { class: 'name-cell', 'data-label': 'Folder' }, h('a', { href: filesRoute(this.segment, path), class: 'name-link' }, icon('folder'), h('span', {}, `${name}/`), srOnly(' (folder)'))),
      h('td', { class: 'muted', 'data-label': 'Type' }, 'folder'),
      h('td', { class: 'num muted', 'data-label': 'Size' }, '–'),
      h('td', { class: 'muted', 'data-label': 'Modified' }, '–'),
      h('td', {}),
    );
  }

  private fileRow(item: StoredObject): HTMLTableRowElement {
    const name = baseName(item.filename);
    const { api, session } = this.deps;
    const isPublic = this.isPublic;
    const onDeleted = () => this.changed();
    const open = h('button', { type: 'button', class: 'name-link', 'aria-label': `Preview ${name}` }, icon(kindIcon(item.contentType)), h('span', {}, name));
    open.addEventListener('click', () => openPreview({ api, item, isPublic, canDelete: mayDelete(session, item.filename), onDeleted }));
    const action = (label: string, iconName: IconName, run: () => void, cls = '') => {
      const button = h('button', { type: 'button', class: `icon-button ${cls}`, 'aria-label': `${label} ${name}`, title: label }, icon(iconName));
      button.addEventListener('click', run);
      return button;
    };
    const actions = h('div', { class: 'row-actions' },
      action('Download', 'download', () => void download(api, item, isPublic)),
      action(isPublic ? 'Copy link to' : 'Copy signed link to', 'link', () => void copyLink(api, item, isPublic)),
      mayDelete(session, item.filename) ? action('Delete', 'trash', () => void deleteWithConfirmation(api, item, onDeleted), 'icon-danger') : null,
    );
    return h('tr', { class: 'file-row', 'data-id': item.id, 'data-name': item.filename },
      h('td', { class: 'name-cell', 'data-label': 'Name' }, open),
      h('td', { class: 'type-cell', 'data-label': 'Type' }, item.contentType),
      h('td', { class: 'num size-cell', 'data-label': 'Size', 'data-bytes': item.size, title: `${formatCount(item.size)} bytes` }, formatBytes(item.size)),
      h('td', { 'data-label': 'Modified' }, h('time', { datetime: item.updatedAt, title: item.updatedAt }, formatDate(item.updatedAt))),
      h('td', { class: 'actions-cell' }, actions),
    );
  }
}
