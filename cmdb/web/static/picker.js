// Search-as-you-type location picker. Results are built with textContent: no HTML from data.
(function () {
  "use strict";
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
  function setup(root) {
    var value = root.querySelector("[data-picker-value]");
    var input = root.querySelector("[data-picker-input]");
    var list = root.querySelector("ul");
    var chosen = root.querySelector("[data-picker-chosen]");
    var timer = null, seq = 0;
    // The text the list on screen was found for, and a key pressed before the list caught up
    // with the text (a scanner types and presses Enter faster than a search answers).
    var shownFor = null, pendingKey = null, typed = false;
    var source = root.getAttribute("data-picker-source") || "/web/locations.json";
    var appendTo = root.getAttribute("data-picker-append");  // add keys to a list instead

    function close() { list.hidden = true; list.textContent = ""; shownFor = null; }
    function choose(item) {
      typed = false;
      if (appendTo) {
        var target = document.getElementById(appendTo);
        var keys = target.value.split(",").map(function (k) { return k.trim(); }).filter(Boolean);
        if (keys.indexOf(item.key) < 0) keys.push(item.key);
        target.value = keys.join(", ");
        input.value = "";
        chosen.textContent = t("added", { key: item.key });
        close();
        return;
      }
      value.value = item.key;
      input.value = item.path;
      chosen.textContent = t("selected", { place: item.path, key: item.key });
      close();
      root.dispatchEvent(new CustomEvent("picked", { detail: item, bubbles: true }));
    }
    function show(items) {
      list.textContent = "";
      items.forEach(function (item) {
        var li = document.createElement("li");
        var b = document.createElement("button");
        b.type = "button";
        b.setAttribute("role", "option");
        b.textContent = item.path + " (" + item.key + ")";
        b.setAttribute("tabindex", "0");
        b.addEventListener("click", function () {
          choose(item);
          // keep the keyboard in the form unless a listener moved focus on (scanning mode)
          if (!document.activeElement || document.activeElement === document.body) input.focus();
        });
        li.appendChild(b);
        list.appendChild(li);
      });
      if (!items.length) {
        var li = document.createElement("li");
        li.className = "hint";
        li.textContent = t("nothing_matches");
        list.appendChild(li);
      }
      list.hidden = false;
    }
    function search() {
      var q = input.value.trim();
      var mine = ++seq;
      fetch(source + "?q=" + encodeURIComponent(q), { credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.json() : { items: [] }; })
        .then(function (data) {
          if (mine !== seq || document.activeElement !== input) return;
          show(data.items || []);
          shownFor = q;
          if (pendingKey) { var key = pendingKey; pendingKey = null; act(key); }
        })
        .catch(function () {});
    }
    // ArrowDown moves into the list, Enter takes its first place.
    function act(key) {
      var first = list.querySelector("button");
      if (!first) return;
      if (key === "ArrowDown") first.focus(); else first.click();
    }
    input.addEventListener("input", function () {
      typed = true;
      if (value) { value.value = ""; chosen.textContent = t("no_location"); }
      clearTimeout(timer);
      timer = setTimeout(search, 150);
    });
    input.addEventListener("focus", function () { if (!value || !value.value) { clearTimeout(timer); timer = setTimeout(search, 50); } });
    input.addEventListener("keydown", function (ev) {
      if (ev.key === "ArrowDown" || ev.key === "Enter") {
        if (typed && input.value.trim() !== shownFor) {
          // the list is for other text (or not there yet): search now, then act on its answer
          pendingKey = ev.key;
          clearTimeout(timer);
          search();
          ev.preventDefault();
        } else if (!list.hidden && list.querySelector("button")) {
          act(ev.key);
          ev.preventDefault();
        }
      } else if (ev.key === "Escape") {
        pendingKey = null;
        close();
      }
    });
    list.addEventListener("keydown", function (ev) {
      var t = ev.target;
      if (ev.key === "ArrowDown" && t.parentNode.nextSibling) { t.parentNode.nextSibling.firstChild.focus(); ev.preventDefault(); }
      if (ev.key === "ArrowUp") { (t.parentNode.previousSibling ? t.parentNode.previousSibling.firstChild : input).focus(); ev.preventDefault(); }
      if (ev.key === "Escape") { close(); input.focus(); }
    });
    document.addEventListener("click", function (ev) { if (!root.contains(ev.target)) close(); });
  }
  document.querySelectorAll("[data-picker]").forEach(setup);
})();
