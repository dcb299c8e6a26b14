// twinnet's results page: draws the page's data (the JSON block `#data`) with uPlot.
//
// data.kind "experiment": data.runs = [{name, group, color, dash, epoch[], step[], seconds[],
//   acc[], loss[]}]; data.groups (experiments over seeds) = [{name, color, dash, runs[]}].
// data.kind "drift": data.drift = [{setting, pairs: [{label, floor, color, dash, updates[],
//   distance[]}]}] drawn on log–log axes, the floor's pairs dashed.
//
// Every chart: a legend that toggles each series (click) and shows the value under the cursor
// for every visible one; the filter box shows only the runs whose name matches; the x-axis
// select switches between epochs, parameter updates (log) and seconds. The charts are kept in
// `window.twinnet.charts` (the browser tests read them).
(function () {
  "use strict";
  const D = JSON.parse(document.getElementById("data").textContent);
  const css = getComputedStyle(document.documentElement);
  const fg = css.getPropertyValue("--fg").trim() || "#1b1b1b";
  const line = css.getPropertyValue("--line").trim() || "#d0d4d9";
  const plots = document.getElementById("plots");
  const charts = [];
  window.twinnet = { data: D, charts: charts };

  const width = () => Math.max(420, Math.min(plots.clientWidth || 900, 1360) / (plots.clientWidth > 1100 ? 2 : 1) - 24);
  const fmt = (v, digits) => (v == null || !isFinite(v) ? "–" : v.toPrecision(digits));
  const axis = (label, log) => ({
    label: label, stroke: fg, grid: { stroke: line, width: 1 }, ticks: { stroke: line },
    values: log ? (u, vals) => vals.map((v) => (Math.log10(v) % 1 === 0 ? String(v) : "")) : undefined,
  });

  function chart(title, series, data, opts) {
    const box = document.createElement("div");
    box.className = "plot";
    const h = document.createElement("h3");
    h.textContent = title;
    box.appendChild(h);
    plots.appendChild(box);
    const u = new uPlot(Object.assign({
      width: width(), height: 340, series: series,
      legend: { live: true }, cursor: { drag: { x: true, y: false } },
    }, opts), data, box);
    u.title = title;
    charts.push(u);
    return u;
  }

  function clear() {
    while (charts.length) charts.pop().destroy();
    plots.innerHTML = "";
  }

  // uPlot wants one x array shared by every series: join each run's [x, y] on their x values.
  function aligned(runs, xkey, ykey) {
    return uPlot.join(runs.map((r) => [r[xkey], r[ykey]]));
  }

  const X_LABELS = { epoch: "epoch", step: "parameter updates (log scale)", seconds: "seconds of training" };

  function runCharts(xkey) {
    const runs = D.runs || [];
    if (!runs.length) return;
    const xlog = xkey === "step";
    for (const [key, label, digits] of [["acc", "train accuracy", 4], ["loss", "train loss", 4]]) {
      const series = [{ label: X_LABELS[xkey], value: (u, v) => (v == null ? "–" : xkey === "seconds" ? v.toFixed(2) + " s" : String(Math.round(v))) }].concat(runs.map((r) => ({
        label: r.name, stroke: r.color, dash: r.dash, width: 1.5, spanGaps: true,
        value: (u, v) => (key === "acc" && v != null ? (100 * v).toFixed(2) + "%" : fmt(v, digits)),
      })));
      chart(label + " against " + X_LABELS[xkey].replace(" (log scale)", ""), series, aligned(runs, xkey, key), {
        scales: { x: { time: false, distr: xlog ? 3 : 1 } },
        axes: [axis(X_LABELS[xkey], xlog), axis(label)],
      });
    }
  }

  // Per configuration over seeds: the mean train accuracy by epoch with its min–max band.
  function groupChart() {
    const groups = D.groups || [];
    if (!groups.length) return;
    const epochs = [...new Set(groups.flatMap((g) => g.runs.flatMap((i) => D.runs[i].epoch)))].sort((a, b) => a - b);
    const data = [epochs];
    const series = [{ label: "epoch" }];
    const bands = [];
    for (const g of groups) {
      const at = epochs.map((e) => g.runs.map((i) => {
        const r = D.runs[i];
        const k = r.epoch.indexOf(e);
        return k < 0 ? null : r.acc[k];
      }).filter((v) => v != null));
      const stat = (f) => at.map((vs) => (vs.length ? f(vs) : null));
      const lo = stat((vs) => Math.min(...vs)), hi = stat((vs) => Math.max(...vs));
      const mean = stat((vs) => vs.reduce((a, b) => a + b, 0) / vs.length);
      const base = data.length;
      data.push(hi, lo, mean);
      series.push({ label: g.name + " max", stroke: g.color, width: 0, show: true, legend: false, points: { show: false } });
      series.push({ label: g.name + " min", stroke: g.color, width: 0, legend: false, points: { show: false } });
      series.push({ label: g.name + " (mean of " + g.runs.length + " seeds)", stroke: g.color, dash: g.dash, width: 2,
        value: (u, v) => (v == null ? "–" : (100 * v).toFixed(2) + "%") });
      bands.push({ series: [base, base + 1], fill: g.color + "2e" });
    }
    chart("train accuracy by configuration: mean over seeds, band min–max", series, data, {
      scales: { x: { time: false } }, bands: bands,
      axes: [axis("epoch"), axis("train accuracy")],
    });
  }

  function driftCharts() {
    for (const s of D.drift || []) {
      const pairs = s.pairs.filter((p) => p.updates.length);
      if (!pairs.length) continue;
      const data = uPlot.join(pairs.map((p) => [p.updates, p.distance.map((d) => (d > 0 ? d : null))]));
      const series = [{ label: "updates" }].concat(pairs.map((p) => ({
        label: p.label + (p.floor ? " (floor)" : ""), stroke: p.color, dash: p.floor ? [6, 4] : p.dash,
        width: p.floor ? 1.5 : 2, spanGaps: true, value: (u, v) => fmt(v, 3),
      })));
      chart(s.setting + ": ‖θa − θb‖ / ‖θa‖ after each update", series, data, {
        scales: { x: { time: false, distr: 3 }, y: { distr: 3 } },
        axes: [axis("parameter updates (log scale)", true), axis("drift (log scale)", true)],
      });
    }
  }

  const filter = document.getElementById("filter");
  const select = document.getElementById("x-axis");
  const shown = document.getElementById("shown");

  function applyFilter() {
    const q = filter.value.trim().toLowerCase();
    let visible = 0, total = 0;
    for (const u of charts) {
      u.series.forEach((s, i) => {
        if (i === 0 || s.legend === false) return;
        const show = !q || String(s.label).toLowerCase().includes(q);
        if (s.show !== show) u.setSeries(i, { show: show });
        total += 1;
        visible += show ? 1 : 0;
      });
    }
    shown.textContent = q ? visible + " of " + total + " series shown" : "";
  }

  function draw() {
    clear();
    if (D.kind === "drift") {
      document.querySelector(".controls").style.display = "none";
      driftCharts();
    } else {
      runCharts(select.value);
      groupChart();
    }
    applyFilter();
  }

  filter.addEventListener("input", applyFilter);
  select.addEventListener("change", draw);
  document.getElementById("show-all").addEventListener("click", () => {
    filter.value = "";
    for (const u of charts) u.series.forEach((s, i) => { if (i > 0 && s.legend !== false) u.setSeries(i, { show: true }); });
    applyFilter();
  });
  window.addEventListener("resize", () => { for (const u of charts) u.setSize({ width: width(), height: 340 }); });
  draw();
})();
