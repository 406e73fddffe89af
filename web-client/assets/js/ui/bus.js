// Page-wide events ('outbox', 'session', 'synced': the outbox sent something) and the clean-up
// of the current view's listeners.

export const bus = new EventTarget();

/** @type {(() => void)[]} */
const cleanups = [];

/** Runs `fn` when the current view is left. @param {() => void} fn */
export function onLeave(fn) {
  cleanups.push(fn);
}

/** Leaves the current view. */
export function leave() {
  for (const fn of cleanups.splice(0)) fn();
}

/**
 * Listens on `target` until the current view is left.
 * @param {EventTarget} target
 * @param {string} type
 * @param {(e: Event) => void} fn
 */
export function listen(target, type, fn) {
  target.addEventListener(type, fn);
  onLeave(() => target.removeEventListener(type, fn));
}
