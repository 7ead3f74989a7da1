/* Placet dashboard script: keyboard control and live updates over Server-Sent Events.
 *
 * Our own, no dependencies. Every page works without it; this adds:
 *  - the keyboard (j/k/Enter/o in the queue; a/e/r/x/n/u on a task; ? for help; Esc),
 *  - live queue rows: the REST API's /api/v1/queue/events sends `queue` when the counts
 *    change, and the page re-fetches its server-rendered rows,
 *  - a draft appearing token by token: /api/v1/tasks/{id}/events sends `chunk` events
 *    (appended as text, never as HTML), then the sanitised, server-rendered task is
 *    fetched once a `status` event says the task moved on.
 * Both streams accept the session cookie, like the pages.
 * Untrusted text only ever reaches the page through text nodes; HTML comes only
 * from our own server, which escapes and sanitises it.
 */
(function () {
  "use strict";

  var body = document.body;
  var pageKind = body.dataset.page || "";

  // -- small helpers ----------------------------------------------------------------

  function byId(id) {
    return document.getElementById(id);
  }

  function isTyping(target) {
    if (!target || !target.tagName) return false;
    var tag = target.tagName.toLowerCase();
    return tag === "input" || tag === "textarea" || tag === "select" || target.isContentEditable;
  }

  var liveState = "off";

  // The badge may be replaced along with a fragment; setLive(liveState) redraws it.
  function setLive(state) {
    liveState = state;
    var badge = byId("live");
    if (badge) {
      badge.dataset.state = state;
      badge.title = state === "on" ? "Live updates on" : state === "retry" ? "Reconnecting…" : "Live updates off";
    }
  }

  // Fetch a server-rendered fragment; null when the session ended (we got the sign-in page).
  function fetchFragment(url) {
    return fetch(url, { credentials: "same-origin", headers: { Accept: "text/html" } }).then(
      function (response) {
        if (!response.ok || response.headers.get("X-Placet-Fragment") !== "1") return null;
        return response.text();
      }
    );
  }

  // Parse trusted server HTML into nodes; DOMParser never runs scripts.
  function parseNodes(html) {
    var doc = new DOMParser().parseFromString(html, "text/html");
    return Array.prototype.map.call(doc.body.childNodes, function (node) {
      return document.importNode(node, true);
    });
  }

  function replaceContent(container, html) {
    var nodes = parseNodes(html);
    container.replaceChildren.apply(container, nodes);
  }

  // One EventSource per page, with the live badge kept in step. Each handler gets
  // the event's data and whether it is the first event since (re)connecting.
  function listen(url, handlers) {
    if (!url || !window.EventSource) return null;
    var source = new EventSource(url);
    var first = true;
    source.onopen = function () {
      setLive("on");
      first = true;
    };
    source.onerror = function () {
      setLive(source.readyState === EventSource.CLOSED ? "off" : "retry");
    };
    Object.keys(handlers).forEach(function (name) {
      source.addEventListener(name, function (event) {
        var data = {};
        try {
          data = event.data ? JSON.parse(event.data) : {};
        } catch (error) {
          return; // not ours; ignore
        }
        var wasFirst = first;
        first = false;
        handlers[name](data, wasFirst, source);
      });
    });
    window.addEventListener("pagehide", function () {
      source.close();
    });
    return source;
  }

  // -- help overlay ---------------------------------------------------------------------

  function helpOpen() {
    var help = byId("help");
    return help && !help.hidden;
  }

  function toggleHelp(show) {
    var help = byId("help");
    if (!help) return;
    help.hidden = !show;
    if (show) {
      var close = help.querySelector("[data-close-help]");
      if (close) close.focus();
    }
  }

  document.addEventListener("click", function (event) {
    var target = event.target;
    if (target.closest && target.closest("[data-close-help]")) toggleHelp(false);
    else if (target.id === "help") toggleHelp(false); // a click on the dimmed backdrop
  });

  // -- the queue ------------------------------------------------------------------------

  var queue = { selectedId: null, timer: null, busy: false, again: false, loaded: false };

  function queueRows() {
    return Array.prototype.slice.call(document.querySelectorAll("#queue-table tbody tr.row"));
  }

  function selectRow(index) {
    var rows = queueRows();
    if (!rows.length) return;
    index = Math.max(0, Math.min(rows.length - 1, index));
    rows.forEach(function (row, i) {
      row.classList.toggle("selected", i === index);
      row.setAttribute("aria-selected", i === index ? "true" : "false");
    });
    queue.selectedId = rows[index].dataset.id;
    rows[index].scrollIntoView({ block: "nearest" });
  }

  function selectedIndex() {
    var rows = queueRows();
    for (var i = 0; i < rows.length; i++) {
      if (rows[i].dataset.id === queue.selectedId) return i;
    }
    return -1;
  }

  function openSelected() {
    var rows = queueRows();
    var index = selectedIndex();
    if (index >= 0) openRow(rows[index]);
  }

  // Opening a task one may review takes it (the row's Open form posts), so others'
  // queues skip it; any other row is just a link.
  function openRow(row) {
    var take = row.querySelector("form.take-form");
    if (take) take.submit();
    else window.location.assign(row.dataset.href);
  }

  function queueKey(event) {
    var index = selectedIndex();
    if (event.key === "j") selectRow(index + 1);
    else if (event.key === "k") selectRow(index < 0 ? 0 : index - 1);
    else if (event.key === "Enter" || event.key === "o") openSelected();
    else return false;
    return true;
  }

  function refreshQueue() {
    var live = byId("queue-live");
    if (!live) return;
    if (queue.busy) {
      queue.again = true; // one more refresh when this one lands
      return;
    }
    queue.busy = true;
    var before = queueRows().map(function (row) {
      return row.dataset.id;
    });
    var oldIndex = selectedIndex();
    fetchFragment(body.dataset.fragment)
      .then(function (html) {
        if (html === null) {
          window.location.reload(); // signed out or refused: let the server say so
          return;
        }
        replaceContent(live, html);
        markFreshRows(before);
        restoreSelection(oldIndex);
      })
      .catch(function () {
        setLive("retry");
      })
      .then(function () {
        queue.busy = false;
        if (queue.again) {
          queue.again = false;
          scheduleQueueRefresh();
        }
      });
  }

  function markFreshRows(before) {
    queueRows().forEach(function (row) {
      if (before.indexOf(row.dataset.id) < 0) row.classList.add("fresh");
    });
  }

  function restoreSelection(oldIndex) {
    if (queue.selectedId === null) return;
    var index = selectedIndex();
    // The selected task was taken by someone else: keep the cursor at the same place.
    selectRow(index >= 0 ? index : oldIndex);
  }

  function scheduleQueueRefresh() {
    // Many commits can land at once; one fetch shortly after is enough.
    if (queue.timer !== null) return;
    queue.timer = window.setTimeout(function () {
      queue.timer = null;
      refreshQueue();
    }, 250);
  }

  function onQueueEvent(data, first) {
    // The stream opens with the current counts: nothing new when the page has just
    // loaded, but after a reconnect the rows may have changed meanwhile.
    if (first && !queue.loaded) {
      queue.loaded = true;
      return;
    }
    scheduleQueueRefresh();
  }

  function startQueue() {
    document.addEventListener("click", function (event) {
      var row = event.target.closest && event.target.closest("#queue-table tr.row");
      if (row && !event.target.closest("a, button, input, select, textarea")) {
        openRow(row);
      }
    });
    var filters = byId("filters");
    if (filters) {
      filters.addEventListener("change", function () {
        filters.requestSubmit();
      });
    }
    listen(body.dataset.events, { queue: onQueueEvent });
  }

  // -- one task -----------------------------------------------------------------------

  var task = { refreshing: false, again: false, poll: null };
  // Outcome handlers run after a final decision, when the task's stream has ended.
  // While one is still to run, the page looks again this often (each outcome is
  // a new task version, so an unchanged page is left as it is).
  var HANDLER_POLL_MS = 3000;
  var FINAL = ["approved", "rejected", "cancelled", "expired"];

  function taskMain() {
    return byId("task-main");
  }

  function openPanel(id, fieldSelector) {
    var panel = byId(id);
    if (!panel) return false;
    panel.open = true;
    var field = panel.querySelector(fieldSelector);
    if (field) {
      field.focus();
      // Only text takes a caret (a number box or a select would throw).
      if (field.tagName === "TEXTAREA" || field.type === "text") {
        var end = field.value.length;
        field.setSelectionRange(end, end);
      }
    }
    return true;
  }

  function approve() {
    var form = byId("approve-form");
    if (!form) return false;
    form.requestSubmit();
    return true;
  }

  function go(url) {
    if (!url) return false;
    window.location.assign(url);
    return true;
  }

  function taskKey(event) {
    var main = taskMain();
    switch (event.key) {
      case "a":
        return approve();
      case "e":  // the draft's text, or the first field of a structured draft's form
        return openPanel("edit-panel", "textarea, input:not([type=hidden]), select");
      case "r":
        return openPanel("revise-panel", "textarea");
      case "x":
        return openPanel("reject-panel", "textarea");
      case "n":
        return go(main && main.dataset.next);
      case "u":
        return go("/");
      default:
        return pickChoice(event.key);
    }
  }

  // A kind with choices: key N picks the Nth (a button sends it; a box is ticked or not).
  function pickChoice(key) {
    if (!/^[1-9]$/.test(key)) return false;
    var picked = document.querySelector('[data-choice-key="' + key + '"]');
    if (!picked) return false;
    picked.click();
    return true;
  }

  function appendChunk(data) {
    var target = byId("live-draft");
    if (!target || typeof data.text !== "string") return;
    // Model output is untrusted: it becomes a text node, never markup.
    target.appendChild(document.createTextNode(data.text));
  }

  function restartDraft(data) {
    var target = byId("live-draft");
    if (target) target.textContent = "";
    // Why it starts again ("writing candidate 2 of 3"), as text; empty: the stream broke off.
    var note = byId("live-note");
    if (note) note.textContent = data && typeof data.text === "string" && data.text ? "· " + data.text : "";
  }

  function onStatus(data, first, source) {
    if (FINAL.indexOf(data.status) >= 0) {
      source.close(); // nothing more will happen; do not let the browser reconnect
      setLive("off");
    }
    var main = taskMain();
    if (!main || String(data.version) === main.dataset.version) return;
    refreshTask();
  }

  function refreshTask() {
    var root = byId("task-root");
    if (!root) return;
    if (task.refreshing) {
      task.again = true;
      return;
    }
    task.refreshing = true;
    fetchFragment(body.dataset.fragment)
      .then(function (html) {
        if (html === null) {
          window.location.reload();
          return;
        }
        var main = taskMain();
        if (!main || versionIn(html) !== main.dataset.version) {
          replaceContent(root, html);
          setLive(liveState); // the new fragment's badge starts out "off"
        }
      })
      .catch(function () {
        setLive("retry");
      })
      .then(function () {
        task.refreshing = false;
        if (task.again) {
          task.again = false;
          refreshTask();
        } else {
          followHandlers();
        }
      });
  }

  function versionIn(html) {
    var found = /id="task-main" data-version="(\d+)"/.exec(html);
    return found ? found[1] : null;
  }

  function followHandlers() {
    var main = taskMain();
    if (task.poll || !main || !("handlersRunning" in main.dataset)) return;
    task.poll = window.setTimeout(function () {
      task.poll = null;
      refreshTask();
    }, HANDLER_POLL_MS);
  }

  function startTask() {
    // A second press while the first post is on its way must not send it twice.
    document.addEventListener("submit", function (event) {
      var form = event.target;
      if (form.dataset.sent === "1") {
        event.preventDefault();
        return;
      }
      form.dataset.sent = "1";
    });
    listen(body.dataset.events, { chunk: appendChunk, restart: restartDraft, status: onStatus });
    followHandlers();
  }

  // -- keyboard -------------------------------------------------------------------------

  function closeOpenPanel(target) {
    var panel = target.closest && target.closest("details");
    if (panel) panel.open = false;
    target.blur();
  }

  document.addEventListener("keydown", function (event) {
    if (event.defaultPrevented) return;
    var target = event.target;
    if (event.key === "Escape") {
      if (helpOpen()) toggleHelp(false);
      else if (isTyping(target)) closeOpenPanel(target);
      return;
    }
    if (isTyping(target)) {
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey) && target.form) {
        event.preventDefault();
        target.form.requestSubmit();
      }
      return;
    }
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    // Enter on a focused link or button does what it always does.
    if (event.key === "Enter" && target.closest && target.closest("a, button, summary")) return;
    if (event.key === "?") {
      toggleHelp(!helpOpen());
      event.preventDefault();
      return;
    }
    if (helpOpen()) return;
    var handled = false;
    if (pageKind === "queue") handled = queueKey(event);
    else if (pageKind === "task") handled = taskKey(event);
    if (handled) event.preventDefault();
  });

  if (pageKind === "queue") startQueue();
  else if (pageKind === "task") startTask();
})();
