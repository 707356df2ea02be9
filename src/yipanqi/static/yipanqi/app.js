// yipanqi (一盘棋) page behaviour. Loaded with `defer` after Tabler, htmx and (on chart pages) ECharts.
// The Content-Security-Policy allows no inline script or style, so everything a page needs is wired here from
// data-* attributes and from `json_script` data blocks.
(function () {
  "use strict";

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  // --- htmx: send Django's CSRF token with every request htmx makes.
  document.addEventListener("htmx:configRequest", function (event) {
    var token = csrfToken();
    if (token) {
      event.detail.headers["X-CSRFToken"] = token;
    }
  });

  // A failed htmx request shows a message instead of silently doing nothing.
  document.addEventListener("htmx:responseError", function (event) {
    var box = document.getElementById("yq-htmx-error");
    if (box) {
      box.classList.remove("d-none");
    }
    if (window.console) {
      console.warn("htmx request failed", event.detail.xhr && event.detail.xhr.status);
    }
  });

  // --- Confirmation before destructive POST forms: <form data-confirm="…">.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form instanceof HTMLFormElement && form.dataset.confirm) {
      if (!window.confirm(form.dataset.confirm)) {
        event.preventDefault();
        event.stopImmediatePropagation();
      }
    }
  }, true);

  // --- Copy buttons: <button data-copy-target="#id">.
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy-target]");
    if (!button) {
      return;
    }
    var field = document.querySelector(button.dataset.copyTarget);
    if (!field) {
      return;
    }
    var done = function () {
      var label = button.querySelector("[data-copy-label]");
      if (label && button.dataset.copiedText) {
        label.textContent = button.dataset.copiedText;
      }
      button.classList.add("btn-success");
    };
    field.focus();
    field.select();
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(field.value).then(done, function () {
        document.execCommand("copy");
        done();
      });
    } else {
      document.execCommand("copy");
      done();
    }
  });

  // --- Selects that submit their form when changed (filter bars without htmx): <select data-autosubmit>.
  document.addEventListener("change", function (event) {
    var el = event.target;
    if (el.matches && el.matches("[data-autosubmit]") && el.form && !el.form.hasAttribute("hx-get")) {
      el.form.requestSubmit();
    }
  });

  // --- Charts: <div data-chart="bar|doughnut" data-chart-data="id-of-json_script"></div>.
  var PALETTE = ["#1d5fbf", "#d7261e", "#7048e8", "#0e7490", "#2f855a", "#d97706", "#db2777", "#4c6ef5",
    "#78716c", "#0ca678", "#f59f00", "#ae3ec9", "#15aabf"];

  function chartOption(kind, data, el) {
    var emptyLabel = el.dataset.chartEmpty || "";
    var textStyle = {
      fontFamily: getComputedStyle(document.body).fontFamily,
      color: getComputedStyle(document.body).color,
    };
    var base = {
      color: PALETTE,
      textStyle: textStyle,
      aria: { enabled: true },
      animationDuration: 500,
      // richText tooltips are drawn on the canvas: HTML tooltips carry style="" attributes the CSP blocks.
      tooltip: { renderMode: "richText", confine: true },
    };
    var total = data.reduce(function (sum, item) { return sum + item.value; }, 0);
    if (!total) {
      base.title = {
        text: emptyLabel,
        left: "center",
        top: "middle",
        textStyle: { color: "#8a94a6", fontSize: 14, fontWeight: "normal", fontFamily: textStyle.fontFamily },
      };
      return base;
    }
    if (kind === "doughnut") {
      base.tooltip.trigger = "item";
      base.tooltip.formatter = "{b}: {c} ({d}%)";
      base.legend = { bottom: 0, left: "center", icon: "circle", textStyle: textStyle };
      base.series = [{
        type: "pie",
        radius: ["45%", "72%"],
        center: ["50%", "45%"],
        avoidLabelOverlap: true,
        itemStyle: { borderColor: "#fff", borderWidth: 2, borderRadius: 4 },
        label: { show: true, formatter: "{b}\n{c}", color: textStyle.color, fontFamily: textStyle.fontFamily },
        data: data,
      }];
      return base;
    }
    // Horizontal bars, largest first (read top to bottom).
    var sorted = data.slice().sort(function (a, b) { return a.value - b.value; });
    base.tooltip.trigger = "axis";
    base.tooltip.axisPointer = { type: "shadow" };
    base.grid = { left: 8, right: 48, top: 8, bottom: 8, containLabel: true };
    base.xAxis = { type: "value", splitLine: { lineStyle: { color: "#eef1f6" } }, axisLabel: { color: "#8a94a6" } };
    base.yAxis = {
      type: "category",
      data: sorted.map(function (item) { return item.name; }),
      axisTick: { show: false },
      axisLine: { show: false },
      axisLabel: { color: textStyle.color, fontFamily: textStyle.fontFamily },
    };
    base.series = [{
      type: "bar",
      data: sorted.map(function (item) { return item.value; }),
      barMaxWidth: 18,
      itemStyle: { color: PALETTE[0], borderRadius: [0, 4, 4, 0] },
      label: { show: true, position: "right", color: textStyle.color, fontFamily: textStyle.fontFamily },
    }];
    return base;
  }

  var charts = [];

  function initCharts(root) {
    if (typeof window.echarts === "undefined") {
      return;
    }
    root.querySelectorAll("[data-chart]").forEach(function (el) {
      if (el.dataset.chartReady) {
        return;
      }
      var source = document.getElementById(el.dataset.chartData);
      if (!source) {
        return;
      }
      var data = JSON.parse(source.textContent);
      var chart = window.echarts.init(el, null, { renderer: "canvas" });
      chart.setOption(chartOption(el.dataset.chart, data, el));
      el.dataset.chartReady = "1";
      charts.push(chart);
    });
  }

  var resizeTimer = null;
  window.addEventListener("resize", function () {
    window.clearTimeout(resizeTimer);
    resizeTimer = window.setTimeout(function () {
      charts.forEach(function (chart) { chart.resize(); });
    }, 150);
  });

  function ready(fn) {
    if (document.readyState === "loading") {
      document.addEventListener("DOMContentLoaded", fn);
    } else {
      fn();
    }
  }

  ready(function () {
    initCharts(document);
  });
  document.addEventListener("htmx:afterSettle", function (event) {
    initCharts(event.target);
  });
})();
