// yipanqi (一盘棋) page behaviour. Loaded with `defer` after Tabler, htmx and (on chart pages) ECharts.
// The Content-Security-Policy allows no inline script or style, so everything a page needs is wired here from
// data-* attributes and from `json_script` data blocks.
(function () {
  "use strict";

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  // --- htmx: never copy style attributes while settling a swap. htmx would set them on the new elements with
  // setAttribute, which the CSP blocks (and reports) even when the attribute is empty, e.g. one the browser added.
  if (window.htmx && window.htmx.config && window.htmx.config.attributesToSettle) {
    window.htmx.config.attributesToSettle = window.htmx.config.attributesToSettle.filter(function (name) {
      return name !== "style";
    });
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

  // --- Charts: <div data-chart="bar|doughnut|stacked|line|sankey" data-chart-data="id-of-json_script"></div>.
  //   bar, doughnut: [{name, value, light?}]; stacked, line: {categories: [...], series: [{name, key, data, axis?}]}
  //   where a series' key is a light (red … done: coloured as the lights) or anything else (the palette);
  //   sankey: {nodes: [{name, group}], links: [{source, target, value}]} (needs ECharts' full build, not "common").
  var PALETTE = ["#1d5fbf", "#d7261e", "#7048e8", "#0e7490", "#2f855a", "#d97706", "#db2777", "#4c6ef5",
    "#78716c", "#0ca678", "#f59f00", "#ae3ec9", "#15aabf"];
  // The lights' colours: app.css's --yq-light-* variables, these if a page lacks them.
  var LIGHT_COLOURS = { red: "#d63939", yellow: "#f59f00", blue: "#1d5fbf", green: "#2fb344", done: "#667382" };

  function lightColour(key, index) {
    if (Object.prototype.hasOwnProperty.call(LIGHT_COLOURS, key)) {
      var value = getComputedStyle(document.documentElement).getPropertyValue("--yq-light-" + key).trim();
      return value || LIGHT_COLOURS[key];
    }
    return PALETTE[index % PALETTE.length];
  }

  function isEmpty(kind, data) {
    if (kind === "stacked" || kind === "line") {
      return !data.categories || !data.categories.length;
    }
    if (kind === "sankey") {
      return !data.links || !data.links.length;
    }
    return !data.reduce(function (sum, item) { return sum + item.value; }, 0);
  }

  function stackedOption(base, data, textStyle) {
    // Horizontal bars, one stack per category, the first category on top.
    base.tooltip.trigger = "axis";
    base.tooltip.axisPointer = { type: "shadow" };
    base.legend = { top: 0, left: "center", textStyle: textStyle };
    base.grid = { left: 8, right: 24, top: 32, bottom: 8, containLabel: true };
    base.xAxis = {
      type: "value",
      minInterval: 1,
      splitLine: { lineStyle: { color: "#eef1f6" } },
      axisLabel: { color: "#8a94a6" },
    };
    base.yAxis = {
      type: "category",
      inverse: true,
      data: data.categories,
      axisTick: { show: false },
      axisLine: { show: false },
      axisLabel: { color: textStyle.color, fontFamily: textStyle.fontFamily, width: 150, overflow: "truncate" },
    };
    base.series = data.series.map(function (series, index) {
      return {
        type: "bar",
        name: series.name,
        stack: "total",
        data: series.data,
        barMaxWidth: 18,
        itemStyle: { color: lightColour(series.key, index) },
        emphasis: { focus: "series" },
      };
    });
    return base;
  }

  function lineOption(base, data, textStyle) {
    // Counts on the left axis, percentages (series with axis: 1) on the right one.
    base.tooltip.trigger = "axis";
    base.legend = { top: 0, left: "center", textStyle: textStyle };
    base.grid = { left: 16, right: 16, top: 36, bottom: 8, containLabel: true };
    base.xAxis = {
      type: "category",
      boundaryGap: false,
      data: data.categories,
      // Days come as YYYY-MM-DD; the axis shows MM-DD (the tooltip and the table have the full date).
      axisLabel: { color: "#8a94a6", hideOverlap: true, formatter: function (value) { return value.slice(5); } },
    };
    base.yAxis = [
      { type: "value", minInterval: 1, splitLine: { lineStyle: { color: "#eef1f6" } }, axisLabel: { color: "#8a94a6" } },
      { type: "value", min: 0, max: 100, splitLine: { show: false }, axisLabel: { color: "#8a94a6", formatter: "{value}%" } },
    ];
    base.series = data.series.map(function (series, index) {
      var percent = series.axis === 1;
      return {
        type: "line",
        name: series.name,
        data: series.data,
        yAxisIndex: percent ? 1 : 0,
        showSymbol: data.categories.length < 32,
        smooth: false,
        lineStyle: { width: 2, type: percent ? "dashed" : "solid" },
        itemStyle: { color: percent ? "#1d5fbf" : lightColour(series.key, index) },
      };
    });
    return base;
  }

  function sankeyOption(base, data, textStyle) {
    // Flows from the nodes of the first column to those of the second. A node's group picks its colour, so that one
    // province has the same colour as a sender (left) and as a receiver (right); the right column's labels face left.
    base.tooltip.trigger = "item";
    base.series = [{
      type: "sankey",
      left: 8,
      right: 8,
      top: 8,
      bottom: 8,
      nodeGap: 14,
      nodeWidth: 18,
      draggable: false,
      emphasis: { focus: "adjacency" },
      data: data.nodes.map(function (node) {
        return { name: node.name, itemStyle: { color: PALETTE[(node.group || 0) % PALETTE.length], borderWidth: 0 } };
      }),
      links: data.links,
      levels: [
        { depth: 0, label: { position: "right" } },
        { depth: 1, label: { position: "left" } },
      ],
      lineStyle: { color: "gradient", curveness: 0.5, opacity: 0.35 },
      label: { color: textStyle.color, fontFamily: textStyle.fontFamily },
    }];
    return base;
  }

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
    if (isEmpty(kind, data)) {
      base.title = {
        text: emptyLabel,
        left: "center",
        top: "middle",
        textStyle: { color: "#8a94a6", fontSize: 14, fontWeight: "normal", fontFamily: textStyle.fontFamily },
      };
      return base;
    }
    if (kind === "stacked") {
      return stackedOption(base, data, textStyle);
    }
    if (kind === "line") {
      return lineOption(base, data, textStyle);
    }
    if (kind === "sankey") {
      return sankeyOption(base, data, textStyle);
    }
    if (kind === "doughnut") {
      data = data.map(function (item, index) {
        var extra = item.value ? {} : { label: { show: false }, labelLine: { show: false } };  // no "0" labels
        if (item.light) {
          extra.itemStyle = { color: lightColour(item.light, index) };
        }
        return Object.assign(extra, item);
      });
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
    base.xAxis = {
      type: "value",
      minInterval: 1,
      splitLine: { lineStyle: { color: "#eef1f6" } },
      axisLabel: { color: "#8a94a6" },
    };
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
    // Charts whose element an htmx swap removed are let go.
    charts = charts.filter(function (chart) {
      if (document.body.contains(chart.getDom())) {
        return true;
      }
      chart.dispose();
      return false;
    });
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
    // An outerHTML swap settles on the element it replaced, which is no longer in the page.
    initCharts(event.target.isConnected ? event.target : document);
  });
})();
