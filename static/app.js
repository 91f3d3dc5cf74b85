// Small enhancements; every page works without them.
document.addEventListener("submit", (event) => {
  const form = event.target;
  const question = form.dataset.confirm;
  if (question && !window.confirm(question)) event.preventDefault();
});

// On a narrow screen the step bar scrolls sideways: bring the current step into view.
const current = document.querySelector(".progress li.current");
if (current && current.parentElement.scrollWidth > current.parentElement.clientWidth) {
  current.parentElement.scrollLeft = current.offsetLeft - 16;
}

// "Edit" opens the item's form in place instead of on a page of its own, and a listed kind's
// "Add" its add form. The form is fetched when asked for, so a long list does not carry a
// form for every item, nor an add form offering every item it may point to.
document.addEventListener("click", async (event) => {
  const link = event.target.closest("a[data-inline-edit]");
  if (link) {
    event.preventDefault();
    const holder = link.closest(".edit-link");
    const existing = holder.nextElementSibling;
    if (existing && existing.classList.contains("edit-inline")) {
      existing.querySelector("input, textarea, select")?.focus();
      return;
    }
    try {
      const response = await fetch(link.dataset.inlineEdit, { credentials: "same-origin" });
      if (!response.ok) throw new Error(response.statusText);
      const box = document.createElement("div");
      box.className = "edit-inline";
      box.innerHTML = await response.text();
      holder.after(box);
      // An edit link gives way to its form; "Add a goal" stays, as the open form's title.
      if (!holder.closest(".add")) holder.hidden = true;
      link.setAttribute("aria-expanded", "true");
      box.querySelector("input:not([type=hidden]), textarea, select")?.focus();
    } catch {
      window.location.href = link.href; // fall back to the edit page
    }
    return;
  }
  const cancel = event.target.closest(".edit-inline a.cancel");
  if (cancel && cancel.closest(".edit-inline").previousElementSibling?.classList.contains("edit-link")) {
    event.preventDefault();
    const box = cancel.closest(".edit-inline");
    const holder = box.previousElementSibling;
    box.remove();
    holder.hidden = false;
    holder.querySelector("a").setAttribute("aria-expanded", "false");
    holder.querySelector("a").focus();
  }
});

// Times: the server writes each <time data-when> in the zone it last heard of (UTC at first,
// and says so); here it becomes the reader's own zone and language. The zone goes into the
// `tz` cookie, so that later pages are drawn in it even where this script does not run
// (planner/accounts/timezones.py).
(() => {
  let zone;
  try {
    zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  } catch {
    return;
  }
  // IANA names ("America/Vancouver") need no escaping in a cookie; anything else is not one.
  if (zone && /^[A-Za-z0-9_+\-/]+$/.test(zone) && !document.cookie.split("; ").includes(`tz=${zone}`)) {
    const secure = window.location.protocol === "https:" ? "; Secure" : "";
    document.cookie = `tz=${zone}; path=/; max-age=31536000; SameSite=Lax${secure}`;
  }
  const forms = {
    datetime: { day: "numeric", month: "short", year: "numeric", hour: "2-digit", minute: "2-digit" },
    time: { hour: "2-digit", minute: "2-digit" },
    day: { weekday: "long", day: "numeric", month: "long", year: "numeric" },
  };
  const formats = {};
  for (const element of document.querySelectorAll("time[data-when]")) {
    const options = forms[element.dataset.when];
    const moment = new Date(element.getAttribute("datetime"));
    if (!options || Number.isNaN(moment.getTime())) continue;
    formats[element.dataset.when] ??= new Intl.DateTimeFormat(undefined, options);
    if (!element.title) element.title = element.textContent.trim();
    element.textContent = formats[element.dataset.when].format(moment);
  }
})();

// "Copy" beside a link to share (the members page's invitation link): the clipboard when the
// browser allows it, else the text is selected for the reader to copy themselves.
for (const button of document.querySelectorAll("button[data-copy]")) {
  const field = document.getElementById(button.dataset.copy);
  if (!field) continue;
  const status = button.parentElement.querySelector(".copy-status");
  const say = (text) => {
    if (status) status.textContent = text;
  };
  button.hidden = false;
  const selectForTheReader = () => {
    field.focus();
    field.select();
    say("Selected: press Ctrl+C (⌘C on a Mac) to copy");
  };
  button.addEventListener("click", async () => {
    say("");
    // A browser that is slow to answer (an old phone, a busy machine) still leaves the reader
    // something to do: the link is selected after a moment, and "Copied" follows if it lands.
    const slow = setTimeout(selectForTheReader, 1500);
    try {
      await navigator.clipboard.writeText(field.value);
      say("Copied");
    } catch {
      selectForTheReader();
    } finally {
      clearTimeout(slow);
    }
  });
}
