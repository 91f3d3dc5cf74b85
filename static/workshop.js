// The live workshop: one small script for the participant, facilitator and projector views.
// It keeps the room's state fresh (Server-Sent Events, or polling when streaming fails),
// draws it with textContent only (cards are people's text), and sends the page's forms with
// fetch and the CSRF token. No framework and no newer syntax, so that old phones run it.
(function () {
  "use strict";
  var root = document.querySelector("[data-workshop]");
  if (!root) return;
  // An ended session's page is its closing screen, drawn by the server: nothing to follow,
  // and a half-typed idea kept on this phone has nowhere to go any more.
  if (root.hasAttribute("data-ended")) {
    try { localStorage.removeItem("workshop:" + root.getAttribute("data-code") + ":draft"); } catch (e) { /* none kept */ }
    return;
  }

  var VIEW = root.getAttribute("data-view");
  var CODE = root.getAttribute("data-code");
  var PLAN = root.getAttribute("data-plan");
  var STATE_URL = root.getAttribute("data-state-url");
  var EVENTS_URL = root.getAttribute("data-events-url");
  var BASE = root.getAttribute("data-base");
  var CSRF = document.querySelector('meta[name="csrf-token"]').getAttribute("content");
  var POLL_MS = 1500;

  var room = null; // the shared view of the session
  var me = null; // this participant's own cards and dots
  var revision = 0;
  var clockOffset = 0; // server time minus this device's time, in ms
  var bestRtt = Infinity;

  function $(id) { return document.getElementById(id); }
  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }
  function sep(url) { return url.indexOf("?") < 0 ? "?" : "&"; }
  function stepInfo(slug) {
    for (var i = 0; i < room.steps.length; i++) if (room.steps[i].slug === slug) return room.steps[i];
    return room.steps[0];
  }
  function status(text) { $("ws-conn").textContent = text; }
  // "1 dot", "2 dots": the number with its noun (rules.counted on the server).
  function counted(n, one, many) { return n + " " + (n === 1 ? one : (many || one + "s")); }

  // ------------------------------------------------------------ the live channel

  // A phone's stream may send only what changed since the state it sent before (`base`): the
  // cards new or changed since then, and the numbers of those that left the room (`gone`).
  // They apply to that state only, which the page keeps as `streamRoom`: the room the page
  // shows may be newer, from a poll another server process answered, and changes measured
  // against a state it never was would leave a hidden card shown.
  var streamRoom = null;
  var streamRevision = -1;

  function withChanges(base, view) {
    var byNumber = {};
    base.ideas.forEach(function (idea) { byNumber[idea.n] = idea; });
    view.gone.forEach(function (n) { delete byNumber[n]; });
    view.ideas.forEach(function (idea) { byNumber[idea.n] = idea; });
    var whole = {};
    for (var name in view) if (name !== "gone") whole[name] = view[name];
    whole.ideas = Object.keys(byNumber).map(function (n) { return byNumber[n]; })
      .sort(function (a, b) { return a.n - b.n; });
    return whole;
  }

  // A state from the stream: whole, or changes to the stream's state before.
  function fromStream(data) {
    if (data.base !== undefined) {
      if (!streamRoom || data.base !== streamRevision) {
        // Changes to a state this stream never gave: stream anew, and the first state is whole.
        connect();
        return;
      }
      data.view = withChanges(streamRoom, data.view);
      delete data.base;
    }
    streamRoom = data.view;
    streamRevision = data.revision;
    apply(data);
  }

  function apply(data) {
    if (!data) return;
    if (data.revision < revision) return;
    revision = data.revision;
    room = data.view;
    me = data.me;
    if (room.ended) {
      // Nothing will change any more: stop listening, and load the page again, which the
      // server now draws as the closing screen (no code, no prompt; the console's look back).
      stopPolling();
      if (source) { source.close(); source = null; }
      clearTimeout(helloTimer);
      window.location.reload();
      return;
    }
    render();
  }

  var source = null;
  var polling = null;
  var lastHeard = 0;
  var sseFailures = 0;
  var helloTimer = null;
  var pollingInstead = false; // polling because streaming does not work here, not to bridge a gap

  function fetchState(onlyIfNewer) {
    var sent = Date.now();
    var url = STATE_URL + (onlyIfNewer ? sep(STATE_URL) + "since=" + revision : "");
    return fetch(url, { credentials: "same-origin", cache: "no-store" }).then(function (response) {
      var received = Date.now();
      lastHeard = received;
      if (response.status === 204) return null;
      if (!response.ok) throw new Error(String(response.status));
      return response.json().then(function (data) {
        // The round trip's midpoint is the best guess of when the server read its clock.
        var rtt = received - sent;
        if (rtt <= bestRtt + 50) {
          bestRtt = Math.min(bestRtt, rtt);
          clockOffset = data.server_now - (sent + rtt / 2);
        }
        apply(data);
        status(pollingNote());
      });
    });
  }

  // `quietly`: polling only bridges a gap while the stream (re)connects; say nothing about it.
  function startPolling(quietly) {
    if (!quietly) pollingInstead = true;
    status(pollingNote());
    if (polling) return;
    polling = setInterval(function () {
      fetchState(true).catch(function () { status("Connection lost. Trying again…"); });
    }, POLL_MS);
  }

  function stopPolling() {
    if (polling) clearInterval(polling);
    polling = null;
    pollingInstead = false;
  }

  function pollingNote() {
    return pollingInstead ? "Following the room by polling." : "";
  }

  function connect() {
    if (room && room.ended) return;
    if (!window.EventSource) { startPolling(); return; }
    if (source) source.close();
    streamRoom = null; // a new stream's first state is whole (no Last-Event-ID to build on)
    streamRevision = -1;
    clearTimeout(helloTimer); // a timer of the stream replaced here must not close this one
    var heardHello = false;
    // A phone's page asks for changes rather than the whole room each time (see `apply`).
    var changes = VIEW === "participant" ? "&changes=1" : "";
    source = new EventSource(EVENTS_URL + sep(EVENTS_URL) + "since=" + revision + changes);
    // Until the stream says hello, and whenever it drops, poll as well: a change never waits
    // for a stream that a proxy holds back or that is reconnecting (the issue asks for 2 s).
    startPolling(true);
    // A proxy that buffers the stream delivers nothing: fall back to polling.
    function awaitHello() {
      return setTimeout(function () { if (!heardHello) fallBack(); }, 5000);
    }
    helloTimer = awaitHello();
    source.addEventListener("hello", function () {
      heardHello = true;
      lastHeard = Date.now();
      clearTimeout(helloTimer);
      sseFailures = 0;
      stopPolling();
      status("");
    });
    source.addEventListener("ping", function () { lastHeard = Date.now(); });
    source.addEventListener("state", function (event) {
      lastHeard = Date.now();
      var data = JSON.parse(event.data);
      if (bestRtt === Infinity) clockOffset = data.server_now - Date.now();
      fromStream(data); // closes the stream, and reloads, once the session has ended
    });
    source.addEventListener("gone", function () { if (source) source.close(); source = null; });
    // The server closed this stream: too many are open (this person's other tabs and devices,
    // or the whole room). Poll meanwhile, and stream again when the server says.
    source.addEventListener("closed", function (event) {
      var retry = 60000;
      try { retry = JSON.parse(event.data).retry_ms || retry; } catch (e) { /* keep the default */ }
      fallBack(retry);
    });
    source.onerror = function () {
      clearTimeout(helloTimer);
      // The browser reconnects by itself (the server ends each stream after a while);
      // repeated failures mean streaming does not work here, so poll instead meanwhile.
      if (!heardHello) sseFailures += 1;
      heardHello = false;
      if (sseFailures >= 2) { fallBack(); return; }
      status("Reconnecting…");
      startPolling(true);
      helloTimer = awaitHello(); // the browser's own reconnection may hang too
    };
  }

  function fallBack(retryMs) {
    if (source) source.close();
    source = null;
    clearTimeout(helloTimer);
    startPolling();
    // Streaming may work again later (a phone moves from mobile data to Wi-Fi).
    setTimeout(function () { sseFailures = 0; if (!(room && room.ended)) connect(); }, retryMs || 30000);
  }

  // A stream that has gone silent longer than its heartbeat is dead, whatever it says.
  setInterval(function () {
    if (source && Date.now() - lastHeard > 25000) connect();
  }, 5000);
  // A phone that says it is offline has lost its stream, whatever the socket claims: drop it,
  // and on the way back fetch what was missed at once, then stream again.
  window.addEventListener("online", function () {
    status("");
    fetchState(true).catch(function () {});
    connect();
  });
  window.addEventListener("offline", function () {
    if (source) { source.close(); source = null; }
    stopPolling();
    status("You are offline. Your draft is kept on this device.");
  });

  // ------------------------------------------------------------ sending forms

  function send(form) {
    var error = $(VIEW === "participant" ? "idea-error" : "action-error");
    // getAttribute: a form with a field named "action" hides the property of that name.
    return fetch(form.getAttribute("action"), {
      method: "POST",
      body: new FormData(form),
      credentials: "same-origin",
      headers: { "X-CSRFToken": CSRF, Accept: "application/json" },
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (body) {
        if (!response.ok) throw new Error(body.error || "That did not work (" + response.status + ").");
        if (error) error.hidden = true;
        fetchState(true).catch(function () {});
        return body;
      });
    }).catch(function (problem) {
      if (error) {
        error.textContent = problem.message === "Failed to fetch" || problem.name === "TypeError"
          ? "Not sent: no connection. Try again in a moment." : problem.message;
        error.hidden = false;
      }
      throw problem;
    });
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    var question = form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) { event.preventDefault(); return; }
    if (form.hasAttribute("data-action") || form.id === "idea-form") {
      event.preventDefault();
      (form.id === "idea-form" ? sendIdea(form) : send(form)).then(function () {
        // "New group", "Add card": the box is ready for the next one once this one is in.
        if (form.hasAttribute("data-clear")) clearFields(form);
      }).catch(function () {});
    }
  });

  function clearFields(form) {
    var boxes = form.querySelectorAll("input[type=text], textarea");
    for (var i = 0; i < boxes.length; i++) boxes[i].value = "";
    if (boxes.length) boxes[0].focus();
  }

  // ------------------------------------------------------------ the timer

  function pad(n) { return (n < 10 ? "0" : "") + n; }
  function tick() {
    var box = $("timer");
    if (!box || !room) return;
    var ends = room.timer.ends_at;
    if (!ends) { box.hidden = true; return; }
    var left = Math.max(0, Math.ceil((ends - (Date.now() + clockOffset)) / 1000));
    box.hidden = false;
    box.textContent = Math.floor(left / 60) + ":" + pad(left % 60);
    box.classList.toggle("ws-timer-low", left <= 30);
    box.classList.toggle("ws-timer-done", left === 0);
  }
  setInterval(tick, 250);

  // ------------------------------------------------------------ drawing cards

  function groupLabel(id) {
    for (var i = 0; i < room.groups.length; i++) if (room.groups[i].id === id) return room.groups[i].label;
    return "";
  }

  function sortIdeas(list, step) {
    return list.slice().sort(function (a, b) {
      if (step.voting === "closed" && (b.votes || 0) !== (a.votes || 0)) return (b.votes || 0) - (a.votes || 0);
      return a.n - b.n;
    });
  }

  function dots(n) { var s = ""; for (var i = 0; i < n; i++) s += "●"; return s; }

  // Reuses each card's element by idea number, so an update does not disturb a card in use.
  function keyed(list, items, make, update) {
    var existing = {};
    for (var i = 0; i < list.children.length; i++) {
      var child = list.children[i];
      existing[child.getAttribute("data-n")] = child;
    }
    var seen = {};
    items.forEach(function (item, index) {
      var node = existing[item.n];
      if (!node) { node = make(item); node.setAttribute("data-n", item.n); }
      update(node, item);
      seen[item.n] = true;
      if (list.children[index] !== node) list.insertBefore(node, list.children[index] || null);
    });
    Object.keys(existing).forEach(function (n) { if (!seen[n]) list.removeChild(existing[n]); });
  }

  function renderStepHeader(step) {
    $("step-number").textContent = "Step " + step.number + " of " + room.steps.length;
    $("step-title").textContent = step.title;
    $("step-prompt").textContent = step.prompt;
  }

  // ------------------------------------------------------------ the participant

  var draftKey = "workshop:" + CODE + ":draft";
  var draftStep = null; // the step the text in the box was started for
  var chosenStep = null; // in roam mode, the step this person looks at

  function shownStep() {
    return room.roam && chosenStep ? chosenStep : room.step;
  }

  function saveDraft() {
    var text = $("idea-text").value;
    try {
      if (text) localStorage.setItem(draftKey, JSON.stringify({ step: draftStep, text: text }));
      else localStorage.removeItem(draftKey);
    } catch (e) { /* private mode: the text still stays on the page */ }
  }

  function updateDraftNote() {
    var box = $("idea-text");
    var here = shownStep();
    if (!box.value) draftStep = here;
    $("idea-step").value = draftStep;
    $("idea-count").textContent = box.value.length;
    var elsewhere = box.value && draftStep !== here;
    var note = $("draft-note");
    var target = stepInfo(draftStep);
    note.hidden = !elsewhere;
    $("draft-move").hidden = !elsewhere;
    if (elsewhere) {
      // Roaming, it was this person who moved on, not the room.
      note.textContent = "You started this idea for step " + target.number + ", " + target.title +
        (room.roam && chosenStep ? ". You are looking at another step now" : ". The room has moved on") +
        ": add it there, or move it to " + stepInfo(here).title + ".";
      $("draft-move").textContent = "Move it to " + stepInfo(here).title;
    }
    $("idea-submit").textContent = elsewhere ? "Add to " + target.title : "Add idea";
  }

  function sendIdea(form) {
    if (!$("idea-text").value.trim()) return Promise.resolve();
    $("idea-step").value = draftStep || shownStep();
    var button = $("idea-submit");
    button.disabled = true;
    return send(form).then(function () {
      $("idea-text").value = "";
      saveDraft();
      updateDraftNote();
      $("idea-text").focus();
    }).then(function () { button.disabled = false; }, function (e) { button.disabled = false; throw e; });
  }

  function participantSetup() {
    var box = $("idea-text");
    try {
      var saved = JSON.parse(localStorage.getItem(draftKey) || "null");
      if (saved && saved.text && !box.value) { box.value = saved.text; draftStep = saved.step; }
    } catch (e) { /* nothing saved */ }
    box.addEventListener("input", function () {
      // A draft belongs to the step shown when its first letter was typed (see updateDraftNote).
      if (!draftStep && room) draftStep = shownStep();
      if (room) updateDraftNote();
      saveDraft();
    });
    $("draft-move").addEventListener("click", function () {
      draftStep = shownStep();
      saveDraft();
      updateDraftNote();
      box.focus();
    });
    $("roam-step").addEventListener("change", function (event) {
      chosenStep = event.target.value;
      render();
    });
    $("ideas").addEventListener("click", function (event) {
      var button = event.target.closest ? event.target.closest("button[data-change]") : null;
      if (!button) return;
      var data = new FormData();
      data.append("idea", button.getAttribute("data-idea"));
      data.append("change", button.getAttribute("data-change"));
      fetch(BASE + "/dots", {
        method: "POST", body: data, credentials: "same-origin",
        headers: { "X-CSRFToken": CSRF, Accept: "application/json" },
      }).then(function (response) {
        return response.json().then(function (body) {
          if (!response.ok) throw new Error(body.error || "That did not work.");
          $("idea-error").hidden = true;
          return fetchState(true);
        });
      }).catch(function (problem) {
        $("idea-error").textContent = problem.name === "TypeError" ? "Not sent: no connection. Try again in a moment." : problem.message;
        $("idea-error").hidden = false;
      });
    });
  }

  function renderParticipant() {
    var slug = shownStep();
    var step = stepInfo(slug);
    document.title = step.title + " · Planner";
    renderStepHeader(step);
    $("me-name").textContent = me ? me.name : "";
    $("roam").hidden = !room.roam;
    if (!room.roam) chosenStep = null; // roaming again later starts from the room's step
    if (room.roam) $("roam-step").value = slug;
    updateDraftNote();

    var used = (me && me.used[slug]) || 0;
    var voting = $("voting");
    voting.hidden = step.voting === "none";
    if (step.voting === "open") {
      $("voting-status").textContent = "Voting is open. You have " + (step.dots - used) + " of " +
        counted(step.dots, "dot") + " left (at most " + step.per_idea + " on one idea). Tap + and − to place and move them.";
    } else if (step.voting === "closed") {
      $("voting-status").textContent = "Voting has closed. Here are the results.";
    }

    var mineByN = {};
    var mine = me ? me.ideas : [];
    mine.forEach(function (idea) { mineByN[idea.n] = idea; });
    var list = room.ideas.filter(function (idea) { return idea.step === slug; });
    var shown = {};
    list.forEach(function (idea) { shown[idea.n] = true; });
    mine.forEach(function (idea) {
      if (idea.step === slug && !shown[idea.n]) {
        list.push({ n: idea.n, step: idea.step, text: idea.text, author: null, group: idea.group, votes: null,
          privateNote: idea.hidden ? "Hidden by the facilitator." : "Only you see this until the facilitator reveals the ideas." });
      }
    });
    var note = $("ideas-note");
    var waiting = step.private && !step.revealed;
    note.hidden = !waiting && list.length > 0;
    note.textContent = waiting
      ? "Ideas stay hidden until the facilitator reveals them. " + step.idea_count + " so far."
      : "No ideas on this step yet. Yours can be the first.";
    keyed($("ideas"), sortIdeas(list, step), function () {
      var li = el("li", "ws-card");
      li.appendChild(el("p", "ws-card-text"));
      li.appendChild(el("p", "ws-card-meta"));
      var tools = el("div", "ws-dots");
      var minus = el("button", "ws-dot-button", "−");
      minus.type = "button";
      minus.setAttribute("data-change", "remove");
      var count = el("span", "ws-dot-count");
      var plus = el("button", "ws-dot-button", "+");
      plus.type = "button";
      plus.setAttribute("data-change", "add");
      tools.appendChild(minus); tools.appendChild(count); tools.appendChild(plus);
      li.appendChild(tools);
      return li;
    }, function (li, idea) {
      li.querySelector(".ws-card-text").textContent = idea.text;
      var meta = [];
      if (mineByN[idea.n]) meta.push("Yours");
      else if (idea.author) meta.push(idea.author);
      if (idea.group) meta.push(groupLabel(idea.group));
      if (idea.votes !== null && idea.votes !== undefined) meta.push(counted(idea.votes, "dot"));
      if (idea.promoted) meta.push("In the plan");
      if (idea.privateNote) meta.push(idea.privateNote);
      li.querySelector(".ws-card-meta").textContent = meta.join(" · ");
      li.classList.toggle("ws-card-mine", !!mineByN[idea.n]);
      var tools = li.querySelector(".ws-dots");
      var mineDots = (me && me.votes[String(idea.n)]) || 0;
      tools.hidden = step.voting !== "open" || !!idea.privateNote;
      var buttons = tools.querySelectorAll("button");
      for (var i = 0; i < buttons.length; i++) {
        buttons[i].setAttribute("data-idea", idea.n);
        buttons[i].setAttribute("aria-label", (i === 0 ? "Take a dot back from idea " : "Give a dot to idea ") + idea.n);
      }
      buttons[0].disabled = mineDots === 0;
      buttons[1].disabled = used >= step.dots || mineDots >= step.per_idea;
      tools.querySelector(".ws-dot-count").textContent = mineDots ? dots(mineDots) : "no dots";
    });
  }

  // ------------------------------------------------------------ the projector

  function renderProjector() {
    var step = stepInfo(room.step);
    renderStepHeader(step);
    $("joined").textContent = room.joined;
    var statusText = "";
    if (step.private && !step.revealed) {
      statusText = counted(step.idea_count, "idea") + " so far. They stay hidden until revealed.";
    } else if (step.voting === "open") {
      statusText = "Voting is open: " + counted(step.dots, "dot") + " each, at most " + step.per_idea + " on one idea. " +
        step.voters + " of " + room.joined + " have voted.";
    } else if (step.voting === "closed") {
      statusText = "Results";
    } else if (step.idea_count === 0) {
      statusText = "Add your ideas on your phone.";
    }
    $("room-status").textContent = statusText;

    var board = $("board");
    var ideas = sortIdeas(room.ideas.filter(function (idea) { return idea.step === step.slug; }), step);
    var groups = room.groups.filter(function (g) { return g.step === step.slug; });
    var sections = groups.map(function (g) { return { id: "g" + g.id, label: g.label, ideas: [] }; });
    var loose = { id: "loose", label: groups.length ? "Not grouped yet" : "", ideas: [] };
    ideas.forEach(function (idea) {
      var home = loose;
      for (var i = 0; i < sections.length; i++) if (sections[i].id === "g" + idea.group) home = sections[i];
      home.ideas.push(idea);
    });
    sections.push(loose);
    sections = sections.filter(function (s) { return s.ideas.length; });
    // Sections are rebuilt (cheap); cards inside keep their elements by number.
    // A section's heading comes and goes with it ("Not grouped yet" once there are groups).
    var wanted = sections.map(function (s) { return s.id + (s.label ? ":h" : ""); }).join(",");
    if (board.getAttribute("data-sections") !== wanted) {
      while (board.firstChild) board.removeChild(board.firstChild);
      sections.forEach(function (s) {
        var box = el("section", "ws-group");
        box.setAttribute("data-id", s.id);
        if (s.label) box.appendChild(el("h2", "ws-group-label"));
        box.appendChild(el("ol", "ws-cards ws-projector-cards"));
        board.appendChild(box);
      });
      board.setAttribute("data-sections", wanted);
    }
    sections.forEach(function (s, index) {
      var box = board.children[index];
      if (s.label) box.querySelector(".ws-group-label").textContent = s.label;
      keyed(box.querySelector("ol"), s.ideas, function () {
        var li = el("li", "ws-card");
        li.appendChild(el("p", "ws-card-text"));
        li.appendChild(el("p", "ws-card-meta"));
        return li;
      }, function (li, idea) {
        li.querySelector(".ws-card-text").textContent = idea.text;
        var meta = [];
        if (idea.votes !== null && idea.votes !== undefined) {
          meta.push(idea.votes ? dots(Math.min(idea.votes, 20)) + " " + idea.votes : "no dots");
        }
        if (idea.author) meta.push(idea.author);
        if (idea.promoted) meta.push("✓ in the plan");
        li.querySelector(".ws-card-meta").textContent = meta.join(" · ");
        li.classList.toggle("ws-card-top", step.voting === "closed" && idea.votes > 0 && idea.votes === ideas[0].votes);
      });
    });
  }

  // ------------------------------------------------------------ the facilitator

  var focusStep = null; // the step the console looks at
  var drawnRoomStep = null; // the room's step as last put in the "Move the room" picker
  var drawnSettings = null; // the focused step's saved idea settings as last put in their boxes
  var followRoom = true; // until the facilitator picks another step to look at
  var savingSettings = 0; // ticks sent but not answered yet: updates until then are older than the boxes

  function stepUrl(kind) {
    return BASE + "/steps/" + encodeURIComponent(focusStep) + "/" + kind;
  }

  // Boxes that look like switches act like them: a tick is saved at once, one save after
  // another so that the last one wins. Save stays for a browser without this script.
  function saveOnChange(form) {
    var saved = $("settings-saved");
    var queue = Promise.resolve();
    $("settings-save").hidden = true;
    form.addEventListener("change", function (event) {
      if (event.target.type !== "checkbox") return;
      saved.textContent = "Saving…";
      savingSettings += 1;
      queue = queue.then(function () {
        return send(form).then(function () {
          savingSettings -= 1;
          saved.textContent = "Saved";
        }, function () {
          savingSettings -= 1;
          saved.textContent = "Not saved";
          drawnSettings = null; // put the boxes back as saved
          render();
        });
      });
    });
  }

  function facilitatorSetup() {
    var autosaved = document.querySelector("[data-save-on-change]");
    if (autosaved) saveOnChange(autosaved);
    $("focus-step").addEventListener("change", function (event) {
      focusStep = event.target.value;
      followRoom = false;
      $("settings-saved").textContent = ""; // it spoke of the other step's boxes
      render();
    });
    $("room-step").form.addEventListener("submit", function () { followRoom = true; });
    $("ideas").addEventListener("click", function (event) {
      var toggle = event.target.closest ? event.target.closest(".ws-edit-toggle") : null;
      if (!toggle) return;
      var card = toggle.closest("li");
      var form = card.querySelector(".ws-edit");
      form.hidden = !form.hidden;
      if (!form.hidden) {
        form.querySelector("textarea").value = card.querySelector(".ws-card-text").textContent;
        form.querySelector("textarea").focus();
      }
    });
    $("ideas").addEventListener("change", function (event) {
      if (event.target.classList.contains("ws-group-select")) send(event.target.form).catch(function () {});
    });
    $("ideas").addEventListener("submit", function (event) {
      if (event.target.classList.contains("ws-edit")) {
        var form = event.target;
        setTimeout(function () { form.hidden = true; }, 0);
      }
    }, true);
  }

  // The step's groups, each with its rename and remove forms. A name being edited is left
  // alone: only a box that still shows the last name drawn takes the new one.
  function renderGroups(groups) {
    var template = $("group-template");
    keyed($("groups"), groups.map(function (g) { return { n: g.id, label: g.label }; }), function () {
      return template.content.firstElementChild.cloneNode(true);
    }, function (li, group) {
      var base = BASE + "/groups/" + group.n + "/";
      var forms = li.querySelectorAll("[data-group-url]");
      for (var i = 0; i < forms.length; i++) forms[i].setAttribute("action", base + forms[i].getAttribute("data-group-url"));
      var box = li.querySelector("input[name=label]");
      if (box.value === (li.getAttribute("data-label") || "")) box.value = group.label;
      li.setAttribute("data-label", group.label);
      box.setAttribute("aria-label", "Name of the group " + group.label);
      li.querySelector("[data-group-url=rename] button").setAttribute("aria-label", "Rename the group " + group.label);
      li.querySelector("[data-group-url=delete] button").setAttribute("aria-label", "Remove the group " + group.label);
    });
  }

  // "3 names from one device: Ann, Bob, Cy", for each device that joined more than once.
  function renderSharedDevices(shared) {
    var list = $("shared-devices-list");
    var lines = [];
    for (var i = 0; i < shared.length; i++) lines.push(shared[i].length + " names from one device: " + shared[i].join(", "));
    if (list.getAttribute("data-drawn") === lines.join("\n")) return;
    list.setAttribute("data-drawn", lines.join("\n"));
    list.textContent = "";
    for (var j = 0; j < lines.length; j++) {
      var li = document.createElement("li");
      li.textContent = lines[j];
      list.appendChild(li);
    }
    $("shared-devices").hidden = !lines.length;
  }

  function renderFacilitator() {
    var roomStep = stepInfo(room.step);
    if (!focusStep || followRoom) focusStep = room.step;
    var step = stepInfo(focusStep);
    $("joined").textContent = room.joined;
    // Only when the room has moved: a step picked but not sent yet must survive a card arriving
    // (else "Move the room" sends the old step back, and nothing moves).
    if (room.step !== drawnRoomStep) { $("room-step").value = room.step; drawnRoomStep = room.step; }
    $("focus-step").value = focusStep;
    // While people roam, ideas arrive on any step: the picker says where.
    var options = $("focus-step").options;
    for (var o = 0; o < options.length; o++) {
      var info = stepInfo(options[o].value);
      var label = info.number + ". " + info.title + (info.idea_count ? " (" + info.idea_count + ")" : "");
      if (options[o].textContent !== label) options[o].textContent = label; // an open list stays put
    }
    $("focus-title").textContent = step.number + ". " + step.title + (focusStep === room.step ? " (the room is here)" : "");
    $("roam-value").value = room.roam ? "0" : "1";
    $("roam-button").textContent = room.roam ? "Bring everyone back to " + roomStep.title : "Let people roam freely";
    $("people").textContent = room.participants.length ? room.participants.join(", ") : "Nobody has joined yet.";
    renderSharedDevices(room.shared_devices || []);

    var forms = document.querySelectorAll("[data-step-url]");
    for (var i = 0; i < forms.length; i++) forms[i].setAttribute("action", stepUrl(forms[i].getAttribute("data-step-url")));
    var fields = document.querySelectorAll("[data-step-field] input[name=step]");
    for (var j = 0; j < fields.length; j++) fields[j].value = focusStep;
    // Likewise a box ticked but not saved yet stays ticked until the saved settings change,
    // and while a tick is being saved no update (made before it) puts the boxes back.
    var settings = focusStep + ":" + step.anonymous + ":" + step.private;
    if (settings !== drawnSettings && !savingSettings) {
      $("set-anonymous").checked = step.anonymous;
      $("set-private").checked = step.private;
      drawnSettings = settings;
    }
    $("reveal-form").hidden = !(step.private && !step.revealed);
    $("open-voting").hidden = step.voting === "open";
    $("close-voting").hidden = step.voting !== "open";
    $("open-voting-button").textContent = step.voting === "closed" ? "Reopen voting" : "Open voting";

    var parts = [counted(step.idea_count, "idea")];
    if (step.private && !step.revealed) parts.push("hidden from the room until you reveal them");
    if (step.voting === "open") parts.push("voting open: " + step.voters + " of " + room.joined + " have voted; results stay hidden until you close it");
    if (step.voting === "closed") parts.push("voting closed");
    $("focus-status").textContent = parts.join(" · ");

    var kinds = room.kinds[focusStep] || [];
    var groups = room.groups.filter(function (g) { return g.step === focusStep; });
    var ideas = sortIdeas(room.ideas.filter(function (idea) { return idea.step === focusStep; }), step);
    renderGroups(groups);
    var template = $("card-template");
    keyed($("ideas"), ideas, function () {
      return template.content.firstElementChild.cloneNode(true);
    }, function (li, idea) {
      li.querySelector(".ws-card-text").textContent = "#" + idea.n + " " + idea.text;
      var meta = [];
      if (idea.author) meta.push(idea.author);
      else if (idea.written_for) meta.push("written for " + idea.written_for);
      if (idea.hidden) meta.push("hidden");
      else if (!idea.shown) meta.push("not revealed yet");
      if (idea.votes !== null && idea.votes !== undefined) meta.push(counted(idea.votes, "dot"));
      li.querySelector(".ws-card-meta").textContent = meta.join(" · ");
      li.classList.toggle("ws-card-hidden", idea.hidden);
      var base = BASE + "/ideas/" + idea.n + "/";
      var idForms = li.querySelectorAll("[data-idea-url]");
      for (var k = 0; k < idForms.length; k++) idForms[k].setAttribute("action", base + idForms[k].getAttribute("data-idea-url"));
      li.querySelector("input[name=hidden]").value = idea.hidden ? "0" : "1";
      li.querySelector(".ws-hide").textContent = idea.hidden ? "Show" : "Hide";

      var select = li.querySelector(".ws-group-select");
      var wantedGroups = "|" + groups.map(function (g) { return g.id + ":" + g.label; }).join("|");
      if (select.getAttribute("data-groups") !== wantedGroups) {
        while (select.firstChild) select.removeChild(select.firstChild);
        select.appendChild(el("option", "", "No group")).value = "";
        groups.forEach(function (g) { select.appendChild(el("option", "", g.label)).value = String(g.id); });
        select.setAttribute("data-groups", wantedGroups);
      }
      select.value = idea.group ? String(idea.group) : "";
      li.querySelector(".ws-group-pick").hidden = !groups.length;

      var promote = li.querySelector(".ws-promote");
      var existing = li.querySelector(".ws-promoted");
      if (idea.promoted) {
        promote.hidden = true;
        if (!existing) {
          existing = el("a", "ws-promoted button small");
          existing.target = "_blank";
          li.querySelector(".ws-card-tools").appendChild(existing);
        }
        existing.textContent = "In the plan: " + idea.promoted.label; // the card's text is its name
        existing.href = "/plans/" + PLAN + "/items/" + idea.promoted.entity + "/" + idea.promoted.key + "/edit";
      } else {
        promote.hidden = !kinds.length;
        var entity = promote.querySelector("select");
        if (entity.options.length !== kinds.length) {
          while (entity.firstChild) entity.removeChild(entity.firstChild);
          kinds.forEach(function (kind) { entity.appendChild(el("option", "", kind.label)).value = kind.name; });
        }
        entity.parentNode.hidden = kinds.length < 2;
        if (existing) existing.parentNode.removeChild(existing);
      }
    });
  }

  // ------------------------------------------------------------ start

  function render() {
    if (!room) return;
    if (VIEW === "participant") renderParticipant();
    else if (VIEW === "projector") renderProjector();
    else renderFacilitator();
    tick();
  }

  if (VIEW === "participant") participantSetup();
  if (VIEW === "facilitator") facilitatorSetup();
  fetchState(false).then(connect, function () { startPolling(); });
})();
