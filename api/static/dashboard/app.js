/* voc dashboard: plain JS over the service's own /v1 endpoints; plotly.js is vendored.
 *
 * Customer text is only ever inserted as DOM text nodes, never parsed as markup; labels shown in
 * plotly (which renders a small HTML subset) are escaped first. */
"use strict";

(function () {
  const KEY_STORE = "voc.apiKey";
  const FONT = '-apple-system, BlinkMacSystemFont, "Segoe UI", "Helvetica Neue", Arial, "PingFang SC", ' +
    '"Hiragino Sans GB", "Microsoft YaHei", "Noto Sans CJK SC", "Source Han Sans SC", sans-serif';
  const INK = "#1f2933", MUTED = "#6b7785", GRID = "#e6e9ee";
  const RED = "#c8553d", AMBER = "#e9a03b", TEAL = "#2a9d8f", GREY = "#c9ced6";
  const SERIES = ["#3d5a80", "#c8553d", "#2a9d8f", "#e9a03b", "#8e6c8a", "#5c946e", "#b5838d", "#6d7f99"];
  const QUADRANTS = { "concentrate here": RED, "keep up the good work": TEAL, "low priority": "#8a94a6",
                      "possible overkill": AMBER };
  const PLOT_CONFIG = { displaylogo: false, responsive: true, displayModeBar: false };
  const TREND_SERIES = 6, MAX_SERIES = 8, TREND_MIN_N = 5, VERBATIMS = 6, EXCERPT = 420;
  const MINUS = "\u2212";

  const $ = (id) => document.getElementById(id);
  const state = { taxonomy: null, priorities: null, weeks: null, alerts: null, drill: null, seq: 0 };

  // ------------------------------------------------------------------------------------------
  // small helpers

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === "class") node.className = v;
      else if (k === "text") node.textContent = v;
      else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
      else node.setAttribute(k, v === true ? "" : v);
    }
    for (const c of children.flat()) {
      if (c === null || c === undefined || c === false) continue;
      node.appendChild(typeof c === "string" || typeof c === "number" ? document.createTextNode(String(c)) : c);
    }
    return node;
  }

  function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); return node; }

  function escPlot(s) {  // for text plotly renders (labels only; customer text never goes to plotly)
    return String(s).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
  }

  function num(x, d = 1) {
    if (x === null || x === undefined || Number.isNaN(x)) return "–";
    return Number(x).toLocaleString("en-US", { minimumFractionDigits: d, maximumFractionDigits: d }).replace("-", MINUS);
  }
  function signed(x, d = 1) {
    if (x === null || x === undefined) return "–";
    return (x > 0 ? "+" : "") + num(x, d);
  }
  function pct(x, d = 0) { return x === null || x === undefined ? "–" : (100 * x).toFixed(d) + "%"; }
  function count(n) { return n === null || n === undefined ? "–" : Number(n).toLocaleString("en-US"); }
  function signClass(x) { return x === null || x === undefined ? "" : x < 0 ? "neg" : "pos"; }

  function addDays(iso, days) {
    const d = new Date(iso + "T00:00:00Z");
    d.setUTCDate(d.getUTCDate() + days);
    return d.toISOString().slice(0, 10);
  }
  const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
  function fmtDay(iso, year = true) {
    if (!iso) return "";
    const [y, m, d] = String(iso).slice(0, 10).split("-").map(Number);
    if (!y || !m || !d) return String(iso);
    return `${d} ${MONTHS[m - 1]}` + (year ? ` ${y}` : "");
  }

  function kind() { return $("f-kind").value || "touchpoint"; }
  function noun() { return kind(); }

  function names(label) {  // [English or id, Chinese or ""] from the model's taxonomy
    const tx = state.taxonomy || {};
    const list = tx[kind() === "theme" ? "themes" : "touchpoints"] || [];
    const hit = list.find((t) => t.id === label);
    const en = hit && hit.en ? hit.en : label === null || label === undefined ? "(none)" : String(label).replace(/_/g, " ");
    return [en, hit && hit.zh ? hit.zh : ""];
  }
  function name(label) { const [en, zh] = names(label); return zh ? `${en} ${zh}` : en; }

  // ------------------------------------------------------------------------------------------
  // the API

  class ApiError extends Error {
    constructor(status, code, message) { super(message); this.status = status; this.code = code; }
  }

  function apiKey() { return sessionStorage.getItem(KEY_STORE) || ""; }

  async function api(path, params) {
    const url = new URL("v1/" + path, document.baseURI);
    for (const [k, v] of Object.entries(params || {})) {
      if (v === null || v === undefined || v === "") continue;
      for (const item of Array.isArray(v) ? v : [v]) url.searchParams.append(k, item);
    }
    const headers = { Accept: "application/json" };
    const key = apiKey();
    if (key) headers["X-API-Key"] = key;
    let res;
    try {
      res = await fetch(url, { headers, cache: "no-store" });
    } catch (e) {
      throw new ApiError(0, "offline", "Cannot reach the service (" + e.message + "). Is it running?");
    }
    let body = null;
    try { body = await res.json(); } catch (e) { body = null; }  // a proxy's HTML error page, say
    if (res.ok && body === null) throw new ApiError(res.status, "HTTP " + res.status, `${url.pathname} did not answer JSON.`);
    if (!res.ok) {
      const err = body && body.error;
      throw new ApiError(res.status, err && err.code ? err.code : "HTTP " + res.status,
        err && err.message ? err.message : `${res.status} ${res.statusText} from ${url.pathname}`);
    }
    return body;
  }

  function filterParams(withKind = true) {
    const p = {};
    const from = $("f-from").value, to = $("f-to").value;
    if (from) p.from = from;
    if (to) p.to = addDays(to, 1);  // the API's "to" is the first day excluded; the field is inclusive
    if ($("f-channel").value) p.channel = $("f-channel").value;
    if ($("f-language").value) p.language = $("f-language").value;
    const seg = $("f-segment").value.trim();
    if (seg) p.segment = seg;
    if (withKind) p.kind = kind();
    return p;
  }

  function minVolume() { const v = parseInt($("f-min").value, 10); return v > 0 ? v : null; }

  // ------------------------------------------------------------------------------------------
  // banner, empty state, busy

  function showError(err) {
    $("banner").hidden = false;
    $("banner-code").textContent = err.code ? String(err.code) : "Error";
    let msg = err.message || String(err);
    if (err.status === 401) msg += " Type the key in the API key field at the top right and press Use key.";
    if (err.status === 403) msg += " This key may not read this service.";
    $("banner-text").textContent = msg;
    if (err.status === 401) $("api-key").focus();
  }
  function hideError() { $("banner").hidden = true; }

  function showEmpty(title, text) {
    const box = clear($("empty"));
    box.appendChild(el("h3", { text: title }));
    box.appendChild(el("p", { text }));
    box.hidden = false;
    $("dash").hidden = true;
  }
  function hideEmpty() { $("empty").hidden = true; $("dash").hidden = false; }

  function busy(on) {
    $("content").setAttribute("aria-busy", on ? "true" : "false");
    document.body.classList.toggle("loading", on);
  }

  // ------------------------------------------------------------------------------------------
  // loading

  async function loadMeta() {
    // The taxonomy only adds display names (English and Chinese); a model without one shows its ids.
    const [model, taxonomy] = await Promise.all([api("model"), api("taxonomy").catch(() => ({}))]);
    state.taxonomy = taxonomy || {};
    const gold = model.gold && model.gold.sentiment_macro_f1 != null
      ? ` · held-out sentiment macro-F1 ${num(model.gold.sentiment_macro_f1, 2)} (n = ${count(model.gold.n)})` : "";
    $("meta").textContent = `model ${model.name || "?"} ${model.version || ""} · voc ${model.voc_version || ""}${gold}`;
    const [channels, languages] = await Promise.all([
      api("rollups", { by: "channel", kind: "touchpoint" }), api("rollups", { by: "language", kind: "touchpoint" })]);
    fillSelect($("f-channel"), channels.rows.map((r) => r.channel));
    fillSelect($("f-language"), languages.rows.map((r) => r.language));
  }

  function fillSelect(select, values) {
    const keep = select.value || select.dataset.want || "";
    clear(select).appendChild(el("option", { value: "", text: "all" }));
    for (const v of values.filter((x) => x !== null && x !== undefined).map(String).sort()) {
      select.appendChild(el("option", { value: v, text: v }));
    }
    if (keep && !values.map(String).includes(keep)) select.appendChild(el("option", { value: keep, text: keep }));
    select.value = keep;
  }

  async function refresh() {
    const seq = ++state.seq;
    busy(true);
    try {
      hideError();
      if (!state.taxonomy) await loadMeta();
      const f = filterParams();
      const mv = minVolume();
      const [pr, weeks, alerts] = await Promise.all([
        api("priorities", { ...f, min_volume: mv }),
        api("rollups", { ...f, bucket: "week", min_volume: mv }),
        api("alerts", { ...f, bucket: "week" })]);
      if (seq !== state.seq) return;  // a newer refresh started meanwhile
      state.priorities = pr;
      state.weeks = weeks.rows || [];
      state.alerts = alerts.alerts || [];
      render();
      if (state.drill) drill(state.drill.label, state.drill.window);
    } catch (err) {
      if (seq !== state.seq) return;
      showError(err);
      if (!state.taxonomy) $("meta").textContent = "not connected (" + err.code + ")";
      $("dash").classList.add("stale");  // what is still shown is not this selection's
      if (!state.priorities) {
        showEmpty(err.status === 401 ? "An API key is needed" : "No numbers to show",
          err.status === 401 ? "This service requires an API key for its /v1 endpoints. Enter it above; it is kept " +
            "in this browser tab only (sessionStorage)." : "The request failed; see the message above.");
      }
    } finally {
      if (seq === state.seq) busy(false);
    }
  }

  // ------------------------------------------------------------------------------------------
  // rendering

  function render() {
    const pr = state.priorities;
    const ranking = pr.ranking || [];
    const selection = Object.keys(filterParams(false)).length > 0;
    if (!ranking.length) {
      showEmpty(selection ? "No mentions match this selection" : "The store has no data yet",
        selection ? `No ${noun()} mentions for these filters. Widen the dates, or reset the filters.`
          : "Ingest documents with POST /v1/documents (or run a job with POST /v1/jobs), then reload this page.");
      return;
    }
    hideEmpty();
    $("dash").classList.remove("stale");
    const nounCap = noun()[0].toUpperCase() + noun().slice(1);
    $("h-scores").textContent = `Experience score per ${noun()}`;
    renderKey(pr);
    renderCoverage(pr);
    renderGlance(pr);
    drawScores(ranking);
    renderTable(ranking, nounCap);
    drawMatrix(ranking.filter((r) => r.rank), pr.quadrant_split);
    drawTrends(state.weeks, state.alerts);
    renderAlerts(state.alerts, nounCap);
  }

  function tile(k, v, s, cls) {
    return el("div", { class: "tile" }, el("div", { class: "k", text: k }), el("div", { class: "v " + (cls || ""), text: v }),
      s ? el("div", { class: "s", text: s }) : null);
  }

  const SOURCES = { config: "stated in config", data: "from key-driver fit", default: "default (not derived)" };

  function renderKey(pr) {
    const k = pr.key_experience;
    const card = $("key-card");
    const tiles = clear($("key-tiles"));
    const old = card.querySelector("blockquote");
    if (old) old.remove();
    if (!k) {
      card.classList.add("undetermined");
      $("key-label").textContent = "Not determined";
      $("key-score").textContent = "–";
      $("key-ci").textContent = `No ${noun()} reaches the minimum volume to be scored; lower "Min. n" or widen the selection.`;
      card.dataset.label = "";
      return;
    }
    card.classList.remove("undetermined");
    card.dataset.label = k.label;
    const [en, zh] = names(k.label);
    clear($("key-label")).append(en, zh ? el("span", { class: "zh", text: " " + zh }) : "");
    clear($("key-score")).append(num(k.score), el("small", { text: " / 10" }));
    $("key-ci").textContent = `95% CI ${num(k.ci_low)}–${num(k.ci_high)} · ${count(k.volume)} mentions · ` +
      `net sentiment ${signed(k.net_sentiment, 0)}`;
    tiles.append(
      tile("Expectation", num(k.expectation), "the business's target"),
      tile("Satisfaction", signed(k.satisfaction, 2), "score − expectation", signClass(k.satisfaction)),
      tile("Importance", num(k.importance), SOURCES[k.importance_source] || k.importance_source),
      tile("Weighted satisfaction", signed(k.weighted_satisfaction), "importance × satisfaction",
        signClass(k.weighted_satisfaction)),
      tile("Gap to ideal", signed(k.gap), `ideal ${num(k.ideal)}`, signClass(k.gap)),
      tile("Quadrant", k.quadrant || "–"));
    const label = k.label, seq = state.seq;
    api("verbatims", { ...filterParams(), touchpoint: label, polarity: "negative", limit: 1 }).then((res) => {
      if (seq !== state.seq || card.dataset.label !== label || card.querySelector("blockquote")) return;
      const v = (res.verbatims || [])[0];
      if (v && v.text) card.appendChild(quote(v, 220, "the most negative mention"));
    }).catch((err) => showError(err));
  }

  function renderCoverage(pr) {
    const ranking = pr.ranking || [];
    const mentions = ranking.reduce((a, r) => a + r.volume, 0);
    const scored = ranking.filter((r) => r.score !== null).length;
    const periods = [...new Set(state.weeks.map((r) => r.period))].sort();
    const channels = $("f-channel").value ? 1 : $("f-channel").options.length - 1;
    const box = clear($("coverage"));
    const period = periods.length ? `${fmtDay(periods[0])} – ${fmtDay(addDays(periods[periods.length - 1], 6))}` : "–";
    box.append(
      el("div", { class: "tile period" }, el("div", { class: "k", text: "Period covered" }),
        el("div", { class: "v", text: period }),
        el("div", { class: "s", text: periods.length ? `${periods.length} week${periods.length > 1 ? "s" : ""} with data` : "no times in the data" })),
      el("div", { class: "tiles" },
        tile(`${noun()} mentions`, count(mentions)),
        tile(`${noun()}s scored`, `${scored} of ${ranking.length}`, "enough mentions"),
        tile("Documents", pr.drivers && pr.drivers.n_documents ? count(pr.drivers.n_documents) : "–", `with a ${noun()}`),
        tile("Channels", channels > 0 ? String(channels) : "–"),
        tile("Alerts", String(state.alerts.length), "negative-share jumps", state.alerts.length ? "neg" : ""),
        tile("Key-driver R²", pr.drivers && pr.drivers.r2 !== null && pr.drivers.r2 !== undefined ? num(pr.drivers.r2, 2) : "–",
          pr.drivers && pr.drivers.r2 !== null && pr.drivers.r2 !== undefined ? "importance from data" : "too few documents")));
  }

  function renderGlance(pr) {
    const ranked = (pr.ranking || []).filter((r) => r.rank);
    const ul = clear($("glance"));
    if (ranked.length) {
      const k = ranked[0];
      ul.appendChild(el("li", {}, el("b", { text: name(k.label) }),
        ` is the key experience: score ${num(k.score)} against an expectation of ${num(k.expectation)} ` +
        `(satisfaction ${signed(k.satisfaction)}), weighted by importance ${num(k.importance)} to ` +
        `${signed(k.weighted_satisfaction)}, the lowest of ${ranked.length} ${noun()}s.`));
      const next = ranked.slice(1, 3).filter((r) => r.weighted_satisfaction < 0);
      if (next.length) {
        ul.appendChild(el("li", { text: "Next in line: " +
          next.map((r) => `${name(r.label)} (${signed(r.weighted_satisfaction)})`).join("; ") + "." }));
      }
      const best = ranked.reduce((a, r) => (r.score > a.score ? r : a), ranked[0]);
      if (best.satisfaction !== null && best.satisfaction >= 0) {
        ul.appendChild(el("li", {}, "Strongest: ", el("b", { text: name(best.label) }),
          ` at ${num(best.score)}, ${signed(best.satisfaction)} above expectation.`));
      }
    }
    for (const a of state.alerts.slice(0, 2)) {
      ul.appendChild(el("li", {}, el("span", { class: "neg", text: "Alert" }),
        `: ${name(a.label)} negative share ${pct(a.negative_share)} in the week of ${fmtDay(a.period)} against a ` +
        `baseline of ${pct(a.baseline_negative_share)} (z = ${num(a.z)}, ${count(a.volume)} mentions).`));
    }
    ul.hidden = !ul.firstChild;
  }

  function renderTable(ranking, nounCap) {
    const table = clear($("priority-table"));
    const head = el("tr", {},
      el("th", { class: "n", text: "#" }), el("th", { text: nounCap }), el("th", { class: "n", text: "n" }),
      el("th", { class: "n" }, "Score ", el("span", { class: "ci-cell", text: "[95% CI]" })),
      el("th", { class: "n", text: "Exp." }), el("th", { class: "n", text: "Sat." }),
      el("th", { class: "n", text: "Imp." }), el("th", { class: "n", text: "Weighted" }), el("th", { text: "Quadrant" }));
    table.appendChild(el("thead", {}, head));
    const body = el("tbody");
    for (const r of ranking) {
      const cls = ["clickable", r.key_experience ? "key-row" : "", r.score === null ? "quiet" : "",
        state.drill && state.drill.label === r.label ? "selected" : ""].join(" ");
      const [en, zh] = names(r.label);
      const score = r.score === null ? el("span", { class: "note", text: "too few" })
        : el("span", {}, num(r.score, 2) + " ", el("span", { class: "ci-cell", text: `[${num(r.ci_low)}–${num(r.ci_high)}]` }));
      const q = r.quadrant ? el("span", { class: "pill q-" + r.quadrant.replace(/ /g, "-"), text: r.quadrant }) : "";
      const tr = el("tr", { class: cls, tabindex: "0", "data-label": r.label, title: "Show the verbatims",
        onclick: () => drill(r.label), onkeydown: (e) => { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); drill(r.label); } } },
        el("td", { class: "n", text: r.rank ? String(r.rank) : "–" }),
        el("td", { class: "name" }, el("span", { class: "en", text: en }), zh ? el("span", { class: "zh", text: zh }) : ""),
        el("td", { class: "n", text: count(r.volume) }),
        el("td", { class: "n" }, score),
        el("td", { class: "n", text: num(r.expectation) }),
        el("td", { class: "n " + signClass(r.satisfaction), text: signed(r.satisfaction, 2) }),
        el("td", { class: "n" }, num(r.importance) + " ", el("span", { class: "src", text: r.importance_source })),
        el("td", { class: "n " + signClass(r.weighted_satisfaction), text: signed(r.weighted_satisfaction) }),
        el("td", {}, q));
      body.appendChild(tr);
    }
    table.appendChild(body);
  }

  function layout(height, extra) {
    return Object.assign({
      height, font: { family: FONT, size: 13, color: INK },
      paper_bgcolor: "white", plot_bgcolor: "white", hoverlabel: { font: { family: FONT } },
    }, extra);
  }

  function plot(id, traces, lay) {
    const node = $(id);
    if (typeof Plotly === "undefined") {
      clear(node).appendChild(el("p", { class: "note", text: "The charting library did not load." }));
      return null;
    }
    Plotly.react(node, traces, lay, PLOT_CONFIG);
    if (!node.dataset.clicks) {  // one listener per chart, whatever react() redraws
      node.dataset.clicks = "1";
      node.on("plotly_click", (ev) => {
        const p = ev && ev.points && ev.points[0];
        const label = p && p.customdata && p.customdata[0];
        if (label) drill(label, p.customdata[1] || null);
      });
    }
    return node;
  }

  function drawScores(ranking) {
    const scored = ranking.filter((r) => r.score !== null).sort((a, b) => a.score - b.score || String(a.label).localeCompare(String(b.label)));
    const quiet = ranking.filter((r) => r.score === null).sort((a, b) => b.volume - a.volume);
    const rows = scored.concat(quiet);               // top to bottom
    const cat = (r) => `${escPlot(name(r.label))}  <span style="color:${MUTED}">n=${count(r.volume)}</span>`;
    const colour = (r) => (r.satisfaction <= -1.5 ? RED : r.satisfaction < 0 ? AMBER : TEAL);
    const traces = [];
    if (scored.length) {
      traces.push({
        type: "bar", orientation: "h", name: "score ± 95% CI", y: scored.map(cat), x: scored.map((r) => r.score),
        marker: { color: scored.map(colour), line: { color: scored.map((r) => (r.key_experience ? INK : "rgba(0,0,0,0)")), width: 2 } },
        error_x: { type: "data", symmetric: false, color: "#46505c", thickness: 1.4, width: 4,
          array: scored.map((r) => Math.max(0, (r.ci_high ?? r.score) - r.score)),
          arrayminus: scored.map((r) => Math.max(0, r.score - (r.ci_low ?? r.score))) },
        text: scored.map((r) => num(r.score)), textposition: "inside", insidetextanchor: "start",
        textfont: { color: "white", size: 12 },
        customdata: scored.map((r) => [r.label, null, r.ci_low, r.ci_high, r.expectation, r.satisfaction, r.volume]),
        hovertemplate: "<b>%{customdata[6]:,} mentions</b><br>score %{x:.2f} (95% CI %{customdata[2]:.2f}–%{customdata[3]:.2f})" +
          "<br>expectation %{customdata[4]:.1f}, satisfaction %{customdata[5]:+.2f}<br><i>click for verbatims</i><extra></extra>",
      });
      traces.push({
        type: "scatter", mode: "markers", name: "expectation", y: scored.map(cat), x: scored.map((r) => r.expectation),
        marker: { symbol: "line-ns", size: 22, line: { width: 3, color: INK } },
        customdata: scored.map((r) => [r.label]), hovertemplate: "expectation %{x:.1f}<extra></extra>",
      });
    }
    if (quiet.length) {
      traces.push({
        type: "bar", orientation: "h", name: "not scored", y: quiet.map(cat), x: quiet.map(() => 10),
        marker: { color: "rgba(201,206,214,0.35)", line: { color: GREY, width: 1 }, pattern: { shape: "/", fgcolor: GREY, size: 6 } },
        text: quiet.map((r) => `n = ${r.volume}: too few mentions to score`), textposition: "inside", insidetextanchor: "middle",
        textfont: { color: MUTED, size: 12 }, customdata: quiet.map((r) => [r.label]),
        hovertemplate: "%{customdata[0]}: not scored<extra></extra>",
      });
    }
    plot("chart-scores", traces, layout(Math.max(230, 76 + 36 * rows.length), {
      margin: { l: 10, r: 20, t: 10, b: 10 }, barmode: "overlay", bargap: 0.35, showlegend: false,
      xaxis: { range: [0, 10], dtick: 1, gridcolor: GRID, zeroline: false, automargin: true,
        title: { text: "experience score (0–10, 5 = neutral) with 95% interval", font: { size: 12, color: MUTED }, standoff: 8 } },
      yaxis: { type: "category", categoryorder: "array", categoryarray: rows.map(cat), autorange: "reversed",
        automargin: true, showgrid: false, ticklabelstandoff: 6 },
      shapes: [{ type: "line", x0: 5, x1: 5, yref: "paper", y0: 0, y1: 1, line: { color: "#9aa5b1", width: 1, dash: "dot" } }],
    }));
  }

  function overlap(a, b) { return a[0] < b[2] && b[0] < a[2] && a[1] < b[3] && b[1] < a[3]; }

  function placeLabels(points, xr, yr, obstacles, widthPx, heightPx) {
    // Greedy: the first of eight positions whose estimated box stays inside and hits nothing placed.
    const sx = (xr[1] - xr[0]) / widthPx, sy = (yr[1] - yr[0]) / heightPx;
    const opts = [["top center", 0, 1], ["bottom center", 0, -1], ["middle right", 1, 0], ["middle left", -1, 0],
      ["top right", 1, 1], ["top left", -1, 1], ["bottom right", 1, -1], ["bottom left", -1, -1]];
    const marks = points.map(([x, y, , r]) => [x - r * sx, y - r * sy, x + r * sx, y + r * sy]);
    const placed = obstacles.slice(), chosen = {};
    const order = points.map((_, i) => i).sort((i, j) => points[j][1] - points[i][1] || points[i][0] - points[j][0]);
    for (const i of order) {
      const [x, y, text, r] = points[i];
      const units = [...text].reduce((a, c) => a + (c.codePointAt(0) > 0x2e80 ? 2 : 1), 0);
      const w = (7.2 * units + 4) * sx, h = 17 * sy;
      let best = null;
      for (const [nm, dx, dy] of opts) {
        const cx = x + dx * (w / 2 + (r + 3) * sx), cy = y + dy * (h / 2 + (r + 1) * sy);
        const box = [cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2];
        const inside = xr[0] <= box[0] && box[2] <= xr[1] && yr[0] <= box[1] && box[3] <= yr[1];
        const hits = placed.filter((b) => overlap(box, b)).length + marks.filter((m, j) => j !== i && overlap(box, m)).length;
        const cost = hits * 10 + (inside ? 0 : 5);
        if (!best || cost < best[0]) best = [cost, nm, box];
        if (cost === 0) break;
      }
      chosen[i] = best[1];
      placed.push(best[2]);
    }
    return points.map((_, i) => chosen[i]);
  }

  function drawMatrix(ranked, split) {
    const node = $("chart-matrix");
    if (!ranked.length || !split) {
      if (typeof Plotly !== "undefined") Plotly.purge(node);
      clear(node).appendChild(el("p", { class: "note pad", text: `No ${noun()} has enough mentions to be placed.` }));
      delete node.dataset.clicks;
      return;
    }
    if (node.firstChild && node.firstChild.tagName === "P") clear(node);
    const xs = ranked.map((r) => r.score), ys = ranked.map((r) => r.importance);
    const sx = split.score, sy = split.importance;
    const allX = xs.concat([sx]), allY = ys.concat([sy]);
    const padX = Math.max(0.6, 0.12 * (Math.max(...allX) - Math.min(...allX)));
    const padY = Math.max(0.6, 0.12 * (Math.max(...allY) - Math.min(...allY)));
    const xr = [Math.max(0, Math.min(...allX) - padX), Math.min(10, Math.max(...allX) + padX)];
    const yr = [Math.max(0, Math.min(...allY) - padY), Math.min(10.5, Math.max(...allY) + padY)];
    const labels = ranked.map((r) => name(r.label));
    const vmax = Math.max(...ranked.map((r) => r.volume)) || 1;
    const sizes = ranked.map((r) => 12 + 26 * Math.sqrt(r.volume / vmax));
    const widthPx = Math.max(400, node.clientWidth - 80), heightPx = 420;
    const corners = [["Concentrate here", xr[0], yr[1], "left", "top", RED], ["Keep up the good work", xr[1], yr[1], "right", "top", TEAL],
      ["Low priority", xr[0], yr[0], "left", "bottom", "#8a94a6"], ["Possible overkill", xr[1], yr[0], "right", "bottom", AMBER]];
    const px = (xr[1] - xr[0]) / widthPx, py = (yr[1] - yr[0]) / heightPx;
    const blocked = corners.map(([t, x, y, xa, ya]) => {
      const w = (7.5 * t.length + 8) * px, h = 20 * py;
      const x0 = xa === "left" ? x : x - w, y0 = ya === "top" ? y - h : y;
      return [x0, y0, x0 + w, y0 + h];
    });
    const pos = placeLabels(ranked.map((r, i) => [xs[i], ys[i], labels[i], sizes[i] / 2]), xr, yr, blocked, widthPx, heightPx);
    const traces = [];
    for (const [q, colour] of Object.entries(QUADRANTS)) {
      const sel = ranked.map((r, i) => i).filter((i) => ranked[i].quadrant === q);
      if (!sel.length) continue;
      traces.push({
        type: "scatter", mode: "markers+text", name: q, x: sel.map((i) => xs[i]), y: sel.map((i) => ys[i]),
        text: sel.map((i) => (ranked[i].key_experience ? `<b>${escPlot(labels[i])}</b>` : escPlot(labels[i]))),
        textposition: sel.map((i) => pos[i]), textfont: { size: 12, color: INK },
        marker: { color: colour, opacity: 0.85, sizemode: "diameter", size: sel.map((i) => sizes[i]),
          line: { color: sel.map((i) => (ranked[i].key_experience ? INK : "white")), width: sel.map((i) => (ranked[i].key_experience ? 2.5 : 1)) } },
        customdata: sel.map((i) => [ranked[i].label, null, ranked[i].volume, ranked[i].importance_source, ranked[i].weighted_satisfaction]),
        hovertemplate: "<b>%{text}</b><br>score %{x:.2f}, importance %{y:.1f} (%{customdata[3]})<br>" +
          "%{customdata[2]:,} mentions, weighted satisfaction %{customdata[4]:+.1f}<extra></extra>",
      });
    }
    const line = { color: "#9aa5b1", width: 1.2, dash: "dash" };
    plot("chart-matrix", traces, layout(480, {
      margin: { l: 10, r: 20, t: 10, b: 10 }, showlegend: false,
      xaxis: { range: xr, gridcolor: GRID, zeroline: false, automargin: true,
        title: { text: "experience score (performance, 0–10)", font: { size: 12, color: MUTED } } },
      yaxis: { range: yr, gridcolor: GRID, zeroline: false, automargin: true,
        title: { text: "importance (1–10)", font: { size: 12, color: MUTED } } },
      shapes: [{ type: "line", x0: sx, x1: sx, yref: "paper", y0: 0, y1: 1, line },
        { type: "line", y0: sy, y1: sy, xref: "paper", x0: 0, x1: 1, line }],
      annotations: corners.map(([t, x, y, xa, ya, c]) => ({ x, y, text: `<b>${t}</b>`, showarrow: false, xanchor: xa, yanchor: ya,
        font: { size: 12, color: c }, bgcolor: "rgba(255,255,255,0.8)" })),
    }));
  }

  function drawTrends(rows, alerts) {
    const node = $("chart-trends");
    if (!rows.length) {
      if (typeof Plotly !== "undefined") Plotly.purge(node);
      delete node.dataset.clicks;
      clear(node).appendChild(el("p", { class: "note pad", text: "No trend: the documents carry no time." }));
      return;
    }
    if (node.firstChild && node.firstChild.tagName === "P") clear(node);
    const vol = {};
    for (const r of rows) vol[r.label] = (vol[r.label] || 0) + r.volume;
    const top = Object.keys(vol).sort((a, b) => vol[b] - vol[a] || a.localeCompare(b)).slice(0, TREND_SERIES);
    for (const a of alerts) if (top.length < MAX_SERIES && vol[a.label] && !top.includes(a.label)) top.push(a.label);
    const periods = [...new Set(rows.map((r) => r.period))].sort();
    const ticks = periods.map((p) => fmtDay(p, false));
    const traces = [];
    top.forEach((lab, k) => {
      const pts = rows.filter((r) => r.label === lab).sort((a, b) => a.period.localeCompare(b.period));
      const c = SERIES[k % SERIES.length], nm = escPlot(name(lab));
      traces.push({
        type: "scatter", mode: "lines+markers", name: nm, legendgroup: lab, x: pts.map((r) => r.period),
        y: pts.map((r) => (r.volume >= TREND_MIN_N ? r.negative_share : null)), connectgaps: false,
        line: { color: c, width: 2 }, marker: { size: 6, color: c },
        customdata: pts.map((r) => [lab, r.period, r.volume, r.score]),
        hovertemplate: nm + "<br>week of %{x}: %{y:.0%} negative of %{customdata[2]:,} mentions<extra></extra>",
      });
      traces.push({
        type: "bar", name: nm, legendgroup: lab, showlegend: false, x: pts.map((r) => r.period), y: pts.map((r) => r.volume),
        yaxis: "y2", marker: { color: c, opacity: 0.75 }, customdata: pts.map((r) => [lab, r.period]),
        hovertemplate: nm + "<br>week of %{x}: %{y:,} mentions<extra></extra>",
      });
    });
    const hot = alerts.filter((a) => top.includes(a.label));
    if (hot.length) {
      traces.push({
        type: "scatter", mode: "markers", name: "alert", x: hot.map((a) => a.period), y: hot.map((a) => a.negative_share),
        marker: { symbol: "circle-open", size: 20, color: RED, line: { width: 3 } },
        customdata: hot.map((a) => [a.label, a.period, escPlot(name(a.label)), a.baseline_negative_share || 0, a.z || 0]),
        hovertemplate: "<b>alert: %{customdata[2]}</b><br>week of %{x}: %{y:.0%} negative vs baseline " +
          "%{customdata[3]:.0%} (z = %{customdata[4]:.1f})<br><i>click for that week's verbatims</i><extra></extra>",
      });
    }
    plot("chart-trends", traces, layout(480, {
      margin: { l: 10, r: 20, t: 10, b: 10 }, barmode: "stack", bargap: 0.25, hovermode: "closest",
      legend: { orientation: "h", y: 1.02, yanchor: "bottom", x: 0, font: { size: 12 } },
      xaxis: { type: "category", categoryorder: "array", categoryarray: periods, tickvals: periods, ticktext: ticks,
        showgrid: false, anchor: "y2", automargin: true, tickangle: periods.length > 16 ? -45 : 0,
        title: { text: "week starting", font: { size: 12, color: MUTED } } },
      yaxis: { domain: [0.36, 1], tickformat: ".0%", rangemode: "tozero", gridcolor: GRID, zeroline: false, automargin: true,
        title: { text: "negative share", font: { size: 12, color: MUTED } } },
      yaxis2: { domain: [0, 0.28], gridcolor: GRID, zeroline: false, rangemode: "tozero", automargin: true,
        title: { text: "mentions", font: { size: 12, color: MUTED } } },
    }));
  }

  function renderAlerts(alerts, nounCap) {
    const box = clear($("alerts"));
    if (!alerts.length) {
      box.appendChild(el("p", { class: "note", text: "No alerts: no week's negative share rose significantly above its baseline." }));
      return;
    }
    box.appendChild(el("h3", { text: `Alerts (${alerts.length})` }));
    const table = el("table", { class: "alerts" });
    table.appendChild(el("thead", {}, el("tr", {}, el("th", { text: nounCap }), el("th", { text: "Week of" }),
      el("th", { class: "n", text: "Mentions" }), el("th", { class: "n", text: "Negative share" }),
      el("th", { class: "n", text: "Baseline" }), el("th", { class: "n", text: "z" }))));
    const body = el("tbody");
    for (const a of alerts.slice(0, 20)) {
      body.appendChild(el("tr", { class: "clickable", tabindex: "0", title: "Show that week's verbatims",
        onclick: () => drill(a.label, a.period), onkeydown: (e) => { if (e.key === "Enter") drill(a.label, a.period); } },
        el("td", { text: name(a.label) }), el("td", { text: fmtDay(a.period) }), el("td", { class: "n", text: count(a.volume) }),
        el("td", { class: "n neg", text: pct(a.negative_share, 1) }), el("td", { class: "n", text: pct(a.baseline_negative_share, 1) }),
        el("td", { class: "n", text: num(a.z) })));
    }
    table.appendChild(body);
    box.appendChild(table);
  }

  // ------------------------------------------------------------------------------------------
  // verbatims

  function mergeSpans(spans, length) {
    const clean = [];
    for (const s of spans || []) {
      const a = Math.max(0, Math.min(Number(s[0]), length)), b = Math.max(0, Math.min(Number(s[1]), length));
      if (Number.isFinite(a) && Number.isFinite(b) && a < b) clean.push([a, b]);
    }
    clean.sort((p, q) => p[0] - q[0] || p[1] - q[1]);
    const out = [];
    for (const [a, b] of clean) {
      if (out.length && a <= out[out.length - 1][1]) out[out.length - 1][1] = Math.max(out[out.length - 1][1], b);
      else out.push([a, b]);
    }
    return out;
  }

  function highlight(text, spans, limit) {
    // Offsets are code points (Python str indices): index an array of code points, not UTF-16 units.
    const cps = Array.from(text);
    const merged = mergeSpans(spans, cps.length);
    let lo = 0, hi = cps.length;
    if (limit && cps.length > limit) {
      const first = merged.length ? merged[0] : [0, 0];
      lo = Math.max(0, Math.min(first[0] - Math.floor(limit / 3), cps.length - limit));
      hi = lo + limit;
    }
    const frag = document.createDocumentFragment();
    if (lo > 0) frag.append("…");
    let at = lo;
    for (let [a, b] of merged) {
      a = Math.max(a, lo); b = Math.min(b, hi);
      if (a >= b) continue;
      frag.append(cps.slice(at, a).join(""), el("mark", { text: cps.slice(a, b).join("") }));
      at = b;
    }
    frag.append(cps.slice(at, hi).join(""));
    if (hi < cps.length) frag.append("…");
    return frag;
  }

  function quote(v, limit, lead) {
    const meta = [];
    if (lead) meta.push(lead);
    if (v.time) meta.push(fmtDay(v.time));
    if (v.channel) meta.push(String(v.channel));
    if (v.reach !== null && v.reach !== undefined) meta.push("reach " + count(Math.round(v.reach)));
    if (v.sentiment_score !== null && v.sentiment_score !== undefined) meta.push("sentiment " + signed(v.sentiment_score, 2));
    if (v.id !== null && v.id !== undefined) meta.push("id " + v.id);
    const body = v.text === null || v.text === undefined
      ? el("span", { class: "none", text: "(text not kept)" }) : highlight(String(v.text), v.evidence || [], limit);
    return el("blockquote", { class: lead ? "quote" : "" }, body, el("span", { class: "m", text: meta.join(" · ") }));
  }

  function distinct(items, n) {  // reposts and templates repeat: show different texts (as the report does)
    const seen = new Set(), out = [];
    for (const v of items) {
      const key = String(v.text || "").trim().toLowerCase();
      if (seen.has(key)) continue;
      seen.add(key);
      out.push(v);
    }
    return out.slice(0, n);
  }

  async function drill(label, week) {
    state.drill = { label, window: week || null };
    const box = $("drill");
    box.hidden = false;
    for (const tr of document.querySelectorAll("#priority-table tbody tr")) {
      tr.classList.toggle("selected", tr.dataset.label === label);
    }
    const row = ((state.priorities && state.priorities.ranking) || []).find((r) => r.label === label);
    $("drill-title").textContent = name(label);
    const sub = [];
    if (row) sub.push(row.score !== null ? `score ${num(row.score)} · ${count(row.volume)} mentions` : `${count(row.volume)} mentions`);
    if (week) sub.push(`week of ${fmtDay(week)}`);
    $("drill-sub").textContent = sub.length ? "· " + sub.join(" · ") : "";
    const neg = clear($("drill-neg")), pos = clear($("drill-pos"));
    neg.appendChild(el("p", { class: "none", text: "Loading…" }));
    pos.appendChild(el("p", { class: "none", text: "Loading…" }));
    box.classList.add("loading");
    box.scrollIntoView({ behavior: "smooth", block: "nearest" });
    const params = { ...filterParams(), touchpoint: label, limit: 8 * VERBATIMS };  // room to skip repeats
    if (week) {  // an alert: that week only, within the selected dates
      params.from = week;
      params.to = addDays(week, 7);
    }
    const mine = state.drill;
    try {
      const [n, p] = await Promise.all([api("verbatims", { ...params, polarity: "negative" }),
        api("verbatims", { ...params, polarity: "positive" })]);
      if (state.drill !== mine) return;
      for (const [target, res, pol] of [[neg, n, "negative"], [pos, p, "positive"]]) {
        clear(target);
        const items = distinct(res.verbatims || [], VERBATIMS);
        if (!items.length) target.appendChild(el("p", { class: "none", text: `No ${pol} mentions in this selection.` }));
        for (const v of items) target.appendChild(quote(v, EXCERPT));
      }
    } catch (err) {
      if (state.drill !== mine) return;
      clear(neg); clear(pos);
      showError(err);
    } finally {
      if (state.drill === mine) box.classList.remove("loading");
    }
  }

  function closeDrill() {
    state.drill = null;
    $("drill").hidden = true;
    for (const tr of document.querySelectorAll("#priority-table tbody tr.selected")) tr.classList.remove("selected");
  }

  // ------------------------------------------------------------------------------------------
  // filters in the address bar (shareable views; the key never goes there)

  const FIELDS = { from: "f-from", to: "f-to", channel: "f-channel", language: "f-language", kind: "f-kind",
                   segment: "f-segment", min_volume: "f-min" };

  function readUrl() {
    const q = new URLSearchParams(location.search);
    for (const [k, id] of Object.entries(FIELDS)) {
      const v = q.get(k);
      if (v === null) continue;
      const field = $(id);
      if (field.tagName === "SELECT" && !Array.from(field.options).some((o) => o.value === v)) {
        field.dataset.want = v;
        field.appendChild(el("option", { value: v, text: v }));
      }
      field.value = v;
    }
  }

  function writeUrl() {
    const q = new URLSearchParams();
    for (const [k, id] of Object.entries(FIELDS)) {
      const v = $(id).value;
      if (v && !(k === "kind" && v === "touchpoint")) q.set(k, v);
    }
    const s = q.toString();
    history.replaceState(null, "", location.pathname + (s ? "?" + s : ""));
  }

  // ------------------------------------------------------------------------------------------
  // wiring

  function init() {
    readUrl();
    $("api-key").value = apiKey();
    $("key-form").addEventListener("submit", (e) => {
      e.preventDefault();
      const k = $("api-key").value.trim();
      if (k) sessionStorage.setItem(KEY_STORE, k); else sessionStorage.removeItem(KEY_STORE);
      state.taxonomy = null;  // reload the model info and the filter choices with the new key
      refresh();
    });
    $("key-clear").addEventListener("click", () => {
      sessionStorage.removeItem(KEY_STORE);
      $("api-key").value = "";
      $("api-key").focus();
    });
    $("filters").addEventListener("submit", (e) => {
      e.preventDefault();
      writeUrl();
      refresh();
    });
    for (const id of ["f-channel", "f-language", "f-kind"]) {
      $(id).addEventListener("change", () => {
        if (id === "f-kind") closeDrill();
        writeUrl();
        refresh();
      });
    }
    $("f-reset").addEventListener("click", () => {
      $("filters").reset();
      for (const id of ["f-channel", "f-language"]) { delete $(id).dataset.want; $(id).value = ""; }
      closeDrill();
      writeUrl();
      refresh();
    });
    $("drill-close").addEventListener("click", closeDrill);
    refresh();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
