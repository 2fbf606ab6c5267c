// GridCare workspace: live deadline countdowns, the category search, keyboard shortcuts.
(function () {
  "use strict";

  function span(seconds) {
    var m = Math.floor(Math.abs(seconds) / 60);
    var d = Math.floor(m / 1440), h = Math.floor((m % 1440) / 60), mm = m % 60;
    if (d) return d + "天" + h + "小时";
    if (h) return h + "小时" + mm + "分";
    return mm + "分";
  }

  // <span class="cd" data-deadline="ISO" data-warn="ISO">: the time left, red when late, amber when due soon.
  function tick() {
    var now = Date.now();
    document.querySelectorAll(".cd[data-deadline]").forEach(function (el) {
      var deadline = Date.parse(el.dataset.deadline);
      if (isNaN(deadline)) return;
      var warn = el.dataset.warn ? Date.parse(el.dataset.warn) : NaN;
      var left = (deadline - now) / 1000;
      el.textContent = left >= 0 ? "剩余" + span(left) : "已超时" + span(left);
      var late = left < 0, soon = !late && !isNaN(warn) && now >= warn;
      el.classList.toggle("overdue", late);
      el.classList.toggle("due-soon", soon);
      var row = el.closest("tr[data-live]");
      if (row) { row.classList.toggle("overdue", late); row.classList.toggle("due-soon", soon); }
    });
  }

  // <input data-filter="#tree">: shows only the choices whose text contains every typed word.
  function filterTree(input) {
    var tree = document.querySelector(input.dataset.filter);
    if (!tree) return;
    var words = input.value.trim().split(/\s+/).filter(Boolean);
    tree.querySelectorAll("label[data-text]").forEach(function (label) {
      var text = label.dataset.text;
      label.hidden = !words.every(function (w) { return text.indexOf(w) >= 0; });
    });
    tree.querySelectorAll(".group").forEach(function (g) {
      var any = false, el = g.nextElementSibling;
      while (el && !el.classList.contains("group")) { if (!el.hidden) any = true; el = el.nextElementSibling; }
      g.hidden = !any;
    });
  }

  // Intake: only the category list of the chosen business type is shown.
  function showCategories(select) {
    document.querySelectorAll("[data-for-type]").forEach(function (box) {
      var on = box.dataset.forType === select.value;
      box.hidden = !on;
      box.querySelectorAll("input").forEach(function (i) { i.disabled = !on; });
    });
  }

  document.addEventListener("input", function (e) {
    if (e.target.matches("input[data-filter]")) filterTree(e.target);
  });
  document.addEventListener("change", function (e) {
    if (e.target.matches("select[data-type-select]")) showCategories(e.target);
    if (e.target.matches("[data-autosubmit]") && e.target.form) e.target.form.requestSubmit();
  });
  // No inline handlers (the Content-Security-Policy allows scripts from this site only).
  document.addEventListener("click", function (e) {
    var el = e.target.closest ? e.target.closest("[data-print], [data-back]") : null;
    if (!el) return;
    if (el.hasAttribute("data-print")) { e.preventDefault(); window.print(); }
    else if (el.hasAttribute("data-back") && window.history.length > 1) { e.preventDefault(); window.history.back(); }
  });
  document.addEventListener("keydown", function (e) {
    // Ctrl+Enter submits the form being typed in.
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey) && e.target.form) {
      e.preventDefault();
      e.target.form.requestSubmit();
      return;
    }
    // Enter in the customer search takes the first hit (searching at once if typed faster than the
    // search ran); ↓ moves into the hits.
    if (e.target.id === "customer-q" && (e.key === "Enter" || e.key === "ArrowDown")) {
      e.preventDefault();
      var first = document.querySelector("#customer-results .hit");
      if (e.key === "ArrowDown") { if (first) first.focus(); return; }
      pickFirst = true;
      htmx.trigger(e.target, "search");
      return;
    }
    if (e.target.classList && e.target.classList.contains("hit") && (e.key === "ArrowDown" || e.key === "ArrowUp")) {
      var next = e.key === "ArrowDown" ? e.target.nextElementSibling : e.target.previousElementSibling;
      if (next) { e.preventDefault(); next.focus(); }
      return;
    }
    // "/" focuses the page's search box when not typing.
    if (e.key === "/" && !/INPUT|TEXTAREA|SELECT/.test(e.target.tagName)) {
      var box = document.querySelector("[data-search-box]");
      if (box) { e.preventDefault(); box.focus(); }
    }
  });
  document.addEventListener("DOMContentLoaded", function () {
    var type = document.querySelector("select[data-type-select]");
    if (type) showCategories(type);
    tick();
    setInterval(tick, 1000);
  });
  var pickFirst = false;
  document.addEventListener("htmx:afterSettle", function (e) {  // new hits are live only once settled
    tick();
    if (pickFirst && e.detail.target.id === "customer-results") {
      pickFirst = false;
      var first = e.detail.target.querySelector(".hit");
      if (first) first.click();
    }
  });
})();
