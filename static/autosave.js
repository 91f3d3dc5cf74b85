// Autosave: what someone types into a wizard form is kept as a draft in this browser
// (localStorage), so that a closed tab, a crash or a dropped connection loses nothing.
//
// A form opts in with data-autosave="<plan id>/<form id>". Its draft is stored under that
// scope and the version the form was based on (its hidden base_version, or data-autosave-base),
// so a draft always knows which saved version it started from:
//
// - typed and not sent: on the next visit the draft is put back, with a notice, when the form
//   is still based on the same version. Item editors that open on demand are opened for it.
// - the saved version moved on since (someone else saved, or another tab): nothing is put back
//   silently. A notice offers the draft; restoring it also restores its base_version, so the
//   server merges it with what was saved since and asks where both changed the same field.
// - sent: the draft is kept, marked as sent, until a page shows the success message of the
//   redirect after a save; then it is dropped, with any older draft of the same form. A page
//   that shows the sent form again (errors, a conflict, an item deleted meanwhile:
//   data-autosave-returned) takes the draft over.
//
// Drafts are the person's own: each is stored under their account (the opaque
// data-account of <body>, never their address), a page of one account removes what another
// account left in this browser, and logging out removes them all (with the workshop's idea
// drafts), as the log-out answer's Clear-Site-Data header does in browsers that heed it.
(() => {
  "use strict";

  const PREFIX = "planner-draft:";
  const WORKSHOP_DRAFT = /^workshop:.*:draft$/; // static/workshop.js: a half-typed idea
  const MAX_AGE_MS = 30 * 24 * 3600 * 1000;
  const DEBOUNCE_MS = 400;

  let storage = null;
  try {
    storage = window.localStorage;
    storage.setItem(PREFIX + "probe", "1");
    storage.removeItem(PREFIX + "probe");
  } catch {
    return; // no storage (private mode, or blocked): the forms work as before
  }

  const state = new WeakMap(); // form -> {initial, base}
  const timers = new Map(); // form -> pending save
  let leaving = false; // logging out: keep nothing more

  // Every key stored, read before any is removed (removing renumbers them).
  function storedKeys() {
    const keys = [];
    for (let i = 0; i < storage.length; i += 1) keys.push(storage.key(i));
    return keys.filter(Boolean);
  }

  function forgetAll() {
    leaving = true;
    for (const timer of timers.values()) clearTimeout(timer);
    timers.clear();
    for (const key of storedKeys()) if (key.startsWith(PREFIX) || WORKSHOP_DRAFT.test(key)) storage.removeItem(key);
  }

  // Logging out: nothing typed here stays in this browser for whoever uses it next.
  document.addEventListener("submit", (event) => {
    if (event.target instanceof Element && event.target.matches("form[data-logout]")) forgetAll();
  });

  const account = document.body.dataset.account;
  if (!account) return; // nobody signed in (a session that ended): leave the drafts for their owner
  const MINE = `${PREFIX}${account}:`;

  const scopeOf = (form) => form.dataset.autosave;
  const hidden = (form) => form.querySelector("input[name=base_version]");
  const baseOf = (form) => form.dataset.autosaveBase || hidden(form)?.value || "";
  const keyOf = (scope, base) => `${MINE}${scope}@${base}`;
  const planOfPage = () => (window.location.pathname.match(/^\/plans\/(\d+)\//) || [])[1];

  function read(key) {
    try {
      return JSON.parse(storage.getItem(key));
    } catch {
      return null;
    }
  }

  function write(key, draft) {
    if (leaving) return;
    try {
      storage.setItem(key, JSON.stringify(draft));
    } catch {
      /* full or blocked: nothing more can be done here */
    }
  }

  function allDrafts() {
    const out = [];
    for (let i = 0; i < storage.length; i += 1) {
      const key = storage.key(i);
      if (!key || !key.startsWith(MINE) || !key.includes("@")) continue;
      const at = key.lastIndexOf("@");
      const draft = read(key);
      if (draft && draft.fields) out.push({ key, scope: key.slice(MINE.length, at), base: key.slice(at + 1), draft });
    }
    return out;
  }

  // A draft kept before drafts had an owner ("planner-draft:<plan id>/<form>@<base>", no
  // account): the first signed-in page adopts it, once, as this account's, rather than lose it.
  const LEGACY = /^\d+\//;

  // Drafts another account left in this browser are not this person's to see: they go, unread.
  function removeOthers() {
    for (const key of storedKeys()) {
      if (!key.startsWith(PREFIX) || key.startsWith(MINE)) continue;
      const rest = key.slice(PREFIX.length);
      if (LEGACY.test(rest) && storage.getItem(MINE + rest) === null) write(MINE + rest, read(key));
      storage.removeItem(key);
    }
  }

  const draftsOf = (scope) => allDrafts().filter((d) => d.scope === scope);

  // ------------------------------------------------------------ a form's values

  function values(form) {
    const out = {};
    for (const el of form.elements) {
      // A read-only field (the title, for an editor) is not the person's to change: not kept.
      const skip = !el.name || el.name === "csrf_token" || el.name === "base_version" || el.readOnly;
      if (skip || ["submit", "button", "reset", "file"].includes(el.type)) continue;
      if (el.type === "checkbox") {
        out[el.name] = out[el.name] || [];
        if (el.checked) out[el.name].push(el.value);
      } else if (el.type === "radio") {
        if (el.checked) out[el.name] = el.value;
      } else if (el.tagName === "SELECT" && el.multiple) {
        out[el.name] = [...el.selectedOptions].map((o) => o.value);
      } else {
        out[el.name] = el.value;
      }
    }
    return out;
  }

  function fill(form, fields) {
    for (const el of form.elements) {
      if (!el.name || !(el.name in fields) || el.readOnly) continue;
      const value = fields[el.name];
      if (el.type === "checkbox") el.checked = Array.isArray(value) && value.includes(el.value);
      else if (el.type === "radio") el.checked = el.value === value;
      else if (el.tagName === "SELECT" && el.multiple) {
        for (const o of el.options) o.selected = Array.isArray(value) && value.includes(o.value);
      } else if (typeof value === "string") el.value = value;
    }
  }

  const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);
  // Whether the person wrote anything in the form's text boxes (a choice left at its first
  // option is no answer): an add form sent back empty is no draft worth coming back for.
  const TYPED = ["text", "search", "email", "url", "number", "date", "textarea"];
  const somethingTyped = (form) =>
    [...form.elements].some((el) => TYPED.includes(el.type) && !el.readOnly && el.value.trim() !== "");

  // ------------------------------------------------------------ saving drafts

  function save(form, sent = false) {
    const known = state.get(form);
    if (!known) return;
    const now = values(form);
    const key = keyOf(scopeOf(form), baseOf(form));
    if (!sent && !known.returned && same(now, known.initial)) {
      storage.removeItem(key); // back to what is saved: nothing to keep
      return;
    }
    write(key, { fields: now, savedAt: Date.now(), sent, typed: somethingTyped(form) });
  }

  function later(form) {
    clearTimeout(timers.get(form));
    timers.set(
      form,
      setTimeout(() => {
        timers.delete(form);
        save(form);
      }, DEBOUNCE_MS),
    );
  }

  function flush() {
    for (const [form, timer] of timers) {
      clearTimeout(timer);
      save(form);
    }
    timers.clear();
  }

  const autosaved = (target) => target instanceof Element && target.closest("form[data-autosave]");

  document.addEventListener("input", (event) => {
    const form = autosaved(event.target);
    if (form) later(form);
  });
  document.addEventListener("change", (event) => {
    const form = autosaved(event.target);
    if (form) later(form);
  });
  document.addEventListener("submit", (event) => {
    const form = autosaved(event.target);
    if (!form || event.defaultPrevented) return; // a "Delete?" that was answered no
    clearTimeout(timers.get(form));
    timers.delete(form);
    save(form, true);
  });
  // Cancel means "I do not want this": the draft goes with the editor.
  document.addEventListener("click", (event) => {
    const cancel = event.target instanceof Element && event.target.closest("a.cancel");
    const form = cancel && autosaved(cancel);
    if (!form) return;
    clearTimeout(timers.get(form));
    timers.delete(form);
    for (const d of draftsOf(scopeOf(form))) storage.removeItem(d.key);
  });
  window.addEventListener("pagehide", flush);
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "hidden") flush();
  });

  // ------------------------------------------------------------ notices

  function when(ms) {
    const at = new Date(ms);
    const time = at.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
    if (at.toDateString() === new Date().toDateString()) return time;
    return `${at.toLocaleDateString([], { day: "numeric", month: "short" })}, ${time}`;
  }

  function notice(form, text, buttons, stale = false) {
    form.querySelector(":scope > .draft-notice")?.remove();
    const box = document.createElement("p");
    box.className = stale ? "draft-notice stale" : "draft-notice";
    box.setAttribute("role", "status");
    box.append(text + " ");
    const actions = document.createElement("span");
    actions.className = "actions";
    for (const [label, action, primary] of buttons) {
      const button = document.createElement("button");
      button.type = "button";
      button.className = primary ? "small primary" : "small";
      button.textContent = label;
      button.addEventListener("click", () => action(box));
      actions.append(button);
    }
    box.append(actions);
    const first = form.querySelector("input[name=csrf_token]") || form.firstElementChild;
    form.insertBefore(box, first ? first.nextSibling : null);
    form.closest("details")?.setAttribute("open", "");
  }

  function discard(form, keys) {
    return (box) => {
      const known = state.get(form);
      for (const key of keys) storage.removeItem(key);
      form.reset();
      if (hidden(form) && known) hidden(form).value = known.base;
      box.remove();
      form.querySelector("input:not([type=hidden]), textarea, select")?.focus();
    };
  }

  function restoreExact(form, found) {
    fill(form, found.draft.fields);
    if (found.draft.sent) save(form); // the send did not arrive: it is a draft again
    notice(form, `Restored your unsaved draft from ${when(found.draft.savedAt)}.`, [
      ["Discard", discard(form, [found.key])],
    ]);
  }

  function offerStale(form, found) {
    notice(
      form,
      `You have an unsaved draft from ${when(found.draft.savedAt)}, but this was saved since ` +
        "(by someone else, or by you in another tab). What you see is the saved version.",
      [
        [
          "Restore my draft",
          () => {
            fill(form, found.draft.fields);
            // Based on the version it started from, the save merges with what came since.
            if (hidden(form)) hidden(form).value = found.base;
            notice(
              form,
              `Restored your draft from ${when(found.draft.savedAt)}. When you save, changes made since ` +
                "are kept, and you are asked where you both changed the same field.",
              [["Discard", discard(form, [found.key])]],
              true,
            );
          },
          true,
        ],
        ["Discard", discard(form, [found.key])],
      ],
      true,
    );
  }

  // ------------------------------------------------------------ forms on the page

  function attach(form) {
    if (state.has(form) || !scopeOf(form)) return;
    const scope = scopeOf(form);
    const returned = form.dataset.autosaveReturned;
    state.set(form, { initial: values(form), base: hidden(form)?.value || "", returned: Boolean(returned) });
    if (returned) {
      // The page shows what the person sent; it becomes the draft, under this form's scope.
      if (returned !== scope) for (const d of draftsOf(returned)) storage.removeItem(d.key);
      save(form);
      return;
    }
    const found = draftsOf(scope).sort((a, b) => b.draft.savedAt - a.draft.savedAt);
    const base = baseOf(form);
    const exact = found.find((d) => d.base === base);
    if (exact && !same(exact.draft.fields, state.get(form).initial)) {
      restoreExact(form, exact);
      return;
    }
    if (exact) storage.removeItem(exact.key);
    const older = found.find((d) => d.base !== base);
    if (older) offerStale(form, older);
  }

  // A draft for an item whose editor opens on demand: open it; the observer below attaches.
  // A draft for an item deleted since: offer it to the "Add" form of its kind.
  function openOthers(plan) {
    const open = new Set([...document.querySelectorAll("form[data-autosave]")].map(scopeOf));
    for (const d of allDrafts()) {
      const [draftPlan, formId] = d.scope.split(/\/(.*)/s);
      if (draftPlan !== plan || open.has(d.scope) || !formId) continue;
      open.add(d.scope);
      const item = document.getElementById(formId);
      const link = item?.querySelector("a[data-inline-edit]");
      if (link && formId.startsWith("new-") && d.draft.typed === false) {
        storage.removeItem(d.key); // an add form sent back empty: nothing to come back for
        continue;
      }
      if (link) {
        link.click();
        continue;
      }
      const entity = formId.split("-")[0];
      if (item || formId === `new-${entity}` || formId.startsWith("plan-")) continue;
      const scope = `${plan}/new-${entity}`;
      const add = document.querySelector(`form[data-autosave="${scope}"]`);
      if (add) {
        offerOrphan(add, d, formId, entity);
        continue;
      }
      // The "Add" form opens on demand too: open it, and offer the draft once it is there.
      const opener = document.getElementById(`new-${entity}`)?.querySelector("a[data-inline-edit]");
      if (!opener) continue;
      orphans.set(scope, [...(orphans.get(scope) || []), [d, formId, entity]]);
      if (!open.has(scope)) opener.click();
      open.add(scope);
    }
  }

  // Drafts of deleted items waiting for their kind's "Add" form to open: scope -> offers.
  const orphans = new Map();
  function offerWaiting(form) {
    const waiting = orphans.get(scopeOf(form));
    orphans.delete(scopeOf(form));
    for (const [d, formId, entity] of waiting || []) offerOrphan(form, d, formId, entity);
  }

  function offerOrphan(add, found, formId, entity) {
    notice(
      add,
      `You have an unsaved draft from ${when(found.draft.savedAt)} for an item that is no longer in the plan.`,
      [
        [
          "Put it in this form",
          (box) => {
            const fields = {};
            for (const [name, value] of Object.entries(found.draft.fields)) {
              if (name.startsWith(`${formId}-`)) fields[`new-${entity}-${name.slice(formId.length + 1)}`] = value;
            }
            fill(add, fields);
            storage.removeItem(found.key);
            box.remove();
            save(add);
          },
          true,
        ],
        [
          "Discard",
          (box) => {
            storage.removeItem(found.key);
            box.remove();
          },
        ],
      ],
      true,
    );
  }

  function start() {
    removeOthers();
    const now = Date.now();
    const plan = planOfPage();
    const saved = document.querySelector(".flash-success");
    const drafts = allDrafts();
    // A form that was saved has no draft left to offer: with the sent one go the drafts of
    // that form kept under older versions (a conflict's, or one offered and not taken), or
    // the offer would come back after the person had settled it.
    const settled = new Set(
      saved ? drafts.filter((d) => d.draft.sent && d.scope.startsWith(`${plan}/`)).map((d) => d.scope) : [],
    );
    for (const d of drafts) {
      const old = now - (d.draft.savedAt || 0) > MAX_AGE_MS;
      if (old || settled.has(d.scope)) storage.removeItem(d.key);
    }
    document.querySelectorAll("form[data-autosave]").forEach(attach);
    new MutationObserver((records) => {
      for (const record of records) {
        for (const node of record.addedNodes) {
          if (!(node instanceof Element)) continue;
          const forms = [...(node.matches("form[data-autosave]") ? [node] : []), ...node.querySelectorAll("form[data-autosave]")];
          for (const form of forms) {
            attach(form);
            offerWaiting(form);
          }
        }
      }
    }).observe(document.body, { childList: true, subtree: true });
    if (plan) openOthers(plan);
  }

  start();
})();
