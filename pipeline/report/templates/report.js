/* jtbd-pipeline report: draws the charts of open sections, plays quotes from the audio. */
(function () {
  "use strict";
  var CONFIG = { displaylogo: false, responsive: true, showLink: false, sendData: false };

  function isHidden(el) {
    var d = el.closest("details");
    while (d) {
      if (!d.open) { return true; }
      d = d.parentElement ? d.parentElement.closest("details") : null;
    }
    return false;
  }

  function draw(root) {
    var charts = root.querySelectorAll(".chart[data-fig]:not([data-drawn])");
    Array.prototype.forEach.call(charts, function (el) {
      if (isHidden(el)) { return; }
      el.setAttribute("data-drawn", "1");
      try {
        var spec = JSON.parse(document.getElementById(el.getAttribute("data-fig")).textContent);
        window.Plotly.newPlot(el, spec.data, spec.layout, Object.assign({}, CONFIG, spec.config || {}));
      } catch (err) {
        el.textContent = "Ce graphique n'a pas pu être affiché.";
        console.error("report: chart " + el.getAttribute("data-fig") + ": " + err);
      }
    });
  }

  function start() {
    var all = document.querySelectorAll("details.interview");
    if (window.location.hash === "#tout") {
      Array.prototype.forEach.call(all, function (d) { d.open = true; });
    } else if (window.location.hash.indexOf("#iv-") === 0) {
      var target = document.getElementById(window.location.hash.slice(1));
      if (target && target.tagName === "DETAILS") { target.open = true; }
    }
    draw(document);
    Array.prototype.forEach.call(all, function (d) {
      d.addEventListener("toggle", function () { if (d.open) { draw(d); } });
    });
    window.addEventListener("hashchange", function () {
      if (window.location.hash === "#tout") {
        Array.prototype.forEach.call(all, function (d) { d.open = true; });
        return;
      }
      var t = document.getElementById(window.location.hash.slice(1));
      if (t && t.tagName === "DETAILS" && !t.open) { t.open = true; }
    });
    document.body.setAttribute("data-report-ready", "1");
  }

  document.addEventListener("click", function (ev) {
    var toggle = ev.target.closest("button.toggle-all");
    if (toggle) {
      var open = toggle.getAttribute("data-open") === "1";
      Array.prototype.forEach.call(document.querySelectorAll("details.interview"), function (d) {
        d.open = open;
      });
      return;
    }
    var link = ev.target.closest("a[href^='#iv-']");
    if (link) {
      var det = document.getElementById(link.getAttribute("href").slice(1));
      if (det && det.tagName === "DETAILS") { det.open = true; }
      return;
    }
    var button = ev.target.closest("button.play");
    if (!button) { return; }
    var audio = document.getElementById(button.getAttribute("data-audio"));
    if (!audio) { return; }
    var at = parseFloat(button.getAttribute("data-start")) || 0;
    var seekAndPlay = function () {
      audio.currentTime = at;
      var p = audio.play();
      if (p && p.catch) {
        p.catch(function (err) {
          button.classList.add("failed");
          button.title = "Lecture impossible : " + err.message;
        });
      }
    };
    if (audio.readyState >= 1) {
      seekAndPlay();
    } else {
      audio.addEventListener("loadedmetadata", seekAndPlay, { once: true });
      audio.preload = "auto";
      audio.load();
    }
  });

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
