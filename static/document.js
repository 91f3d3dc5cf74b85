// The document page's Print button. Without JavaScript it stays hidden and the browser's own
// Print command does the same job, so nothing is lost.
document.querySelectorAll("[data-print]").forEach(function (button) {
  button.hidden = false;
  button.addEventListener("click", function () {
    window.print();
  });
});
