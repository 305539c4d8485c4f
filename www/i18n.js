// Languages: the texts live in i18n/en.js and i18n/ja.js (one table each, the same keys);
// markup names them with data-i18n (text), data-i18n-html (text with markup of our own),
// data-i18n-aria and data-i18n-title (attributes); scripts call t(key, …values).
import en from "./i18n/en.js";
import ja from "./i18n/ja.js";

export const TABLES = { en, ja };
let lang = "en";
const listeners = [];

/** The language asked for by ?lang=, else the browser's first language (ja or en). */
export function chooseLang() {
  const asked = new URLSearchParams(location.search).get("lang");
  if (asked && asked in TABLES) return asked;
  const first = (navigator.languages && navigator.languages[0]) || navigator.language || "en";
  return first.toLowerCase().startsWith("ja") ? "ja" : "en";
}

export function currentLang() {
  return lang;
}

/** The text of `key` in the current language (English if the key is missing there). */
export function t(key, ...values) {
  const v = key in TABLES[lang] ? TABLES[lang][key] : en[key];
  if (v === undefined) return key;
  return typeof v === "function" ? v(...values) : v;
}

/** Fills every marked element under `root` in the current language. */
export function apply(root = document) {
  for (const el of root.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll("[data-i18n-html]")) el.innerHTML = t(el.dataset.i18nHtml);
  for (const el of root.querySelectorAll("[data-i18n-aria]")) el.setAttribute("aria-label", t(el.dataset.i18nAria));
  for (const el of root.querySelectorAll("[data-i18n-title]")) el.title = t(el.dataset.i18nTitle);
  document.title = t("page.title");
  const d = document.querySelector('meta[name="description"]');
  if (d) d.content = t("page.description");
}

/** Switches the language: `<html lang>`, the marked elements, then every `onLangChange` hook. */
export function setLang(l) {
  lang = l in TABLES ? l : "en";
  document.documentElement.lang = lang;
  apply();
  for (const f of listeners) f(lang);
}

/** Calls `f(lang)` after each switch (for texts drawn by scripts). */
export function onLangChange(f) {
  listeners.push(f);
}
