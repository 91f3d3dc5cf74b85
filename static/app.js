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

// "Edit" opens the item's form in place instead of on a page of its own. The form is
// fetched when asked for, so a long list does not carry a form for every item.
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
      holder.hidden = true;
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
    holder.querySelector("a").focus();
  }
});
