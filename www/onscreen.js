// Which of the page's panels the visitor can see: while the model trains, the scheduler redraws
// only those (each redraw is work the trainer does instead of training), and a panel that missed
// redraws is redrawn as soon as it scrolls into view (or the tab comes back).
const MARGIN = "250px 0px"; // a panel about to scroll into view counts as on screen

const state = new Map(); // element → true / false once the observer has said, null before
const listeners = new Set();
let observer = null;

function start() {
  if (observer || typeof IntersectionObserver === "undefined") return;
  observer = new IntersectionObserver((entries) => {
    for (const e of entries) {
      const was = state.get(e.target);
      state.set(e.target, e.isIntersecting);
      if (e.isIntersecting && was === false) shown();
    }
  }, { rootMargin: MARGIN });
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible") shown();
  });
}

function shown() {
  for (const fn of listeners) fn();
}

/** Starts following `els` (an element not followed yet counts as on screen). */
export function watch(...els) {
  for (const el of els) onScreen(el);
}

/** Whether `el` is on screen (or close): true until the browser has said otherwise, and for an
 * element not rendered at all (a hidden panel is drawn so that it can be shown). False while the
 * tab is in the background. */
export function onScreen(el) {
  if (!el) return true;
  start();
  if (!observer) return true;
  if (!state.has(el)) {
    state.set(el, null);
    observer.observe(el);
    return true;
  }
  if (document.visibilityState === "hidden") return false;
  const seen = state.get(el);
  if (seen !== false) return true;
  return el.getClientRects().length === 0; // display: none (hidden): not "off screen"
}

/** Calls `fn` whenever a watched panel comes on screen or the tab comes back. */
export function whenShown(fn) {
  start();
  listeners.add(fn);
  return () => listeners.delete(fn);
}
