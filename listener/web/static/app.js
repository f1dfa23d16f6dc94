// listener: keyboard shortcuts and the copy button. Everything works without
// this file; it only saves keystrokes.
"use strict";
document.documentElement.classList.add("js");

// The page's words for what this file shows, in the page's language (English if absent).
const messages = (() => {
  const node = document.getElementById("messages");
  try { return node ? JSON.parse(node.textContent) : {}; } catch (error) { return {}; }
})();
const t = (text) => messages[text] || text;

(function () {
  const rows = () => Array.from(document.querySelectorAll(".rows .row"));
  let selected = -1;
  let pendingG = false;

  function select(index) {
    const all = rows();
    if (!all.length) return;
    selected = Math.max(0, Math.min(index, all.length - 1));
    all.forEach((row, i) => row.classList.toggle("selected", i === selected));
    all[selected].scrollIntoView({ block: "nearest" });
  }

  // On a list, actions apply to the selected row only; on a post page, to the page.
  function scope() {
    const all = rows();
    if (!all.length) return document;
    return selected >= 0 && all[selected] ? all[selected] : null;
  }

  function submit(name) {
    const where = scope();
    const form = where && where.querySelector(`form[data-shortcut="${name}"]`);
    if (form) form.requestSubmit();
    return Boolean(form);
  }

  function focus(selector) {
    const field = document.querySelector(selector);
    if (field) { field.focus(); if (field.select && field.tagName === "INPUT") field.select(); }
  }

  async function copy(selector, button) {
    const field = document.querySelector(selector);
    if (!field) return;
    try {
      await navigator.clipboard.writeText(field.value);
    } catch (error) {
      field.select();
      document.execCommand("copy");
    }
    if (button) {
      const label = button.innerHTML;
      button.textContent = t("Copied");
      setTimeout(() => { button.innerHTML = label; }, 1500);
    }
  }

  document.addEventListener("click", (event) => {
    const copier = event.target.closest("[data-copy]");
    if (copier) copy(copier.dataset.copy, copier);
    if (event.target.closest("[data-help]")) document.getElementById("help").showModal();
  });

  document.addEventListener("keydown", (event) => {
    const typing = event.target.closest("input, textarea, select, [contenteditable]");
    if (event.key === "Enter" && event.target.closest("a, button")) return;
    if (event.key === "Escape") { if (typing) event.target.blur(); return; }
    if (typing || event.ctrlKey || event.metaKey || event.altKey) return;
    if (pendingG) {
      pendingG = false;
      const target = { i: "/inbox", s: "/search", c: "/gaps" }[event.key];
      if (target) { window.location.href = target; event.preventDefault(); }
      return;
    }
    const actions = {
      j: () => select(selected + 1),
      k: () => select(selected - 1),
      o: () => { const row = rows()[selected]; if (row) window.location.href = row.dataset.href; },
      Enter: () => { const row = rows()[selected]; if (row) window.location.href = row.dataset.href; else return false; },
      c: () => submit("claim"),
      a: () => submit("answered"),
      r: () => submit("resolved"),
      e: () => focus("#reply"),
      n: () => focus("#note"),
      y: () => copy("#reply", document.querySelector("[data-copy]")),
      p: () => { const link = document.querySelector('[data-shortcut="reply"]'); if (link) link.click(); },
      u: () => { const link = document.querySelector('[data-shortcut="back"]'); if (link) link.click(); },
      "/": () => focus("[data-search], .filters select"),
      "?": () => document.getElementById("help").showModal(),
      g: () => { pendingG = true; },
    };
    const action = actions[event.key];
    if (action && action() !== false) event.preventDefault();
  });
})();
