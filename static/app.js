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
