// Audit progress: poll the JSON every few seconds and redraw (open campaigns only);
// continuous scanning mode.
// Everything from the server is inserted with textContent, never as HTML.
(function () {
  "use strict";
  var root = document.getElementById("audit");
  if (!root) return;
  var campaign = root.getAttribute("data-campaign");
  var csrf = root.getAttribute("data-csrf");
  var base = "/audits/" + encodeURIComponent(campaign);
  var POLL_MS = 3000;
  // The page's words in its language (base.html), with {name} placeholders filled in.
  var MESSAGES = (function () {
    var node = document.getElementById("page-messages");
    try { return node ? JSON.parse(node.textContent) : {}; } catch (e) { return {}; }
  })();
  function t(id, values) {
    return (MESSAGES[id] || id).replace(/\{(\w+)\}/g, function (all, name) {
      return values && values[name] !== undefined ? String(values[name]) : all;
    });
  }

  function percent(v) {
    if (v === null || v === undefined) return "–";
    return (v === 0 || v === 100) ? v.toFixed(0) + "%" : v.toFixed(1) + "%";
  }
  function el(tag, text) { var e = document.createElement(tag); if (text !== undefined) e.textContent = text; return e; }

  function drawChart(groups) {
    var chart = document.getElementById("chart");
    chart.textContent = "";
    groups.forEach(function (g) {
      var li = el("li");
      var label = el("span", g.label);
      label.className = "bar-label";
      var row = el("span");
      row.className = "bar-row";
      var bar = el("progress", percent(g.percent));
      bar.max = 100;
      bar.value = g.percent || 0;
      bar.setAttribute("aria-label", g.label);
      var value = el("span", percent(g.percent) + " · " + t("of", { verified: g.verified, expected: g.expected }));
      value.className = "bar-value";
      row.appendChild(bar);
      row.appendChild(document.createTextNode(" "));
      row.appendChild(value);
      li.appendChild(label);
      li.appendChild(row);
      chart.appendChild(li);
    });
  }

  function drawList(name, data) {
    var list = document.getElementById("list-" + name);
    if (!list) return;
    var count = document.querySelector('[data-count="' + name + '"]');
    if (count) count.textContent = String(data.total);
    var section = document.getElementById("section-" + name);
    if (section) section.classList.toggle("empty", data.total === 0);
    var showExpected = list.getAttribute("data-expected") === "1";
    var showFound = list.getAttribute("data-found") === "1";
    var showReason = list.getAttribute("data-reason") === "1";
    list.textContent = "";
    data.items.forEach(function (e) {
      var li = el("li");
      var key = el("strong", e.key);
      key.className = "key";
      li.appendChild(key);
      li.appendChild(document.createTextNode(" " + e.name));
      function line(text) { li.appendChild(el("br")); li.appendChild(el("small", text)); }
      if (showExpected && e.expected) line(t("registered", { place: e.expected }));
      if (showFound && e.found) line(t("found", { place: e.found }));
      if (showReason && e.reason) line(e.reason);
      if (e.note) line(t("note", { note: e.note }));
      list.appendChild(li);
    });
  }

  function draw(p) {
    document.getElementById("percent").textContent = percent(p.percent);
    document.getElementById("verified-text").textContent = t("of_expected", { verified: p.verified, expected: p.expected });
    document.getElementById("scans-text").textContent = t(p.scans === 1 ? "scan" : "scans", { n: p.scans });
    drawChart(p.groups);
    Object.keys(p.lists).forEach(function (name) { drawList(name, p.lists[name]); });
    var updated = document.getElementById("updated");
    if (p.campaign && p.campaign.status !== "open") {  // closed while the page was open
      stopPolling();
      updated.textContent = updated.getAttribute("data-closed-text");
    } else {
      updated.textContent = t("updated", { time: new Date().toLocaleTimeString(document.documentElement.lang || undefined) });
    }
  }

  // A closed campaign's figures are final: no polling (data-polling says which, for tests too).
  var polling = false, pollTimer = null, interval = POLL_MS;
  var live = root.getAttribute("data-open") === "1";
  root.setAttribute("data-polling", live ? "on" : "off");
  function stopPolling() { live = false; clearTimeout(pollTimer); root.setAttribute("data-polling", "off"); }
  function schedule() { clearTimeout(pollTimer); if (live) pollTimer = setTimeout(poll, interval); }
  function poll() {
    if (polling || !live) return;
    if (document.hidden) { schedule(); return; }
    polling = true;
    var started = Date.now();
    fetch(base + "/progress.json", { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) { if (r.status === 401) { location.reload(); } return r.ok ? r.json() : null; })
      .then(function (p) { if (p) draw(p); })
      .catch(function () {})
      .then(function () {
        polling = false;
        // a slow answer (a large campaign) means poll less often
        interval = Math.max(POLL_MS, 3 * (Date.now() - started));
        schedule();
      });
  }
  schedule();
  document.addEventListener("visibilitychange", function () { if (!document.hidden) poll(); });

  // --- continuous scanning ---------------------------------------------------------------
  var form = document.getElementById("scan-form");
  if (!form) return;
  var input = document.getElementById("scan-tag");
  var status = document.getElementById("scan-status");
  var log = document.getElementById("scan-log");
  var locationValue = document.getElementById("scan-location");
  var queue = [], busy = false, audio = null, flashTimer = null;

  function beep(ok) {
    try {
      audio = audio || new (window.AudioContext || window.webkitAudioContext)();
      var osc = audio.createOscillator(), gain = audio.createGain();
      osc.frequency.value = ok ? 1320 : 220;
      osc.type = ok ? "sine" : "square";
      gain.gain.value = 0.08;
      osc.connect(gain); gain.connect(audio.destination);
      osc.start(); osc.stop(audio.currentTime + (ok ? 0.08 : 0.3));
    } catch (e) { /* no audio: the colour still says it */ }
  }
  function flash(kind) {
    form.classList.remove("ok", "unknown");
    void form.offsetWidth;  // restart the transition for back-to-back scans
    form.classList.add(kind);
    clearTimeout(flashTimer);
    flashTimer = setTimeout(function () { form.classList.remove("ok", "unknown"); }, 900);
  }
  function acknowledge(ok, message, moved) {
    flash(ok ? "ok" : "unknown");
    beep(ok);
    status.textContent = message;
    var li = el("li", message);
    li.className = (ok ? "ok" : "unknown") + (moved ? " moved" : "");
    log.insertBefore(li, log.firstChild);
    while (log.children.length > 30) log.removeChild(log.lastChild);
  }
  function next() {
    if (busy || !queue.length) return;
    busy = true;
    var item = queue.shift();
    fetch(base + "/scans.json", {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf, "Accept": "application/json" },
      body: JSON.stringify(item)
    }).then(function (r) {
      return r.json().then(function (body) { return { ok: r.ok, body: body }; });
    }).then(function (res) {
      if (res.ok) acknowledge(res.body.known, res.body.message, res.body.registered_elsewhere);
      else acknowledge(false, t("not_recorded", { tag: item.tag, reason: (res.body.error && res.body.error.message) || t("error") }));
    }).catch(function () {
      acknowledge(false, t("not_recorded", { tag: item.tag, reason: t("no_connection") }));
    }).then(function () { busy = false; poll(); next(); });
  }
  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    var tag = input.value.trim();
    input.value = "";
    input.focus();
    if (!tag) return;
    if (!locationValue.value) {
      acknowledge(false, t("choose_location_first", { tag: tag }));
      return;
    }
    queue.push({ tag: tag, location: locationValue.value });
    next();
  });
  root.addEventListener("picked", function (ev) {
    status.textContent = t("scanning_in", { place: ev.detail.path });
    input.focus();
  });
})();
