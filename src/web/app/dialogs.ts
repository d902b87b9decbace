import { h } from './dom.js';
import { releaseToasts } from './feedback.js';

/**
 * Modal dialogs on the native <dialog>: showModal() makes the rest of the page inert and Esc
 * closes it. Focus goes to the dialog's first control (or the one marked `autofocus`) and
 * back to whatever opened it on close.
 */
export interface OpenDialog {
  dialog: HTMLDialogElement;
  body: HTMLElement;
  close(): void;
  closed: Promise<void>;
}

let counter = 0;

export function openDialog(opts: { title: string; className?: string; content: Node[]; actions?: Node[]; onClose?: () => void }): OpenDialog {
  const opener = document.activeElement instanceof HTMLElement ? document.activeElement : null;
  const titleId = `dialog-title-${++counter}`;
  const body = h('div', { class: 'dialog-body' }, ...opts.content);
  const closeButton = h('button', { type: 'button', class: 'icon-button dialog-close', 'aria-label': 'Close' }, '×');
  const dialog = h(
    'dialog',
    { class: `dialog ${opts.className ?? ''}`, 'aria-labelledby': titleId },
    h('header', { class: 'dialog-header' }, h('h2', { id: titleId, class: 'dialog-title' }, opts.title), closeButton),
    body,
    opts.actions?.length ? h('footer', { class: 'dialog-actions' }, ...opts.actions) : null,
  );
  let resolveClosed: () => void = () => {};
  const closed = new Promise<void>((resolve) => (resolveClosed = resolve));
  const close = () => dialog.close();
  closeButton.addEventListener('click', close);
  // A click on the backdrop (the dialog element itself, outside its content box) closes it.
  dialog.addEventListener('click', (event) => {
    if (event.target !== dialog) return;
    const r = dialog.getBoundingClientRect();
    const inside = event.clientX >= r.left && event.clientX <= r.right && event.clientY >= r.top && event.clientY <= r.bottom;
    if (!inside) close();
  });
  dialog.addEventListener('close', () => {
    opts.onClose?.();
    releaseToasts(dialog);
    dialog.remove();
    // The opener may be gone (its row was deleted): then the main region takes the focus.
    if (opener?.isConnected) opener.focus();
    else document.getElementById('main')?.focus();
    resolveClosed();
  });
  document.body.append(dialog);
  dialog.showModal();
  const preferred = dialog.querySelector<HTMLElement>('[autofocus]');
  (preferred ?? closeButton).focus();
  return { dialog, body, close, closed };
}

/** Asks before something that can't be undone; resolves true only on an explicit yes. Cancel has the focus. */
export function confirmDialog(opts: { title: string; message: string; confirmLabel: string; danger?: boolean }): Promise<boolean> {
  let confirmed = false;
  const cancel = h('button', { type: 'button', class: 'button', autofocus: true }, 'Cancel');
  const confirm = h('button', { type: 'button', class: `button ${opts.danger ? 'button-danger' : 'button-primary'}` }, opts.confirmLabel);
  const open = openDialog({ title: opts.title, className: 'dialog-confirm', content: [h('p', {}, opts.message)], actions: [cancel, confirm] });
  open.dialog.setAttribute('role', 'alertdialog');
  cancel.addEventListener('click', () => open.close());
  confirm.addEventListener('click', () => {
    confirmed = true;
    open.close();
  });
  return open.closed.then(() => confirmed);
}
