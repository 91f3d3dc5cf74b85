// The document page's Print button. Without JavaScript it stays hidden and the browser's own
// Print command does the same job, so nothing is lost.
document.querySelectorAll("[data-print]").forEach(function (button) {
  button.hidden = false;
  button.addEventListener("click", function () {
    window.print();
  });
});

// PDF download links (`data-pdf-status`: the URL that says whether the PDF is ready). A PDF
// that is not drawn yet takes seconds, for a large plan up to a minute: rather than leave the
// click hanging on a silent request (which a proxy may cut off), ask the status URL, say
// "Preparing the PDF…" in a live region while the server draws it, and download it once it is
// ready. A PDF too long to draw within the server's limits is not waited for: the status says so
// (`failed`, with a `message` naming what to download instead), and so does the live region.
// On the "being drawn" page a download sends to after a short wait (`data-pdf-wait`), the
// waiting starts by itself. Without JavaScript the link is a plain download, and that page says
// to follow it again in a minute.
(function () {
  var POLL_MS = 1000;
  var PATIENCE_MS = 5 * 60 * 1000; // then give up and say so, rather than poll for ever

  document.querySelectorAll("a[data-pdf-status]").forEach(function (link) {
    // The live region is in the page before anything is said into it, so that it is announced.
    var status = document.createElement("p");
    status.className = "pdf-status";
    status.setAttribute("role", "status");
    var toolbar = link.closest(".toolbar");
    if (toolbar) {
      // The printable page's toolbar is one row: the message gets a row of its own below it
      // (and is hidden with the toolbar in print). An empty paragraph takes no height.
      toolbar.style.flexWrap = "wrap";
      status.style.flexBasis = "100%";
      status.style.margin = "0";
      toolbar.appendChild(status);
    } else {
      (link.closest(".actions") || link).insertAdjacentElement("afterend", status);
    }
    var waiting = false;

    function say(text) {
      status.textContent = text;
    }

    function done(text) {
      waiting = false;
      link.removeAttribute("aria-busy");
      say(text);
    }

    function download(href) {
      done("");
      window.location.assign(href || link.href);
    }

    function ask(started) {
      fetch(link.dataset.pdfStatus, {
        credentials: "same-origin",
        cache: "no-store",
        headers: { Accept: "application/json" },
      })
        .then(function (response) {
          if (!response.ok) throw new Error("status " + response.status);
          return response.json();
        })
        .then(function (answer) {
          if (answer.ready) {
            download(answer.href);
          } else if (answer.failed) {
            done(answer.message || "The PDF could not be drawn. Download Word or Markdown instead.");
          } else if (Date.now() - started > PATIENCE_MS) {
            done("The PDF is taking unusually long. Try again in a few minutes.");
          } else {
            say("Preparing the PDF… It downloads by itself when it is ready.");
            window.setTimeout(function () {
              ask(started);
            }, POLL_MS);
          }
        })
        .catch(function () {
          download(); // the plain link still works: let the request draw it
        });
    }

    function start() {
      if (waiting) return;
      waiting = true;
      link.setAttribute("aria-busy", "true");
      ask(Date.now());
    }

    link.addEventListener("click", function (event) {
      // A new tab or window, or a saved link: leave those to the browser.
      if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
      event.preventDefault();
      start();
    });
    if (link.hasAttribute("data-pdf-wait")) start();
  });
})();
